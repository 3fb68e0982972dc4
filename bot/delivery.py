"""Template messages through the outbox: queue a row, then deliver it once.

``queue_delivery`` writes a ``Delivery`` row under a unique ``dedupe_key``
before anything is sent. ``deliver`` makes one send attempt for a row with
WeChat's retry rules (``bot.sender``) and records the result on the row.
The ``TEMPLATESENDJOBFINISH`` event later sets ``final_status``. Scheduling,
fan-out and rate limits belong to the caller (the ``jobs`` package).
"""

import hashlib
import logging
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from bot.errors import WeChatError
from bot.sender import (
    FAILED_LOUD,
    FAILED_LOUD_ERRCODES,
    MAX_SEND_ATTEMPTS,
    RETRY_LATER,
    SENT,
    UNREACHABLE,
    backoff_seconds,
    send_with_policy,
)
from bot.web import wechat_services
from models import CallbackReceipt, Delivery, db, utcnow
from models.delivery import (
    DELIVERY_FAILED,
    DELIVERY_QUEUED,
    DELIVERY_RETRY,
    DELIVERY_SENT,
    DELIVERY_SKIPPED,
    DELIVERY_UNREACHABLE,
)

logger = logging.getLogger(__name__)

SKIP_NOT_BOUND = "未绑定服务号"
SKIP_NOT_FOLLOWING = "已取消关注服务号"

_DEDUPE_KEY_LENGTH = Delivery.dedupe_key.type.length
_PAGEPATH_LENGTH = Delivery.pagepath.type.length
_ERROR_LENGTH = Delivery.last_error.type.length
_FINAL_STATUS_LENGTH = Delivery.final_status.type.length


class DeliveryStopped(WeChatError):
    """A send failed in a way that every other send of the batch would repeat.

    The row is already recorded as failed. ``errcode`` is WeChat's code.
    """

    def __init__(self, delivery_id, errcode, errmsg):
        super().__init__(
            f"delivery {delivery_id} stopped errcode={errcode} errmsg={errmsg}"
        )
        self.delivery_id = delivery_id
        self.errcode = errcode
        self.errmsg = errmsg


class TemplateRejected(DeliveryStopped):
    """WeChat rejected the template (40037) or a field value (47003)."""


class CredentialsRejected(DeliveryStopped):
    """No access token could be had for a reason retries cannot fix.

    40125 (invalid app secret) and 40164 (server IP not in the allow list)
    are examples.
    """


def queue_delivery(kind, user, template_kind, values, pagepath, dedupe_key):
    """Add the outbox row of one template message and return it.

    ``values`` maps each field key of ``template_kind`` to its text. The
    values are checked against WeChat's field rules first, so a bad value
    raises ``TemplateFieldError`` before any row exists. When a row with
    ``dedupe_key`` exists, it is returned and nothing is created. A user
    who is not bound or does not follow gets a row with status
    ``skipped``. The row is flushed but not committed, so the caller
    commits it together with its own changes.
    """
    if len(dedupe_key) > _DEDUPE_KEY_LENGTH:
        raise ValueError(f"dedupe_key is longer than {_DEDUPE_KEY_LENGTH}")
    if pagepath and len(pagepath) > _PAGEPATH_LENGTH:
        raise ValueError(f"pagepath is longer than {_PAGEPATH_LENGTH}")
    templates = wechat_services().templates
    data = templates.build_template_data(template_kind, values)

    existing = _find(dedupe_key)
    if existing is not None:
        return existing
    delivery = Delivery(
        dedupe_key=dedupe_key,
        kind=kind,
        user_id=user.id,
        openid=user.service_openid,
        template_kind=template_kind,
        template_id=templates.get(template_kind).template_id,
        payload=data,
        pagepath=pagepath,
        client_msg_id=client_msg_id_for(dedupe_key),
        status=DELIVERY_QUEUED,
        attempts=0,
    )
    _skip_if_unreachable(delivery, user)
    return _insert(delivery)


def client_msg_id_for(dedupe_key):
    """Return the ``client_msg_id`` of a row: a digest of its dedupe key.

    WeChat sends one message per openid and client_msg_id (for at least 10
    minutes), so a repeated send of the same row is dropped by WeChat.
    """
    return hashlib.sha256(dedupe_key.encode()).hexdigest()[:32]


def _find(dedupe_key):
    return Delivery.query.filter_by(dedupe_key=dedupe_key).one_or_none()


def _insert(delivery):
    """Insert ``delivery``, or return the row a concurrent caller inserted first.

    The insert runs in a savepoint, so losing that race rolls back only the
    insert and keeps the caller's other changes.
    """
    try:
        with db.session.begin_nested():
            db.session.add(delivery)
    except IntegrityError:
        logger.info("Delivery already queued dedupe_key=%s", delivery.dedupe_key)
        return _find(delivery.dedupe_key)
    logger.info(
        "Delivery queued delivery_id=%s kind=%s user_id=%s status=%s",
        delivery.id,
        delivery.kind,
        delivery.user_id,
        delivery.status,
    )
    return delivery


def _skip_if_unreachable(delivery, user):
    """Mark ``delivery`` skipped and return True when ``user`` cannot receive it."""
    if user is None or not user.service_openid:
        reason = SKIP_NOT_BOUND
    elif not user.reachable:
        reason = SKIP_NOT_FOLLOWING
    else:
        return False
    delivery.status = DELIVERY_SKIPPED
    delivery.last_error = reason
    delivery.next_attempt_at = None
    return True


def deliver(delivery_id, now=None):
    """Make one send attempt for a queued or retry row and return its new status.

    A row in any other status (sent, failed, unreachable, skipped) is not
    sent again and its status is returned, so a worker that was killed and
    runs the job again cannot send twice. A retry row whose
    ``next_attempt_at`` is still ahead is left as it is. If a worker dies
    after WeChat accepted the send but before the commit, the rerun sends
    the same ``client_msg_id`` and WeChat drops the repeat.

    Commits the row. Raises ``TemplateRejected`` or ``CredentialsRejected``
    after recording ``failed`` when the rest of a batch would fail too.
    """
    now = now or utcnow()
    delivery = _lock_row(delivery_id)
    if not _is_due(delivery, now):
        db.session.commit()
        return delivery.status
    if _skip_if_unreachable(delivery, delivery.user):
        delivery.updated_at = now
        db.session.commit()
        logger.info(
            "Delivery skipped delivery_id=%s reason=%s",
            delivery.id,
            delivery.last_error,
        )
        return delivery.status

    outcome = _send(delivery)
    _record_outcome(delivery, outcome, now)
    db.session.commit()
    if outcome.status == FAILED_LOUD:
        raise _stopped(delivery, outcome)
    return delivery.status


def _lock_row(delivery_id):
    # FOR UPDATE keeps two workers from sending one row at the same time on
    # PostgreSQL. SQLite has no row locks, so there the client_msg_id is
    # what stops a double send.
    delivery = db.session.get(
        Delivery, delivery_id, with_for_update=True, populate_existing=True
    )
    if delivery is None:
        raise LookupError(f"delivery {delivery_id} not found")
    return delivery


def _is_due(delivery, now):
    if delivery.status not in (DELIVERY_QUEUED, DELIVERY_RETRY):
        logger.info(
            "Delivery not sent again delivery_id=%s status=%s",
            delivery.id,
            delivery.status,
        )
        return False
    if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
        logger.info("Delivery not due yet delivery_id=%s", delivery.id)
        return False
    return True


def _send(delivery):
    services = wechat_services()
    # The user may have bound a new openid since the row was queued.
    delivery.openid = delivery.user.service_openid
    return send_with_policy(
        services.client,
        services.token_store,
        delivery.openid,
        delivery.template_id,
        delivery.payload,
        miniprogram_appid=services.miniprogram_appid,
        pagepath=delivery.pagepath,
        client_msg_id=delivery.client_msg_id,
    )


def _record_outcome(delivery, outcome, now):
    delivery.attempts += 1
    delivery.updated_at = now
    delivery.last_errcode = outcome.errcode
    delivery.last_error = (outcome.errmsg or "")[:_ERROR_LENGTH] or None
    delivery.next_attempt_at = None

    if outcome.status == SENT:
        _record_sent(delivery, outcome.msgid, now)
    elif outcome.status == RETRY_LATER:
        _record_retry(delivery, now)
    elif outcome.status == UNREACHABLE:
        delivery.status = DELIVERY_UNREACHABLE
        delivery.user.reachable = False
    else:
        delivery.status = DELIVERY_FAILED
    logger.info(
        "Delivery attempt recorded delivery_id=%s status=%s attempts=%s errcode=%s",
        delivery.id,
        delivery.status,
        delivery.attempts,
        delivery.last_errcode,
    )


def _record_sent(delivery, msgid, now):
    delivery.status = DELIVERY_SENT
    delivery.sent_at = now
    delivery.wechat_msgid = str(msgid) if msgid is not None else None
    if delivery.wechat_msgid:
        _apply_early_job_result(delivery)


def _record_retry(delivery, now):
    if delivery.attempts >= MAX_SEND_ATTEMPTS:
        delivery.status = DELIVERY_FAILED
        logger.warning(
            "Delivery gave up delivery_id=%s attempts=%s",
            delivery.id,
            delivery.attempts,
        )
        return
    delivery.status = DELIVERY_RETRY
    delay = backoff_seconds(delivery.attempts)
    delivery.next_attempt_at = now + timedelta(seconds=delay)


def _stopped(delivery, outcome):
    if outcome.errcode in FAILED_LOUD_ERRCODES:
        error_class = TemplateRejected
    else:
        error_class = CredentialsRejected
    return error_class(delivery.id, outcome.errcode, outcome.errmsg)


def record_job_result(msgid, status, receipt=None, now=None):
    """Store WeChat's final send status (TEMPLATESENDJOBFINISH) on its row.

    ``status`` is kept as WeChat sent it: ``success``, ``failed:user
    block``, ``failed: system failed`` or any other ``failed:...``. The
    event can arrive before ``deliver`` has committed the msgid; then the
    result waits on ``receipt`` and ``deliver`` applies it. The caller
    commits.
    """
    msgid = str(msgid)
    status = status[:_FINAL_STATUS_LENGTH]
    delivery = Delivery.query.filter_by(wechat_msgid=msgid).first()
    if delivery is not None:
        delivery.final_status = status
        delivery.updated_at = now or utcnow()
        logger.info(
            "Template job result delivery_id=%s final_status=%s", delivery.id, status
        )
        return delivery

    logger.info("Template job result before its send was recorded msgid=%s", msgid)
    if receipt is not None:
        receipt.template_msgid = msgid
        receipt.template_status = status
    return None


def _apply_early_job_result(delivery):
    receipt = (
        CallbackReceipt.query.filter_by(template_msgid=delivery.wechat_msgid)
        .order_by(CallbackReceipt.id.desc())
        .first()
    )
    if receipt is not None:
        delivery.final_status = receipt.template_status
