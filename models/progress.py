"""Collection progress numbers, defined once for the digest and the console.

Definitions (also in the README glossary), over projects not marked as a
duplicate of another:

- 项目数 (projects): projects registered in the town.
- 待复核 (pending): category entries in state ``submitted``.
- 已复核 (reviewed): entries a reviewer has decided, state ``approved`` or
  ``returned``.
- 已提交 (submitted): entries submitted at least once and not back in
  draft, i.e. 待复核 + 已复核.
- 已通过 / 已退回: the two parts of 已复核.
"""

from dataclasses import asdict, dataclass

from sqlalchemy import case, func

from models.base import db
from models.project import (
    STATE_APPROVED,
    STATE_RETURNED,
    STATE_SUBMITTED,
    Entry,
    Project,
)
from models.town import Town


@dataclass
class Progress:
    town_id: int | None
    town_name: str
    projects: int = 0
    submitted: int = 0
    reviewed: int = 0
    pending: int = 0
    approved: int = 0
    returned: int = 0

    def as_dict(self):
        return asdict(self)


def _count_state(*states):
    return func.coalesce(func.sum(case((Entry.state.in_(states), 1), else_=0)), 0)


def town_progress(town_ids=None):
    """Return a ``Progress`` per active town (all towns unless ``town_ids``).

    Two grouped queries, whatever the number of projects: memory does not
    grow with the data.
    """
    towns = Town.query.filter_by(active=True).order_by(Town.sort_order)
    if town_ids is not None:
        towns = towns.filter(Town.id.in_(list(town_ids)))
    result = {town.id: Progress(town.id, town.name) for town in towns}

    counted = Project.duplicate_of_id.is_(None)
    project_rows = (
        db.session.query(Project.town_id, func.count(Project.id))
        .filter(counted)
        .group_by(Project.town_id)
    )
    for town_id, count in project_rows:
        if town_id in result:
            result[town_id].projects = count

    entry_rows = (
        db.session.query(
            Project.town_id,
            _count_state(STATE_SUBMITTED),
            _count_state(STATE_APPROVED),
            _count_state(STATE_RETURNED),
        )
        .join(Entry, Entry.project_id == Project.id)
        .filter(counted)
        .group_by(Project.town_id)
    )
    for town_id, pending, approved, returned in entry_rows:
        if town_id in result:
            _fill(result[town_id], int(pending), int(approved), int(returned))
    return list(result.values())


def _fill(progress, pending, approved, returned):
    progress.pending = pending
    progress.approved = approved
    progress.returned = returned
    progress.reviewed = approved + returned
    progress.submitted = pending + approved + returned


def district_total(rows, name):
    """Sum per-town rows into one district row named ``name``."""
    total = Progress(None, name)
    for row in rows:
        for key in (
            "projects",
            "submitted",
            "reviewed",
            "pending",
            "approved",
            "returned",
        ):
            setattr(total, key, getattr(total, key) + getattr(row, key))
    return total


def oldest_pending(town_id):
    """Submission time of the town's oldest pending entry, or None."""
    return (
        db.session.query(func.min(Entry.submitted_at))
        .join(Project, Entry.project_id == Project.id)
        .filter(
            Project.town_id == town_id,
            Entry.state == STATE_SUBMITTED,
            Project.duplicate_of_id.is_(None),
        )
        .scalar()
    )
