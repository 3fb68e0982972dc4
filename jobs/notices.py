"""Return notices: the project's owner hears at once that a category came back.

``models.workflow`` sends ``entry_returned`` inside the review's transaction.
The receiver writes the outbox row in that same transaction, so the notice
exists exactly when the return does. Its send is enqueued only after the
commit: a job enqueued before could run before the row is visible, and a
rolled-back review must send nothing. If Redis is down at that moment the
row stays queued and the tick's sweep enqueues it later.
"""

import logging

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from bot.delivery import queue_delivery
from bot.errors import TemplateConfigError, TemplateFieldError
from bot.template_fields import cut_thing
from jobs.fanout import SENDABLE, enqueue_sends_quietly
from jobs.texts import local_time, phrase
from models import utcnow
from models.form_schema import load_schema

logger = logging.getLogger(__name__)

KIND = "return_notice"
# Session.info key of the outbox rows to enqueue once the session commits.
PENDING_KEY = "jobs.pending_deliveries"


def project_detail_page(project_id, category):
    return f"pages/project-detail/index?id={project_id}&category={category}"


def return_notice_values(entry, review, label):
    returned_at = entry.returned_at or review.created_at or utcnow()
    return {
        "thing1": cut_thing(entry.project.name),
        "phrase2": phrase(label),
        "thing3": cut_thing(review.opinion or "请查看复核意见"),
        "time4": local_time(returned_at),
    }


def on_entry_returned(entry, review=None, **_):
    """Queue the return notice of ``review`` to the owner of the entry's project.

    A notice whose values break WeChat's field rules (or whose template is
    missing from the templates file) is logged and dropped, so that it does
    not undo the reviewer's return.
    """
    if not has_app_context() or "jobs" not in current_app.extensions:
        return
    project = entry.project
    schema = load_schema(current_app.config["FORM_SCHEMA_FILE"])
    values = return_notice_values(entry, review, schema.label(entry.category))
    try:
        delivery = queue_delivery(
            KIND,
            project.owner,
            KIND,
            values,
            project_detail_page(project.id, entry.category),
            f"{KIND}:review-{review.id}:user-{project.owner_id}",
        )
    except (TemplateFieldError, TemplateConfigError):
        logger.exception(
            "Return notice not queued project=%s category=%s review=%s",
            project.id,
            entry.category,
            review.id,
        )
        return
    if delivery.status in SENDABLE:
        from models import db

        db.session.info.setdefault(PENDING_KEY, []).append(delivery.id)


def listen_for_commits():
    """Attach the commit hooks to every SQLAlchemy session, once per process."""
    hooks = (
        ("after_commit", _enqueue_after_commit),
        ("after_rollback", _forget_after_rollback),
    )
    for name, hook in hooks:
        if not event.contains(Session, name, hook):
            event.listen(Session, name, hook)


def _enqueue_after_commit(session):
    ids = session.info.pop(PENDING_KEY, None)
    if ids and has_app_context():
        enqueue_sends_quietly(ids)


def _forget_after_rollback(session):
    # A savepoint rollback (a duplicate outbox key) keeps the outer
    # transaction and its pending rows.
    if not session.in_nested_transaction():
        session.info.pop(PENDING_KEY, None)
