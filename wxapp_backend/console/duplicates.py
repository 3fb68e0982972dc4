"""Likely duplicate projects: candidate pairs and the reviewer's decision.

Two projects of one town are a candidate pair when their folded names
(``Project.name_key``) or folded addresses (``Project.address_key``) are
equal. A reviewer of the town (or an admin) either confirms they are
different projects, or marks one as the duplicate of the other. A marked
duplicate drops out of every count in ``models.progress``. Each
decision is stored once per pair and is an audit event on both projects.
"""

import logging

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import and_, case, exists, or_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from models import DuplicateDecision, Project, Town, db
from models.account import ROLE_ADMIN, ROLE_REVIEWER
from models.audit import record
from models.console import DECISION_DISTINCT, DECISION_DUPLICATE
from wxapp_backend.console import console_blueprint
from wxapp_backend.console.access import console_login_required, town_scope
from wxapp_backend.console.pages import paginate

logger = logging.getLogger(__name__)

REASON_LABELS = {
    "both": "名称和地址均相同",
    "name": "名称相同",
    "address": "地址相同",
}
RECENT_DECISIONS = 20


def candidate_pairs(town_id=None):
    """Return a query of ``(first, second, same_name, same_address)`` pairs.

    ``first`` has the lower id. Pairs already decided, and projects already
    marked as a duplicate, are left out. ``town_id`` None means every town.
    """
    first, second = aliased(Project), aliased(Project)
    same_name = and_(first.name_key == second.name_key, first.name_key != "")
    same_address = and_(
        first.address_key == second.address_key, first.address_key != ""
    )
    decided = exists().where(
        DuplicateDecision.first_id == first.id, DuplicateDecision.second_id == second.id
    )
    query = db.session.query(
        first,
        second,
        case((same_name, 1), else_=0).label("same_name"),
        case((same_address, 1), else_=0).label("same_address"),
    ).join(second, and_(second.town_id == first.town_id, second.id > first.id))
    query = query.filter(
        or_(same_name, same_address),
        first.duplicate_of_id.is_(None),
        second.duplicate_of_id.is_(None),
        ~decided,
    )
    if town_id is not None:
        query = query.filter(first.town_id == town_id)
    return query, first, second


def reason_of(same_name, same_address):
    if same_name and same_address:
        return "both"
    return "name" if same_name else "address"


def can_decide(user, town_id):
    if user.role == ROLE_ADMIN:
        return True
    return user.role == ROLE_REVIEWER and user.town_id == town_id


@console_blueprint.get("/duplicates")
@console_login_required()
def duplicate_list():
    user = g.console_user
    scope = town_scope(user)
    town_id = scope if scope is not None else request.args.get("town", type=int)
    query, first, second = candidate_pairs(town_id)
    page = paginate(query, (first.town_id, first.id, second.id))
    pairs = [
        {
            "first": a,
            "second": b,
            "reason": REASON_LABELS[reason_of(name, address)],
            "can_decide": can_decide(user, a.town_id),
        }
        for a, b, name, address in page.items
    ]
    towns = Town.query.order_by(Town.sort_order)
    if scope is not None:
        towns = towns.filter(Town.id == scope)
    args = {"town": town_id} if town_id else {}
    return render_template(
        "console/duplicates.html",
        page=page,
        pairs=pairs,
        towns=towns.all(),
        town_id=town_id,
        recent=_recent_decisions(town_id),
        args=args,
    )


def _recent_decisions(town_id):
    query = DuplicateDecision.query.join(
        Project, Project.id == DuplicateDecision.first_id
    )
    if town_id is not None:
        query = query.filter(Project.town_id == town_id)
    return query.order_by(DuplicateDecision.id.desc()).limit(RECENT_DECISIONS).all()


@console_blueprint.post("/duplicates/decide")
@console_login_required(ROLE_REVIEWER, ROLE_ADMIN)
def duplicate_decide():
    user = g.console_user
    first, second = _pair_from_form()
    if not can_decide(user, first.town_id):
        abort(403)
    decision = request.form.get("decision")
    if decision == DECISION_DISTINCT:
        duplicate = None
    elif decision == DECISION_DUPLICATE:
        duplicate = _chosen_duplicate(first, second)
    else:
        abort(400)

    if not _save_decision(user, first, second, decision, duplicate):
        flash("这两个项目已经处理过，请刷新页面", "error")
        return redirect(url_for("console.duplicate_list"))
    if duplicate is None:
        flash(f"已确认“{first.name}”与“{second.name}”不是重复项目")
    else:
        flash(f"已将“{duplicate.name}”（#{duplicate.id}）标记为重复项目，不再计入统计")
    return redirect(url_for("console.duplicate_list", **_town_arg()))


def _town_arg():
    town = request.form.get("town", type=int)
    return {"town": town} if town else {}


def _pair_from_form():
    """Load the pair named by the form; 404 unless it is a candidate pair."""
    ids = sorted(
        (
            request.form.get("first_id", type=int) or 0,
            request.form.get("second_id", type=int) or 0,
        )
    )
    first, second = (db.session.get(Project, project_id) for project_id in ids)
    if first is None or second is None or first.id == second.id:
        abort(404)
    if first.town_id != second.town_id:
        abort(404)
    if first.name_key != second.name_key and first.address_key != second.address_key:
        abort(404)
    return first, second


def _chosen_duplicate(first, second):
    chosen = request.form.get("duplicate_id", type=int)
    if chosen not in (first.id, second.id):
        abort(400)
    return first if chosen == first.id else second


def _save_decision(user, first, second, decision, duplicate):
    """Store the decision and its audit events; return False if already decided."""
    if first.duplicate_of_id is not None or second.duplicate_of_id is not None:
        return False
    original = None
    if duplicate is not None:
        original = second if duplicate is first else first
        duplicate.duplicate_of_id = original.id
    db.session.add(
        DuplicateDecision(
            first_id=first.id,
            second_id=second.id,
            decision=decision,
            duplicate_id=duplicate.id if duplicate else None,
            decided_by_id=user.id,
        )
    )
    _record_decision(user, first, second, duplicate, original)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    logger.info(
        "duplicate decision first_id=%s second_id=%s decision=%s user_id=%s",
        first.id,
        second.id,
        decision,
        user.id,
    )
    return True


def _record_decision(user, first, second, duplicate, original):
    if duplicate is None:
        for project, other in ((first, second), (second, first)):
            record(
                user,
                "project",
                project.id,
                "not_duplicate",
                project_id=project.id,
                detail={"other_project_id": other.id},
            )
        return
    record(
        user,
        "project",
        duplicate.id,
        "mark_duplicate",
        project_id=duplicate.id,
        detail={"duplicate_of": original.id},
    )
    record(
        user,
        "project",
        original.id,
        "mark_duplicate",
        project_id=original.id,
        detail={"duplicate_project_id": duplicate.id},
    )
