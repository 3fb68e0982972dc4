"""A town's projects and one project's full history.

The history lists every revision of every category with what changed since
the revision before it, the reviews, and the audit events. Resident ID
numbers are shown in full only to admins and the town's reviewers.
"""

from flask import abort, g, render_template, request
from sqlalchemy import or_

from models import AuditEvent, Project, Review, Revision, Town, db
from models.project import PROJECT_STATUSES, STATE_LABELS, STATUS_LABELS
from models.scope import can_read, sees_full_id_numbers
from models.workflow import fold_key
from wxapp_backend.api.serializers import mask_data, revision_diff, schema
from wxapp_backend.console import console_blueprint
from wxapp_backend.console.access import console_login_required, town_scope
from wxapp_backend.console.pages import paginate

ACTION_LABELS = {
    "create": "创建项目",
    "save": "保存",
    "approve": "通过",
    "return": "退回",
    "mark_duplicate": "标记为重复项目",
    "not_duplicate": "确认不是重复项目",
}
SEARCH_MAX_LENGTH = 60


@console_blueprint.get("/projects")
@console_login_required()
def project_list():
    user = g.console_user
    scope = town_scope(user)
    towns = _visible_towns(scope)
    town_id = scope if scope is not None else request.args.get("town", type=int)
    query = Project.query
    if town_id is not None:
        query = query.filter(Project.town_id == town_id)
    query = _filter_status(_filter_search(query))
    page = paginate(query, (Project.updated_at.desc(), Project.id.desc()))
    return render_template(
        "console/projects.html",
        page=page,
        towns=towns,
        town_id=town_id,
        statuses=STATUS_LABELS,
        categories=[(key, schema().label(key)) for key in schema().category_keys],
        args=_list_args(town_id),
    )


def _visible_towns(scope):
    towns = Town.query.order_by(Town.sort_order)
    if scope is not None:
        towns = towns.filter(Town.id == scope)
    return towns.all()


def _filter_search(query):
    text = (request.args.get("q") or "").strip()[:SEARCH_MAX_LENGTH]
    key = fold_key(text).replace("%", "").replace("_", "")
    if not key:
        return query
    pattern = f"%{key}%"
    return query.filter(
        or_(Project.name_key.like(pattern), Project.address_key.like(pattern))
    )


def _filter_status(query):
    status = request.args.get("status")
    if status in PROJECT_STATUSES:
        query = query.filter(Project.status == status)
    return query


def _list_args(town_id):
    args = {
        key: request.args.get(key) for key in ("q", "status") if request.args.get(key)
    }
    if town_id is not None:
        args["town"] = town_id
    return args


@console_blueprint.get("/projects/<int:project_id>")
@console_login_required()
def project_history(project_id):
    project = db.session.get(Project, project_id)
    if project is None or not can_read(g.console_user, project):
        abort(404)
    full = sees_full_id_numbers(g.console_user, project)
    return render_template(
        "console/project_history.html",
        project=project,
        categories=[_category_history(entry, full) for entry in project.entries],
        events=_audit_events(project.id),
        action_labels=ACTION_LABELS,
        state_labels={**STATE_LABELS, **STATUS_LABELS},
        category_labels={key: schema().label(key) for key in schema().category_keys},
        full_id_numbers=full,
    )


def _category_history(entry, full):
    """Return the entry with its revisions, newest first, each with its changes."""
    revisions = (
        Revision.query.filter_by(entry_id=entry.id).order_by(Revision.number).all()
    )
    reviews = Review.query.filter_by(entry_id=entry.id).order_by(Review.id).all()
    history, before = [], {}
    for revision in revisions:
        changes = revision_diff(entry.category, before, revision.data)
        history.append(
            {
                "revision": revision,
                "changes": [
                    _masked_change(entry.category, change, full) for change in changes
                ],
                "reviews": [
                    review for review in reviews if review.revision_id == revision.id
                ],
            }
        )
        before = revision.data
    return {
        "entry": entry,
        "label": schema().label(entry.category),
        "fields": schema().fields(entry.category),
        "data": mask_data(entry.category, entry.data, full),
        "revisions": list(reversed(history)),
    }


def _masked_change(category, change, full):
    before = mask_data(category, {change["key"]: change["before"]}, full)
    after = mask_data(category, {change["key"]: change["after"]}, full)
    return {**change, "before": before[change["key"]], "after": after[change["key"]]}


def _audit_events(project_id):
    return (
        AuditEvent.query.filter_by(project_id=project_id)
        .order_by(AuditEvent.at, AuditEvent.id)
        .all()
    )
