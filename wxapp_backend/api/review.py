"""The reviewer's side: the town's projects, category review, approve and return."""

from flask import g, jsonify, request

from models import Entry, Project
from models.account import ROLE_ADMIN, ROLE_OFFICIAL, ROLE_REVIEWER
from models.project import (
    DECISION_APPROVE,
    DECISION_RETURN,
    STATE_RETURNED,
    STATE_SUBMITTED,
    STATUS_APPROVED,
)
from models.scope import can_review, sees_full_id_numbers, visible_projects
from models.workflow import review_entry
from wxapp_backend.api import api_blueprint
from wxapp_backend.api.commit import entry_change
from wxapp_backend.api.projects import project_entry, readable_project
from wxapp_backend.api.queries import entry_state_filter, paginate, search_filter
from wxapp_backend.api.serializers import (
    entry_detail,
    mask_data,
    project_summary,
    review_dict,
    reviews_of,
    revision_dict,
    revision_diff,
)
from wxapp_backend.api.session import MAX_ROW_ID, json_body, login_required
from wxapp_backend.errors import ApiError

REVIEW_ROLES = (ROLE_REVIEWER, ROLE_OFFICIAL, ROLE_ADMIN)
LIST_FILTERS = ("pending", "returned", "approved")


@api_blueprint.get("/review/projects")
@login_required(*REVIEW_ROLES)
def review_projects():
    query = search_filter(visible_projects(g.user))
    chosen = request.args.get("filter")
    if chosen == "pending":
        query = entry_state_filter(query, STATE_SUBMITTED)
    elif chosen == "returned":
        query = entry_state_filter(query, STATE_RETURNED)
    elif chosen == "approved":
        query = query.filter(Project.status == STATUS_APPROVED)
    elif chosen:
        raise ApiError(
            400,
            "筛选条件无效",
            code="invalid_query",
            fields={"filter": "应为 " + " / ".join(LIST_FILTERS)},
        )
    rows, page = paginate(query)
    return jsonify({"projects": [project_summary(row) for row in rows], **page})


@api_blueprint.get("/review/projects/<int:project_id>/categories/<category>")
@login_required(*REVIEW_ROLES)
def review_category(project_id, category):
    """Return the entry, its current revision and the changes since approval."""
    project = readable_project(project_id)
    entry = project_entry(project, category)
    full = sees_full_id_numbers(g.user, project)
    current = entry.current_revision
    approved = entry.approved_revision
    changes = []
    if current is not None:
        before = approved.data if approved is not None else {}
        changes = revision_diff(category, before, current.data)
        if not full:
            changes = _mask_changes(category, changes)
    body = {
        "entry": entry_detail(entry, full),
        "revision": revision_dict(current),
        "revision_data": mask_data(category, current.data, full) if current else None,
        "approved_revision": revision_dict(approved),
        "changes": changes,
        "reviews": [review_dict(review) for review in reviews_of([entry.id])],
        "can_review": can_review(g.user, project) and entry.state == STATE_SUBMITTED,
    }
    return jsonify(body)


def _mask_changes(category, changes):
    masked = []
    for change in changes:
        before = mask_data(category, {change["key"]: change["before"]}, False)
        after = mask_data(category, {change["key"]: change["after"]}, False)
        masked.append(
            {**change, "before": before[change["key"]], "after": after[change["key"]]}
        )
    return masked


def _decide(project_id, category, decision):
    project = readable_project(project_id)
    if not can_review(g.user, project):
        raise ApiError(403, "只有本镇街复核人员可以复核")
    entry = project_entry(project, category)
    body = json_body(required=("revision_id",), optional=("opinion",))
    revision_id = body["revision_id"]
    if not isinstance(revision_id, int) or isinstance(revision_id, bool):
        raise ApiError(
            400,
            "revision_id应为整数",
            code="invalid_field",
            fields={"revision_id": "应为整数"},
        )
    opinion = body.get("opinion")
    if opinion is not None and not isinstance(opinion, str):
        raise ApiError(
            400,
            "复核意见应为文字",
            code="invalid_field",
            fields={"opinion": "应为文字"},
        )
    with entry_change(entry.id):
        review = review_entry(entry, revision_id, decision, opinion, g.user)
        # Serialized before the commit expires the rows; see save_category.
        result = {
            "review": review_dict(review),
            "entry": entry_detail(entry),
            "project": project_summary(project),
        }
    return jsonify(result)


@api_blueprint.post("/review/projects/<int:project_id>/categories/<category>/approve")
@login_required(ROLE_REVIEWER, ROLE_ADMIN)
def approve_category(project_id, category):
    return _decide(project_id, category, DECISION_APPROVE)


@api_blueprint.post("/review/projects/<int:project_id>/categories/<category>/return")
@login_required(ROLE_REVIEWER, ROLE_ADMIN)
def return_category(project_id, category):
    return _decide(project_id, category, DECISION_RETURN)


@api_blueprint.get("/review/next-pending")
@login_required(*REVIEW_ROLES)
def next_pending():
    """Return the oldest pending entry in the user's scope, skipping the current one."""
    query = (
        Entry.query.join(Project)
        .filter(Entry.state == STATE_SUBMITTED)
        .order_by(Entry.submitted_at, Entry.id)
    )
    query = visible_projects(g.user, query)
    skip = request.args.get("after_entry", type=int)
    if skip and 0 < skip <= MAX_ROW_ID:
        query = query.filter(Entry.id != skip)
    entry = query.first()
    if entry is None:
        return jsonify({"next": None})
    return jsonify(
        {
            "next": {
                "project_id": entry.project_id,
                "category": entry.category,
                "entry_id": entry.id,
                "project_name": entry.project.name,
            }
        }
    )
