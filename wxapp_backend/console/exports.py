"""Warehouse exports: choose scope, format and categories; follow the job; download.

Only approved data is exported. Admins export resident ID numbers in full;
everyone else gets them masked. Exports up to ``CONSOLE_EXPORT_SYNC_MAX``
rows are written during the request; larger ones run as an rq job while
the page shows a progress bar. Every export is an audit event.
"""

import logging

from flask import (
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from redis import RedisError

from jobs.export import enqueue_export, export_path, run_export
from models import ExportJob, Town, db
from models.account import ROLE_ADMIN
from models.audit import record
from models.console import EXPORT_DONE, EXPORT_FAILED, EXPORT_FORMATS
from wxapp_backend.api.serializers import schema
from wxapp_backend.console import console_blueprint
from wxapp_backend.console.access import console_login_required, town_scope
from wxapp_backend.console.pages import SHANGHAI
from wxapp_backend.console.warehouse import count_approved

logger = logging.getLogger(__name__)

RECENT_EXPORTS = 20
MIMETYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "application/zip",
}


@console_blueprint.get("/exports")
@console_login_required()
def export_list():
    user = g.console_user
    exports = ExportJob.query
    if user.role != ROLE_ADMIN:
        exports = exports.filter(ExportJob.requested_by_id == user.id)
    return render_template(
        "console/exports.html",
        towns=_choosable_towns(user),
        district=town_scope(user) is None,
        categories=[(key, schema().label(key)) for key in schema().category_keys],
        exports=exports.order_by(ExportJob.id.desc()).limit(RECENT_EXPORTS).all(),
        errors={},
    )


def _choosable_towns(user):
    towns = Town.query.order_by(Town.sort_order)
    scope = town_scope(user)
    if scope is not None:
        towns = towns.filter(Town.id == scope)
    return towns.all()


@console_blueprint.post("/exports")
@console_login_required()
def export_create():
    user = g.console_user
    town_id, file_format, categories = _export_choice(user)
    export = ExportJob(
        requested_by_id=user.id,
        town_id=town_id,
        file_format=file_format,
        categories=categories,
        full_id_numbers=user.role == ROLE_ADMIN,
        total=count_approved(categories, town_id),
    )
    db.session.add(export)
    db.session.flush()
    record(
        user,
        "export",
        export.id,
        "export",
        detail={
            "town_id": town_id,
            "format": file_format,
            "categories": categories,
            "rows": export.total,
            "full_id_numbers": export.full_id_numbers,
        },
    )
    db.session.commit()
    logger.info(
        "export requested export_id=%s user_id=%s rows=%s",
        export.id,
        user.id,
        export.total,
    )
    _start(export)
    return redirect(url_for("console.export_detail", export_id=export.id))


def _export_choice(user):
    """Read and check the form; abort 400 on a value the form cannot send."""
    scope = town_scope(user)
    town_text = request.form.get("town") or ""
    town_id = int(town_text) if town_text.isdigit() else None
    if town_id is not None and db.session.get(Town, town_id) is None:
        abort(400)
    if scope is not None and town_id != scope:
        abort(403)
    file_format = request.form.get("format")
    if file_format not in EXPORT_FORMATS:
        abort(400)
    chosen = set(request.form.getlist("category"))
    categories = [key for key in schema().category_keys if key in chosen]
    if not categories:
        abort(400)
    return town_id, file_format, categories


def _start(export):
    """Write a small export now; enqueue a large one for the worker."""
    if export.total <= current_app.config["CONSOLE_EXPORT_SYNC_MAX"]:
        try:
            run_export(export.id)
        except Exception:
            # run_export marked the row failed and logged the traceback; the
            # detail page shows the failure.
            db.session.rollback()
        return
    try:
        job = enqueue_export(export.id)
    except RedisError as exc:
        logger.error("export enqueue failed export_id=%s error=%s", export.id, exc)
        export.status = EXPORT_FAILED
        export.error = "任务队列暂不可用，请稍后重新导出"
        db.session.commit()
        return
    export.rq_job_id = job.id
    db.session.commit()


def _visible_export(export_id):
    export = db.session.get(ExportJob, export_id)
    user = g.console_user
    if export is None or (
        export.requested_by_id != user.id and user.role != ROLE_ADMIN
    ):
        abort(404)
    return export


@console_blueprint.get("/exports/<int:export_id>")
@console_login_required()
def export_detail(export_id):
    export = _visible_export(export_id)
    labels = [schema().label(key) for key in export.categories]
    return render_template(
        "console/export_detail.html", export=export, category_labels=labels
    )


@console_blueprint.get("/exports/<int:export_id>/status")
@console_login_required()
def export_status(export_id):
    export = _visible_export(export_id)
    return jsonify(
        {
            "status": export.status,
            "status_label": export.status_label,
            "done": export.done,
            "total": export.total,
            "percent": export.percent,
            "error": export.error,
            "download_url": url_for("console.export_download", export_id=export.id)
            if export.status == EXPORT_DONE
            else None,
        }
    )


@console_blueprint.get("/exports/<int:export_id>/download")
@console_login_required()
def export_download(export_id):
    export = _visible_export(export_id)
    path = export_path(export)
    if export.status != EXPORT_DONE or not path.exists():
        abort(404)
    return send_file(
        path,
        mimetype=MIMETYPES[export.file_format],
        as_attachment=True,
        download_name=download_name(export),
        max_age=0,
    )


def download_name(export):
    """Return the name the browser saves the file as: data, scope and Shanghai time."""
    scope = export.town.name if export.town else "全区"
    stamp = export.created_at.astimezone(SHANGHAI).strftime("%Y%m%d-%H%M")
    extension = "xlsx" if export.file_format == "xlsx" else "zip"
    return f"物业项目数据_{scope}_{stamp}.{extension}"
