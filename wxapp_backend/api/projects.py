"""Projects and category entries, as the staff who own them see them."""

from flask import g, jsonify

from models import Project, Town, db
from models.account import ROLE_STAFF
from models.scope import can_edit, can_read, sees_full_id_numbers, visible_projects
from models.workflow import create_project, find_duplicates, save_entry
from wxapp_backend.api import api_blueprint
from wxapp_backend.api.commit import entry_change
from wxapp_backend.api.files import file_exists_for
from wxapp_backend.api.queries import paginate, search_filter, status_filter
from wxapp_backend.api.serializers import (
    entry_detail,
    project_summary,
    review_dict,
    reviews_of,
    schema,
)
from wxapp_backend.api.session import get_row, json_body, login_required
from wxapp_backend.errors import ApiError


def readable_project(project_id):
    """Load a project the current user may read; anything else is a 404."""
    project = get_row(Project, project_id)
    if project is None or not can_read(g.user, project):
        raise ApiError(404, "项目不存在或无权查看")
    return project


def project_entry(project, category):
    entry = project.entry(category)
    if entry is None:
        raise ApiError(
            404,
            "信息分类不存在",
            code="not_found",
            fields={"category": "应为 " + " / ".join(schema().category_keys)},
        )
    return entry


@api_blueprint.get("/projects")
@login_required()
def list_projects():
    query = visible_projects(g.user)
    query = status_filter(search_filter(query))
    rows, page = paginate(query)
    return jsonify({"projects": [project_summary(row) for row in rows], **page})


@api_blueprint.post("/projects")
@login_required(ROLE_STAFF)
def add_project():
    body = json_body(required=("name", "address", "town_id"))
    town_id = body["town_id"]
    town = get_row(Town, town_id)
    if town is None or not town.active:
        raise ApiError(
            422,
            "请选择所属镇街",
            code="validation_failed",
            fields={"town_id": "所属镇街无效，请从列表中选择"},
        )
    name, address = body["name"], body["address"]
    if not isinstance(name, str) or not isinstance(address, str):
        raise ApiError(
            422,
            "项目名称和地址应为文字",
            code="validation_failed",
            fields={"name": "应为文字", "address": "应为文字"},
        )
    project = create_project(schema(), g.user, town, name, address)
    duplicates = find_duplicates(project)
    db.session.commit()
    body = project_summary(project)
    body["possible_duplicates"] = [
        {"id": other.id, "name": other.name, "address": other.address}
        for other in duplicates
        if other.owner_id == g.user.id
    ]
    body["duplicate_warning"] = bool(duplicates)
    return jsonify({"project": body}), 201


@api_blueprint.get("/projects/<int:project_id>")
@login_required()
def get_project(project_id):
    project = readable_project(project_id)
    return jsonify({"project": project_summary(project)})


@api_blueprint.get("/projects/<int:project_id>/categories/<category>")
@login_required()
def get_category(project_id, category):
    project = readable_project(project_id)
    entry = project_entry(project, category)
    full = sees_full_id_numbers(g.user, project)
    reviews = [review_dict(review) for review in reviews_of([entry.id])]
    return jsonify({"entry": entry_detail(entry, full), "reviews": reviews})


@api_blueprint.put("/projects/<int:project_id>/categories/<category>")
@login_required(ROLE_STAFF)
def save_category(project_id, category):
    project = readable_project(project_id)
    if not can_edit(g.user, project):
        raise ApiError(404, "项目不存在或无权查看")
    entry = project_entry(project, category)
    body = json_body(required=("version", "data"))
    if not isinstance(body["data"], dict):
        raise ApiError(
            400, "data应为对象", code="invalid_field", fields={"data": "应为对象"}
        )
    with entry_change(entry.id):
        save_entry(
            schema(),
            entry,
            body["data"],
            body["version"],
            g.user,
            file_exists=file_exists_for(g.user),
        )
        # Serialized before the commit expires the rows, which would cost
        # five more queries to load them again; a failed commit discards it.
        result = {"entry": entry_detail(entry), "project": project_summary(project)}
    return jsonify(result)


@api_blueprint.get("/projects/<int:project_id>/reviews")
@login_required()
def project_reviews(project_id):
    project = readable_project(project_id)
    reviews = reviews_of([entry.id for entry in project.entries])
    return jsonify({"reviews": [review_dict(review) for review in reviews]})
