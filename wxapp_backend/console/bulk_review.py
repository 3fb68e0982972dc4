"""Bulk approval: a reviewer approves several submitted entries of their town at once.

Each entry still gets its own review and audit event through
``models.workflow.review_entry``. The form carries the revision id each row
showed, so an entry the staff changed after the page was rendered is
reported as changed and left pending, never approved unseen.
"""

import logging

from flask import g, render_template, request
from sqlalchemy.orm.exc import StaleDataError

from models import Entry, Project, db
from models.account import ROLE_REVIEWER
from models.project import DECISION_APPROVE, STATE_SUBMITTED
from models.workflow import OPINION_MAX_LENGTH, WorkflowError, review_entry
from wxapp_backend.api.serializers import schema
from wxapp_backend.console import console_blueprint
from wxapp_backend.console.access import console_login_required
from wxapp_backend.console.pages import paginate

logger = logging.getLogger(__name__)

MAX_ITEMS = 200


def _pending_query(user):
    query = Entry.query.join(Project, Entry.project_id == Project.id).filter(
        Project.town_id == user.town_id, Entry.state == STATE_SUBMITTED
    )
    category = request.args.get("category")
    if category in schema().category_keys:
        query = query.filter(Entry.category == category)
    return query


@console_blueprint.get("/review/bulk")
@console_login_required(ROLE_REVIEWER)
def bulk_review():
    user = g.console_user
    page = paginate(_pending_query(user), (Entry.submitted_at, Entry.id))
    args = (
        {"category": request.args["category"]} if request.args.get("category") else {}
    )
    return render_template(
        "console/bulk_review.html",
        page=page,
        categories=[(key, schema().label(key)) for key in schema().category_keys],
        args=args,
        opinion_max=OPINION_MAX_LENGTH,
    )


def parse_items(values):
    """Turn ``"<entry id>:<revision id>"`` form values into integer pairs."""
    pairs = []
    for value in values[:MAX_ITEMS]:
        entry_text, _, revision_text = value.partition(":")
        if entry_text.isdigit() and revision_text.isdigit():
            pairs.append((int(entry_text), int(revision_text)))
    return pairs


@console_blueprint.post("/review/bulk")
@console_login_required(ROLE_REVIEWER)
def bulk_approve():
    user = g.console_user
    items = parse_items(request.form.getlist("item"))
    opinion = (request.form.get("opinion") or "").strip()
    if not items or len(opinion) > OPINION_MAX_LENGTH:
        message = (
            "请至少选择一项"
            if not items
            else f"复核意见不能超过{OPINION_MAX_LENGTH}个字"
        )
        return render_template(
            "console/bulk_result.html", error=message, approved=[], skipped=[]
        ), 422

    approved, skipped = [], []
    for entry_id, revision_id in items:
        _approve_one(user, entry_id, revision_id, opinion, approved, skipped)
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        return render_template(
            "console/bulk_result.html",
            approved=[],
            skipped=[],
            error="有信息分类刚被他人修改，本次均未通过，请刷新页面后重试",
        ), 409
    logger.info(
        "bulk approve user_id=%s approved=%d skipped=%d",
        user.id,
        len(approved),
        len(skipped),
    )
    return render_template(
        "console/bulk_result.html", approved=approved, skipped=skipped, error=None
    )


def _approve_one(user, entry_id, revision_id, opinion, approved, skipped):
    """Approve one entry, or add it to ``skipped`` with the reason.

    ``review_entry`` checks the state and the revision before it changes
    anything, so a refused entry leaves the transaction untouched.
    """
    entry = db.session.get(Entry, entry_id)
    if entry is None or entry.project.town_id != user.town_id:
        skipped.append(
            {
                "entry_id": entry_id,
                "label": None,
                "project": None,
                "reason": "不存在或不属于本镇街",
            }
        )
        return
    item = {
        "entry_id": entry.id,
        "project": entry.project,
        "label": schema().label(entry.category),
    }
    try:
        review_entry(entry, revision_id, DECISION_APPROVE, opinion, user)
    except WorkflowError as exc:
        skipped.append({**item, "reason": exc.message})
        return
    approved.append(item)
