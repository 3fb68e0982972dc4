"""Upload and download of ID proof files."""

from flask import g, jsonify, request, send_file

from models import Project, UploadedFile, db
from models.account import ROLE_ADMIN, ROLE_REVIEWER
from wxapp_backend.api import api_blueprint
from wxapp_backend.api.session import get_row, login_required
from wxapp_backend.errors import ApiError
from wxapp_backend.uploads import store_upload, upload_path


@api_blueprint.post("/files")
@login_required()
def upload_file():
    upload = request.files.get("file")
    if upload is None:
        raise ApiError(
            400,
            "请选择要上传的文件",
            code="missing_fields",
            fields={"file": "缺少文件"},
        )
    row = store_upload(upload, owner=g.user)
    db.session.commit()
    return jsonify({"file": row.to_dict()}), 201


@api_blueprint.get("/files/<int:file_id>")
@login_required()
def download_file(file_id):
    row = get_row(UploadedFile, file_id)
    if row is None or not may_read_file(g.user, row):
        raise ApiError(404)
    return send_file(
        upload_path(row),
        mimetype=row.content_type,
        download_name=f"id-proof-{row.id}{upload_path(row).suffix}",
    )


def may_read_file(user, row):
    """Owners, admins and the reviewers of a town where the file is used."""
    if user.role == ROLE_ADMIN or row.owner_id == user.id:
        return True
    if user.role != ROLE_REVIEWER or row.owner_id is None:
        return False
    owner_in_town = Project.query.filter_by(
        owner_id=row.owner_id, town_id=user.town_id
    ).first()
    return owner_in_town is not None


def file_exists_for(user):
    """Return a checker telling whether ``user`` may put a file id in a form."""

    def exists(file_id):
        row = get_row(UploadedFile, file_id)
        return row is not None and row.owner_id == user.id

    return exists
