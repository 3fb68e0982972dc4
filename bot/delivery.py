"""Template messages through the outbox: queue a row, then deliver it once.

``queue_delivery`` writes a ``Delivery`` row under a unique ``dedupe_key``
before anything is sent. ``deliver`` makes one send attempt for a row with
WeChat's retry rules (``bot.sender``) and records the result on the row.
For many rows at once, ``load_outgoing`` reads the due ones, ``send_outgoing``
sends one (no database access, so threads may call it) and
``record_outcomes`` writes a group of results in one transaction; the same
``outcome_changes`` decides the new column values on both paths. The
``TEMPLATESENDJOBFINISH`` event later sets ``final_status``. Scheduling,
fan-out and rate limits belong to the caller (the ``jobs`` package).
"""

import hashlib
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, or_, select, update
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
from models import CallbackReceipt, Delivery, User, db, utcnow
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


SENDABLE = (DELIVERY_QUEUED, DELIVERY_RETRY)


@dataclass(frozen=True)
class Outgoing:
    """One due row and its recipient as plain values, safe to hand to threads."""

    id: int
    user_id: int
    openid: str
    template_id: str
    payload: dict
    pagepath: str | None
    client_msg_id: str
    attempts: int


def _skip_reason(openid, reachable):
    """Return why a user cannot receive a message now, or None when they can."""
    if not openid:
        return SKIP_NOT_BOUND
    if not reachable:
        return SKIP_NOT_FOLLOWING
    return None


def _skip_if_unreachable(delivery, user):
    """Mark ``delivery`` skipped and return True when ``user`` cannot receive it."""
    if user is None:
        reason = SKIP_NOT_BOUND
    else:
        reason = _skip_reason(user.service_openid, user.reachable)
    if reason is None:
        return False
    delivery.status = DELIVERY_SKIPPED
    delivery.last_error = reason
    delivery.next_attempt_at = None
    return True


def deliver(delivery_id, now=None):
    """Make one send attempt for a queued or retry row and return its status after.

    The steps of a send chunk (``jobs.fanout``) for one row, without its
    threads and leases. A row in any other status (sent, failed,
    unreachable, skipped) is not sent again, so a rerun cannot send twice.
    A retry row whose ``next_attempt_at`` is still ahead is left as it is.
    If the process dies after WeChat accepted the send but before the
    commit, the rerun sends the same ``client_msg_id`` and WeChat drops the
    repeat.

    Commits. Raises ``TemplateRejected`` or ``CredentialsRejected`` after
    recording ``failed`` when the rest of a batch would fail too, and
    ``LookupError`` for an unknown id.
    """
    now = now or utcnow()
    due, _ = load_outgoing([delivery_id], now)
    if due:
        outcome = send_outgoing(wechat_services(), due[0])
        record_outcomes([(due[0], outcome)], now)
        if outcome.status == FAILED_LOUD:
            raise stopped_error(delivery_id, outcome)
    status = db.session.execute(
        select(Delivery.status).where(Delivery.id == delivery_id)
    ).scalar_one_or_none()
    db.session.commit()
    if status is None:
        raise LookupError(f"delivery {delivery_id} not found")
    if not due:
        logger.info("Delivery not sent delivery_id=%s status=%s", delivery_id, status)
    return status


def load_outgoing(delivery_ids, now):
    """Return the rows of ``delivery_ids`` due at ``now`` and the count skipped.

    The due rows come as ``Outgoing``. Rows in a final status and retry rows
    not yet due are left out. Rows whose user is not bound or does not
    follow are marked skipped. Commits, so that no transaction stays open
    while the caller sends.
    """
    rows = db.session.execute(
        select(
            Delivery.id,
            Delivery.user_id,
            Delivery.template_id,
            Delivery.payload,
            Delivery.pagepath,
            Delivery.client_msg_id,
            Delivery.attempts,
            Delivery.next_attempt_at,
            User.service_openid,
            User.reachable,
        )
        .outerjoin(User, User.id == Delivery.user_id)
        .where(Delivery.id.in_(list(delivery_ids)), Delivery.status.in_(SENDABLE))
        .order_by(Delivery.id)
    ).all()
    due, skipped = [], []
    for row in rows:
        if row.next_attempt_at is not None and row.next_attempt_at > now:
            continue
        reason = _skip_reason(row.service_openid, row.reachable)
        if reason is not None:
            skipped.append(
                {
                    "b_id": row.id,
                    "status": DELIVERY_SKIPPED,
                    "last_error": reason,
                    "next_attempt_at": None,
                    "updated_at": now,
                }
            )
            continue
        due.append(
            Outgoing(
                id=row.id,
                user_id=row.user_id,
                openid=row.service_openid,
                template_id=row.template_id,
                payload=row.payload,
                pagepath=row.pagepath,
                client_msg_id=row.client_msg_id,
                attempts=row.attempts,
            )
        )
    if skipped:
        db.session.execute(_guarded_update(skipped[0]), skipped)
        logger.info(
            "Deliveries skipped delivery_ids=%s", [item["b_id"] for item in skipped]
        )
    db.session.commit()
    return due, len(skipped)


def send_outgoing(services, outgoing, token_store=None):
    """Send one message under the rules of ``bot.sender``; return its ``SendOutcome``.

    Touches no database, so threads may call it side by side. ``services``
    is ``wechat_services()``; ``token_store`` defaults to its shared store.
    """
    return send_with_policy(
        services.client,
        token_store or services.token_store,
        outgoing.openid,
        outgoing.template_id,
        outgoing.payload,
        miniprogram_appid=services.miniprogram_appid,
        pagepath=outgoing.pagepath,
        client_msg_id=outgoing.client_msg_id,
    )


def outcome_changes(attempts, outcome, now):
    """Return the new value of every column a send attempt sets.

    Every attempt returns the same columns, so ``record_outcomes`` writes a
    group of rows with one statement. ``attempts`` is the row's count
    before this attempt.
    """
    attempts += 1
    changes = {
        "status": DELIVERY_FAILED,
        "attempts": attempts,
        "updated_at": now,
        "last_errcode": outcome.errcode,
        "last_error": (outcome.errmsg or "")[:_ERROR_LENGTH] or None,
        "next_attempt_at": None,
        "sent_at": None,
        "wechat_msgid": None,
    }
    if outcome.status == SENT:
        changes["status"] = DELIVERY_SENT
        changes["sent_at"] = now
        if outcome.msgid is not None:
            changes["wechat_msgid"] = str(outcome.msgid)
    elif outcome.status == RETRY_LATER and attempts < MAX_SEND_ATTEMPTS:
        changes["status"] = DELIVERY_RETRY
        changes["next_attempt_at"] = now + timedelta(seconds=backoff_seconds(attempts))
    elif outcome.status == UNREACHABLE:
        changes["status"] = DELIVERY_UNREACHABLE
    return changes


def record_outcomes(results, now=None):
    """Record sends made with ``send_outgoing`` in one transaction and commit.

    ``results`` is a list of ``(Outgoing, SendOutcome)``. A row is updated
    only while it is still queued or retry, so a result never overwrites
    what another writer recorded. Recipients found unreachable are marked
    so, and a job result that arrived before its send was recorded is
    applied. Returns the rows per new status.
    """
    now = now or utcnow()
    params = []
    unreachable = []
    for outgoing, outcome in results:
        changes = outcome_changes(outgoing.attempts, outcome, now)
        params.append({"b_id": outgoing.id, "openid": outgoing.openid, **changes})
        if outcome.status == UNREACHABLE:
            unreachable.append(outgoing.user_id)
        _log_attempt(outgoing.id, changes["status"], changes["attempts"], outcome)
    if params:
        db.session.execute(_guarded_update(params[0]), params)
    if unreachable:
        db.session.execute(
            update(User).where(User.id.in_(unreachable)).values(reachable=False)
        )
    early = _early_job_results([p["wechat_msgid"] for p in params if p["wechat_msgid"]])
    if early:
        table = Delivery.__table__
        db.session.execute(
            update(table)
            .where(table.c.wechat_msgid == bindparam("b_msgid"))
            .values(final_status=bindparam("final_status")),
            [{"b_msgid": msgid, "final_status": s} for msgid, s in early.items()],
        )
    db.session.commit()
    counts = Counter(p["status"] for p in params)
    logger.info(
        "Deliveries recorded counts=%s first_id=%s last_id=%s",
        dict(counts),
        params[0]["b_id"] if params else None,
        params[-1]["b_id"] if params else None,
    )
    return counts


def _guarded_update(example):
    """UPDATE of the columns in ``example`` for row ``b_id``, if still sendable.

    The status test is spelled with ``=`` rather than ``IN`` because
    SQLAlchemy cannot send an ``IN`` list with executemany.
    """
    table = Delivery.__table__
    columns = [name for name in example if name != "b_id"]
    return (
        update(table)
        .where(
            table.c.id == bindparam("b_id"),
            or_(*(table.c.status == status for status in SENDABLE)),
        )
        .values({name: bindparam(name, type_=table.c[name].type) for name in columns})
    )


def _log_attempt(delivery_id, status, attempts, outcome):
    if outcome.status == RETRY_LATER and status == DELIVERY_FAILED:
        logger.warning(
            "Delivery gave up delivery_id=%s attempts=%s", delivery_id, attempts
        )
    # Each sent row is in the delivery log; record_outcomes logs the counts.
    logger.log(
        logging.DEBUG if status == DELIVERY_SENT else logging.INFO,
        "Delivery attempt recorded delivery_id=%s status=%s attempts=%s errcode=%s",
        delivery_id,
        status,
        attempts,
        outcome.errcode,
    )


def stopped_error(delivery_id, outcome):
    """Return the exception for a send whose outcome stops its batch or chunk."""
    if outcome.errcode in FAILED_LOUD_ERRCODES:
        error_class = TemplateRejected
    else:
        error_class = CredentialsRejected
    return error_class(delivery_id, outcome.errcode, outcome.errmsg)


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


def _early_job_results(msgids):
    """Return ``{msgid: status}`` of job results that arrived before their send."""
    if not msgids:
        return {}
    rows = db.session.execute(
        select(CallbackReceipt.template_msgid, CallbackReceipt.template_status)
        .where(CallbackReceipt.template_msgid.in_(msgids))
        .order_by(CallbackReceipt.id)
    )
    # Ordered by id, so the newest receipt of a msgid wins.
    return {msgid: status for msgid, status in rows}
