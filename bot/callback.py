"""The service account's callback URL, ``/wechat/callback``.

WeChat verifies the URL with a signed GET and then POSTs every message and
event, in plaintext or safe (AES) mode. It waits five seconds for a reply
and retries a push up to three times, so each push is handled once under a
unique receipt key in the database, and the reply to a retry is "success".
Every handler here is a few indexed queries in one transaction, well
inside the five seconds, so nothing is handed to a worker.
https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
"""

import hashlib
import logging

from flask import Blueprint, current_app, request
from sqlalchemy.exc import IntegrityError

from bot.binding import bind_scene, mask_openid, set_following
from bot.delivery import record_job_result
from bot.errors import CallbackError, TooLarge
from bot.inbound import binding_scene, build_text_reply, dedup_key
from bot.web import wechat_services
from models import CallbackReceipt, db, utcnow

logger = logging.getLogger(__name__)

blueprint = Blueprint("wechat_callback", __name__)

# WeChat treats "success" (or an empty body) as "received, no reply".
NO_REPLY = "success"

REPLY_HELP = (
    "本服务号用于发送数据采集的通知和提醒，不处理留言。"
    "信息填报和复核请在小程序中操作；接收通知请先在小程序中获取绑定二维码并扫码。"
)
REPLY_WELCOME = (
    "欢迎关注！南海区物业项目信息数据采集的填报和复核请在小程序中操作。"
    "接收通知和提醒，请在小程序中获取绑定二维码并扫码绑定。"
)
REPLY_WELCOME_BACK = "欢迎回来，{name}。您的微信已绑定，通知和提醒将恢复发送。"

MAX_KEY_LENGTH = CallbackReceipt.dedupe_key.type.length


@blueprint.get("/wechat/callback")
def verify_url():
    """Return ``echostr`` for WeChat's URL check when the signature is valid."""
    try:
        echostr = wechat_services().codec.verify_url(request.args)
    except CallbackError as exc:
        return _reject(exc)
    return _text(echostr)


@blueprint.post("/wechat/callback")
def receive_push():
    """Verify, parse and handle one push, and respond with a reply or "success"."""
    codec = wechat_services().codec
    try:
        body = _read_body(codec.max_bytes)
        message = codec.parse(body, request.args)
    except CallbackError as exc:
        return _reject(exc)

    reply = handle_push(message)
    if reply is None:
        return _text(NO_REPLY)
    reply_xml = build_text_reply(message, reply)
    return _text(codec.render_reply(reply_xml, request.args), "application/xml")


def _read_body(max_bytes):
    """Read at most ``max_bytes`` of the body, raising ``TooLarge`` beyond it.

    The stream is read directly so that a body without Content-Length is
    capped too.
    """
    declared = request.content_length
    if declared is not None and declared > max_bytes:
        raise TooLarge(f"Content-Length {declared} exceeds {max_bytes}")
    body = request.stream.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise TooLarge(f"body exceeds {max_bytes} bytes")
    return body


def _reject(exc):
    status = exc.http_status
    logger.warning(
        "Callback push rejected status=%s reason=%s remote=%s",
        status,
        exc,
        request.remote_addr,
    )
    return _text("", status=status)


def _text(body, mimetype="text/plain", status=200):
    return current_app.response_class(body, status=status, mimetype=mimetype)


def handle_push(message, now=None):
    """Handle one parsed push once and return the reply text, or None.

    The receipt row and the handler's changes commit together, so a retry
    of a handled push hits the unique key, and a push whose handler failed
    is handled again on WeChat's retry.
    """
    now = now or utcnow()
    receipt = _store_receipt(message, now)
    if receipt is None:
        return None

    reply = _dispatch(message, receipt, now)
    try:
        db.session.commit()
    except IntegrityError:
        # A concurrent retry of this push committed its receipt first.
        db.session.rollback()
        logger.info("Callback push already handled key=%s", receipt.dedupe_key)
        return None
    return reply


def _store_receipt(message, now):
    receipt = CallbackReceipt(
        dedupe_key=_receipt_key(message),
        msg_type=_field(message, "MsgType")[:32] or None,
        event=_field(message, "Event")[:64] or None,
        received_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(receipt)
    except IntegrityError:
        db.session.rollback()
        logger.info("Callback push already handled key=%s", receipt.dedupe_key)
        return None
    return receipt


def _receipt_key(message):
    """Return ``dedup_key(message)``, hashed when it does not fit the column."""
    key = dedup_key(message)
    if len(key) <= MAX_KEY_LENGTH:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _field(message, name):
    value = message.get(name)
    return value if isinstance(value, str) else ""


def _dispatch(message, receipt, now):
    msg_type = _field(message, "MsgType")
    if msg_type == "event":
        handler = EVENT_HANDLERS.get(_field(message, "Event"))
    else:
        handler = MESSAGE_HANDLERS.get(msg_type)
    if handler is None:
        logger.info(
            "Callback push ignored msg_type=%s event=%s",
            msg_type[:32],
            _field(message, "Event")[:64],
        )
        return None
    return handler(message, receipt, now)


def _on_text(message, receipt, now):
    return REPLY_HELP


def _on_subscribe(message, receipt, now):
    openid = _field(message, "FromUserName")
    if not openid:
        return None
    user = set_following(openid, True)
    scene = binding_scene(message)
    if scene:
        return bind_scene(scene, openid, now)
    if user is not None:
        return REPLY_WELCOME_BACK.format(name=user.name)
    return REPLY_WELCOME


def _on_scan(message, receipt, now):
    openid = _field(message, "FromUserName")
    scene = binding_scene(message)
    if not openid or not scene:
        logger.info("SCAN event without scene openid=%s", mask_openid(openid))
        return None
    return bind_scene(scene, openid, now)


def _on_unsubscribe(message, receipt, now):
    openid = _field(message, "FromUserName")
    if openid:
        set_following(openid, False)


def _on_template_job_finish(message, receipt, now):
    msgid = _field(message, "MsgID")
    status = _field(message, "Status")
    if not msgid or not status:
        logger.warning("TEMPLATESENDJOBFINISH without MsgID or Status")
        return
    record_job_result(msgid, status, receipt, now)
    return


MESSAGE_HANDLERS = {"text": _on_text}
EVENT_HANDLERS = {
    "subscribe": _on_subscribe,
    "SCAN": _on_scan,
    "unsubscribe": _on_unsubscribe,
    "TEMPLATESENDJOBFINISH": _on_template_job_finish,
}


def prune_receipts(before):
    """Delete the receipts of pushes received before ``before``; return the count.

    WeChat retries a push within seconds of the first delivery, so a receipt
    older than a day no longer stops anything. Commits.
    """
    deleted = CallbackReceipt.query.filter(CallbackReceipt.received_at < before).delete(
        synchronize_session=False
    )
    db.session.commit()
    if deleted:
        logger.info("Callback receipts pruned count=%s", deleted)
    return deleted
