"""Generate many projects fast, for load tests and benchmarks (``flask demo generate``).

Rows go in with multi-row INSERT statements, a few thousand projects at a
time, instead of through the workflow functions, and their new ids are read
back by unique values (project name, entry category). 90,000 projects took
34 seconds on SQLite on the benchmark machine (``benchmarks/README.md``).
The rows are shaped as the workflow would leave them: every submitted,
approved or returned entry has a revision, every decided one a review, and
each project's stored status is derived from its entries. The generator
assumes nobody else writes projects while it runs.
"""

import random
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import bindparam, insert, update

from models import Company, Entry, Project, Review, Revision, Town, User, db, utcnow
from models.account import ROLE_REVIEWER, ROLE_STAFF
from models.form_schema import load_schema
from models.project import (
    DECISION_APPROVE,
    DECISION_RETURN,
    STATE_APPROVED,
    STATE_DRAFT,
    STATE_EMPTY,
    STATE_RETURNED,
    STATE_SUBMITTED,
)
from models.town import load_district_file
from models.workflow import derive_status, fold_key
from wxapp_backend.demo.identity import make_credit_code, make_id_number, make_mobile
from wxapp_backend.demo.seed import (
    COMPANIES,
    ESTATE_PREFIXES,
    ESTATE_WORDS,
    OPINIONS,
    ROADS,
    STAFF_NAMES,
    _complete_data,
)

BATCH_SIZE = 2000
PROJECTS_PER_STAFF = 10
STAFF_PER_COMPANY = 5
# Share of entries in each state; the rest of each project follows from them.
STATE_WEIGHTS = {
    STATE_EMPTY: 10,
    STATE_DRAFT: 10,
    STATE_SUBMITTED: 25,
    STATE_APPROVED: 45,
    STATE_RETURNED: 10,
}
COMPLETENESS = {
    STATE_EMPTY: 0,
    STATE_DRAFT: 50,
    STATE_SUBMITTED: 100,
    STATE_APPROVED: 100,
    STATE_RETURNED: 100,
}
DECIDED = (STATE_APPROVED, STATE_RETURNED)
HAS_REVISION = (STATE_SUBMITTED, STATE_APPROVED, STATE_RETURNED)

# A Core UPDATE, because the ORM's bulk update insists on the version column.
_entries = Entry.__table__
_LINK_REVISIONS = (
    update(_entries)
    .where(_entries.c.id == bindparam("entry"))
    .values(
        current_revision_id=bindparam("current"),
        approved_revision_id=bindparam("approved"),
    )
)


@dataclass
class GenerateSummary:
    projects: int
    entries: int
    revisions: int
    reviews: int
    staff: int

    def __str__(self):
        return (
            f"generated {self.projects} projects, {self.entries} entries, "
            f"{self.revisions} revisions, {self.reviews} reviews for {self.staff} staff"
        )


def generate(count, seed=20261204, progress=None, batch_size=BATCH_SIZE):
    """Insert ``count`` projects with three entries each; return a ``GenerateSummary``.

    ``progress(n)`` is called after each committed batch of ``n`` projects.
    """
    # Runs on a database that already has projects continue from its last
    # project id, so names and credit codes do not repeat those of an
    # earlier run with the same seed.
    last_id = db.session.query(db.func.max(Project.id)).scalar() or 0
    rng = random.Random(f"{seed}:{last_id}")
    towns = _towns()
    reviewers = {town.id: _reviewer_of(town) for town in towns}
    staff = _create_staff(rng, max(1, count // PROJECTS_PER_STAFF))
    schema = load_schema(current_app.config["FORM_SCHEMA_FILE"])
    builder = BatchBuilder(rng, schema, towns, staff, reviewers, first_serial=last_id)

    summary = GenerateSummary(0, 0, 0, 0, len(staff))
    for start in range(0, count, batch_size):
        size = min(batch_size, count - start)
        builder.insert_batch(size, summary)
        db.session.commit()
        if progress is not None:
            progress(size)
    return summary


def _towns():
    towns = Town.query.filter_by(active=True).order_by(Town.sort_order).all()
    if not towns:
        load_district_file(current_app.config["DISTRICT_FILE"])
        towns = Town.query.filter_by(active=True).order_by(Town.sort_order).all()
    return towns


def _reviewer_of(town):
    reviewer = User.query.filter_by(role=ROLE_REVIEWER, town_id=town.id).first()
    if reviewer is None:
        reviewer = User(
            role=ROLE_REVIEWER,
            name=f"{town.name}复核员",
            username=f"generated_{town.slug}_reviewer",
            town=town,
        )
        db.session.add(reviewer)
        db.session.flush()
    return SimpleNamespace(id=reviewer.id)


def _create_staff(rng, number):
    """Bulk-insert ``number`` staff users and their companies; return namespaces."""
    before = db.session.query(db.func.max(User.id)).scalar() or 0
    company_rows = [
        {
            "name": f"{rng.choice(COMPANIES)}（{index + 1}）",
            "credit_code": make_credit_code(rng),
            "disabled": False,
            "created_at": utcnow(),
        }
        for index in range(max(1, number // STAFF_PER_COMPANY))
    ]
    db.session.execute(insert(Company.__table__), company_rows)
    codes = [row["credit_code"] for row in company_rows]
    company_ids = [
        company_id
        for (company_id,) in db.session.query(Company.id)
        .filter(Company.credit_code.in_(codes))
        .order_by(Company.id)
    ]
    user_rows = [
        {
            "role": ROLE_STAFF,
            "name": rng.choice(STAFF_NAMES),
            "mobile": make_mobile(rng),
            "id_number": make_id_number(rng),
            "company_id": company_ids[index % len(company_ids)],
            "reachable": False,
            "disabled": False,
            "must_change_password": False,
            "failed_logins": 0,
            "created_at": utcnow(),
        }
        for index in range(number)
    ]
    db.session.execute(insert(User.__table__), user_rows)
    users = (
        db.session.query(
            User.id,
            User.name,
            User.mobile,
            User.id_number,
            Company.name,
            Company.credit_code,
        )
        .join(Company, Company.id == User.company_id)
        .filter(User.id > before, User.role == ROLE_STAFF)
        .order_by(User.id)
    )
    return [
        SimpleNamespace(
            id=user_id,
            name=name,
            mobile=mobile,
            id_number=id_number,
            id_proof_file_id=None,
            company=SimpleNamespace(name=company_name, credit_code=credit_code),
        )
        for user_id, name, mobile, id_number, company_name, credit_code in users
    ]


class BatchBuilder:
    """Builds and inserts one batch of projects with entries, revisions and reviews."""

    def __init__(self, rng, schema, towns, staff, reviewers, first_serial=0):
        self.rng = rng
        self.schema = schema
        self.towns = towns
        self.staff = staff
        self.reviewers = reviewers
        self.now = utcnow()
        self.states = list(STATE_WEIGHTS)
        self.weights = list(STATE_WEIGHTS.values())
        self.serial = first_serial

    def insert_batch(self, size, summary):
        plans = [self._plan_project() for _ in range(size)]
        db.session.execute(insert(Project.__table__), [plan["row"] for plan in plans])
        names = [plan["row"]["name"] for plan in plans]
        project_ids = dict(
            db.session.query(Project.name, Project.id).filter(Project.name.in_(names))
        )

        entries = []
        for plan in plans:
            for entry in plan["entries"]:
                entry["row"]["project_id"] = project_ids[plan["row"]["name"]]
                entries.append(entry)
        db.session.execute(insert(Entry.__table__), [entry["row"] for entry in entries])
        entry_ids = {
            (project_id, category): entry_id
            for entry_id, project_id, category in db.session.query(
                Entry.id, Entry.project_id, Entry.category
            ).filter(Entry.project_id.in_(list(project_ids.values())))
        }
        for entry in entries:
            entry["entry_id"] = entry_ids[
                (entry["row"]["project_id"], entry["row"]["category"])
            ]

        revised = self._insert_revisions(entries)
        reviews = self._insert_reviews(revised)
        summary.projects += size
        summary.entries += len(entries)
        summary.revisions += len(revised)
        summary.reviews += reviews

    def _plan_project(self):
        self.serial += 1
        town = self.towns[self.serial % len(self.towns)]
        owner = self.staff[self.serial % len(self.staff)]
        name = (
            f"{town.name[:2]}{self.rng.choice(ESTATE_PREFIXES)}"
            f"{self.rng.choice(ESTATE_WORDS)}{self.serial}号"
        )
        address = (
            f"佛山市南海区{town.name}{self.rng.choice(ROADS)}"
            f"{self.rng.randrange(1, 300)}号{self.serial}"
        )
        states = self.rng.choices(
            self.states, self.weights, k=len(self.schema.category_keys)
        )
        project = SimpleNamespace(name=name, address=address)
        entries = [
            self._plan_entry(category, state, project, owner, town)
            for category, state in zip(self.schema.category_keys, states)
        ]
        created = self.now - timedelta(days=self.rng.randrange(1, 20))
        row = {
            "town_id": town.id,
            "owner_id": owner.id,
            "company_id": None,
            "name": name,
            "address": address,
            "name_key": fold_key(name),
            "address_key": fold_key(address),
            "status": derive_status([SimpleNamespace(state=state) for state in states]),
            "created_at": created,
            "updated_at": created,
        }
        return {"row": row, "entries": entries}

    def _plan_entry(self, category, state, project, owner, town):
        data = {}
        if state != STATE_EMPTY:
            data = _complete_data(category, self.rng, project, owner)
            if category == "basic":
                data["town"] = town.name
            if state == STATE_DRAFT:
                data = dict(list(data.items())[: len(data) // 2])
        elif category == "basic":
            data = {"project_name": project.name, "address": project.address}
        submitted = self.now - timedelta(hours=self.rng.randrange(2, 240))
        decided = submitted + timedelta(hours=self.rng.randrange(1, 24))
        row = {
            "category": category,
            "state": state,
            "data": data,
            "version": 0 if state == STATE_EMPTY else 1,
            "completeness": COMPLETENESS[state],
            "submitted_at": submitted if state in HAS_REVISION else None,
            "approved_at": decided if state == STATE_APPROVED else None,
            "returned_at": decided if state == STATE_RETURNED else None,
            "last_opinion": self.rng.choice(OPINIONS)
            if state == STATE_RETURNED
            else None,
            "updated_at": decided if state in DECIDED else submitted,
            "updated_by_id": owner.id,
        }
        return {
            "row": row,
            "state": state,
            "owner": owner,
            "town_id": town.id,
            "submitted": submitted,
            "decided": decided,
        }

    def _insert_revisions(self, entries):
        revised = [entry for entry in entries if entry["state"] in HAS_REVISION]
        rows = [
            {
                "entry_id": entry["entry_id"],
                "number": 1,
                "data": entry["row"]["data"],
                "created_at": entry["submitted"],
                "created_by_id": entry["owner"].id,
            }
            for entry in revised
        ]
        if not rows:
            return []
        db.session.execute(insert(Revision.__table__), rows)
        revision_ids = dict(
            db.session.query(Revision.entry_id, Revision.id).filter(
                Revision.entry_id.in_([entry["entry_id"] for entry in revised])
            )
        )
        links = []
        for entry in revised:
            entry["revision_id"] = revision_ids[entry["entry_id"]]
            approved = (
                entry["revision_id"] if entry["state"] == STATE_APPROVED else None
            )
            links.append(
                {
                    "entry": entry["entry_id"],
                    "current": entry["revision_id"],
                    "approved": approved,
                }
            )
        db.session.execute(_LINK_REVISIONS, links)
        return revised

    def _insert_reviews(self, revised):
        rows = [
            {
                "entry_id": entry["entry_id"],
                "revision_id": entry["revision_id"],
                "decision": DECISION_APPROVE
                if entry["state"] == STATE_APPROVED
                else DECISION_RETURN,
                "opinion": entry["row"]["last_opinion"] or "信息核对无误",
                "reviewer_id": self.reviewers[entry["town_id"]].id,
                "created_at": entry["decided"],
            }
            for entry in revised
            if entry["state"] in DECIDED
        ]
        if rows:
            db.session.execute(insert(Review.__table__), rows)
        return len(rows)
