"""Project list queries shared by the staff and reviewer lists."""

from flask import request
from sqlalchemy import or_
from sqlalchemy.orm import joinedload

from models import Entry, Project
from models.project import PROJECT_STATUSES
from models.workflow import fold_key
from wxapp_backend.api.session import page_arguments
from wxapp_backend.errors import ApiError


def search_filter(query):
    """Apply ``q``: a substring of the folded project name or address."""
    text = (request.args.get("q") or "").strip()
    if not text:
        return query
    if len(text) > 60:
        raise ApiError(
            400, "搜索内容过长", code="invalid_query", fields={"q": "不能超过60个字"}
        )
    key = "%" + fold_key(text).replace("%", "").replace("_", "") + "%"
    return query.filter(or_(Project.name_key.like(key), Project.address_key.like(key)))


def status_filter(query):
    status = request.args.get("status")
    if not status:
        return query
    if status not in PROJECT_STATUSES:
        raise ApiError(
            400,
            "状态筛选无效",
            code="invalid_query",
            fields={"status": "应为 " + " / ".join(PROJECT_STATUSES)},
        )
    return query.filter(Project.status == status)


def entry_state_filter(query, state):
    """Keep projects with at least one entry in ``state``."""
    has_state = Entry.query.filter(
        Entry.project_id == Project.id, Entry.state == state
    ).exists()
    return query.filter(has_state)


# A list shows each project's town, company and category summaries: load
# them in the page's own query, and leave out the entries' form data, which
# only the category pages need.
LIST_LOAD_OPTIONS = (
    joinedload(Project.town),
    joinedload(Project.company),
    joinedload(Project.entries).defer(Entry.data),
)


def paginate(query):
    page, size = page_arguments()
    total = query.order_by(None).count()
    rows = (
        query.options(*LIST_LOAD_OPTIONS)
        .order_by(Project.updated_at.desc(), Project.id.desc())
        .limit(size)
        .offset((page - 1) * size)
        .all()
    )
    return rows, {"page": page, "per_page": size, "total": total}
