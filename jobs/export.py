"""The warehouse export job: write one ``ExportJob``'s file, reporting progress.

The console runs small exports in the request and enqueues large ones on
the package's rq queue. Either way ``run_export`` does the work inside an
app context (the worker class pushes it for rq jobs). It records progress
on the row after each batch so the console's progress bar can poll it, and
it raises on failure after marking the row failed, so rq records the error.
"""

import logging
import os
from pathlib import Path

from flask import current_app

from jobs.queues import get_queue
from models import ExportJob, db, utcnow
from models.console import EXPORT_DONE, EXPORT_FAILED, EXPORT_RUNNING
from models.form_schema import load_schema
from wxapp_backend.console.warehouse import write_csv_zip, write_xlsx

logger = logging.getLogger(__name__)

# An export of the whole district (100,000 projects) takes minutes; the
# timeout only stops a job that hangs.
EXPORT_TIMEOUT_SECONDS = 3600
EXPORT_RESULT_SECONDS = 24 * 3600
WRITERS = {"xlsx": write_xlsx, "csv": write_csv_zip}
EXTENSIONS = {"xlsx": "xlsx", "csv": "zip"}


def export_path(export):
    """Return where the file of ``export`` is stored, under ``EXPORT_DIR``."""
    name = f"export-{export.id}.{EXTENSIONS[export.file_format]}"
    return Path(current_app.config["EXPORT_DIR"]) / name


def enqueue_export(export_id):
    """Enqueue ``run_export`` for ``export_id``; return the rq job.

    Raises ``redis.RedisError`` when Redis is down.
    """
    return get_queue().enqueue(
        run_export,
        export_id,
        job_id=f"export-{export_id}",
        job_timeout=EXPORT_TIMEOUT_SECONDS,
        result_ttl=EXPORT_RESULT_SECONDS,
        description=f"warehouse export {export_id}",
    )


def run_export(export_id):
    """Write the export file of ``ExportJob`` ``export_id``; an rq job.

    Returns the file name. A row already done is left as it is, so a job
    that rq runs twice writes the file once.
    """
    export = db.session.get(ExportJob, export_id)
    if export is None:
        raise LookupError(f"export job {export_id} not found")
    if export.status == EXPORT_DONE:
        return export.file_name
    _start(export)
    try:
        path = _write(export)
    except Exception:
        db.session.rollback()
        _fail(export_id)
        raise
    _finish(export, path)
    return export.file_name


def _start(export):
    export.status = EXPORT_RUNNING
    export.started_at = utcnow()
    export.done = 0
    db.session.commit()
    logger.info(
        "Export started export_id=%s format=%s town_id=%s total=%s",
        export.id,
        export.file_format,
        export.town_id,
        export.total,
    )


def _write(export):
    """Write to a temporary name, then rename, so no half file is ever served."""
    path = export_path(export)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = _partial_path(path)
    schema = load_schema(current_app.config["FORM_SCHEMA_FILE"])
    writer = WRITERS[export.file_format]

    def progress(rows):
        export.done += rows
        db.session.commit()

    writer(
        partial,
        schema,
        list(export.categories),
        export.town_id,
        export.full_id_numbers,
        progress,
    )
    os.replace(partial, path)
    return path


def _partial_path(path):
    return path.with_name(path.name + ".part")


def _finish(export, path):
    export.status = EXPORT_DONE
    export.file_name = path.name
    export.file_size = path.stat().st_size
    export.finished_at = utcnow()
    db.session.commit()
    logger.info(
        "Export done export_id=%s rows=%s bytes=%s",
        export.id,
        export.done,
        export.file_size,
    )


def _fail(export_id):
    logger.exception("Export failed export_id=%s", export_id)
    export = db.session.get(ExportJob, export_id)
    _partial_path(export_path(export)).unlink(missing_ok=True)
    export.status = EXPORT_FAILED
    export.error = "导出失败，请重新导出；如仍失败请联系管理员"
    export.finished_at = utcnow()
    db.session.commit()
