"""Reminders: reviewers with pending entries, staff near the deadline or with returns.

- 10:00, 14:00, 17:00: each reviewer of a town with pending entries gets the
  pending count and how long the oldest one has waited. Towns with nothing
  pending get nothing.
- 09:00, from three days before the deadline: staff whose projects are not
  all filled in get one reminder.
- 09:00: staff with an entry returned more than a day ago and not saved
  again get one reminder naming the project and category.
"""

from datetime import timedelta

from flask import current_app

from bot.template_fields import cut_thing
from jobs.messages import PlannedMessage
from jobs.texts import deadline_time, first_fitting, local_time, name_with_count, waited
from models import Entry, Project, User, db
from models.account import ROLE_REVIEWER
from models.form_schema import load_schema
from models.progress import oldest_pending, town_progress
from models.project import STATE_RETURNED, STATUS_FILLING

REVIEW_PAGE = "pages/review-list/index?filter=pending"
PROJECT_LIST_PAGE = "pages/project-list/index"
RETURN_AGE = timedelta(days=1)


def project_page(project_id, category=None):
    page = f"pages/project-detail/index?id={project_id}"
    return f"{page}&category={category}" if category else page


def plan_reviewer_reminders(slot, now, campaign):
    """Return one reminder per reviewer of each town with pending entries."""
    messages = []
    for progress in town_progress():
        if progress.pending == 0:
            continue
        oldest = oldest_pending(progress.town_id)
        wait = (now - oldest).total_seconds() if oldest is not None else 0
        values = {
            "thing1": cut_thing(progress.town_name),
            "number2": str(progress.pending),
            "thing3": f"已等待{waited(wait)}",
            "time4": local_time(now),
        }
        for reviewer in _reviewers(progress.town_id):
            messages.append(
                PlannedMessage(reviewer, "reminder", dict(values), REVIEW_PAGE)
            )
    return messages


def _reviewers(town_id):
    return (
        User.query.filter_by(role=ROLE_REVIEWER, town_id=town_id, disabled=False)
        .order_by(User.id)
        .all()
    )


def plan_deadline_reminders(slot, now, campaign):
    """Return one reminder per owner of projects still being filled in."""
    filling = (
        db.session.query(
            Project.owner_id.label("owner_id"),
            db.func.count(Project.id).label("count"),
            db.func.min(Project.id).label("first_id"),
        )
        .filter(Project.status == STATUS_FILLING, Project.duplicate_of_id.is_(None))
        .group_by(Project.owner_id)
        .subquery()
    )
    rows = (
        db.session.query(User, filling.c.count, filling.c.first_id, Project.name)
        .join(filling, filling.c.owner_id == User.id)
        .join(Project, Project.id == filling.c.first_id)
        .filter(User.disabled.is_(False))
        .order_by(User.id)
    )

    left = campaign.days_left(slot.day)
    task = (
        "今天截止，请补全未填写的信息分类"
        if left <= 0
        else f"请在{left}天内补全未填写的信息分类"
    )
    messages = []
    for owner, count, first_id, name in rows:
        values = {
            "thing1": name_with_count(name, count, "个项目"),
            "thing2": task,
            "time3": deadline_time(campaign.deadline),
        }
        page = project_page(first_id) if count == 1 else PROJECT_LIST_PAGE
        messages.append(PlannedMessage(owner, "staff_reminder", values, page))
    return messages


def plan_return_reminders(slot, now, campaign):
    """Return one reminder per owner of entries returned over a day ago."""
    rows = (
        db.session.query(User, Project.id, Project.name, Entry.category)
        .join(Project, Project.owner_id == User.id)
        .join(Entry, Entry.project_id == Project.id)
        .filter(
            Entry.state == STATE_RETURNED,
            Entry.returned_at <= now - RETURN_AGE,
            Project.duplicate_of_id.is_(None),
            User.disabled.is_(False),
        )
        .order_by(Entry.returned_at, Entry.id)
    )
    by_owner = {}
    for owner, project_id, name, category in rows:
        by_owner.setdefault(owner, []).append((project_id, name, category))
    schema = load_schema(current_app.config["FORM_SCHEMA_FILE"])

    messages = []
    for owner, returned in sorted(by_owner.items(), key=lambda item: item[0].id):
        project_id, name, category = returned[0]
        values = {
            "thing1": cut_thing(name),
            "thing2": _return_task(schema.label(category), len(returned)),
            "time3": deadline_time(campaign.deadline),
        }
        page = project_page(project_id, category)
        messages.append(PlannedMessage(owner, "staff_reminder", values, page))
    return messages


def _return_task(label, count):
    if count == 1:
        return first_fitting(f"{label}已退回，请修改后保存", f"{label}已退回")
    return first_fitting(
        f"{label}等{count}项已退回，请修改后保存", f"{label}等{count}项已退回"
    )
