"""Events a phone or WeChat itself would cause: scans, follows and job results.

XML formats follow WeChat's event push documentation (接收事件推送):

- a user not yet following scans a parametric QR code, follows, and WeChat
  pushes ``subscribe`` with ``EventKey`` ``qrscene_<scene>`` and ``Ticket``;
- a follower scans and WeChat pushes ``SCAN`` with the bare scene and
  ``Ticket``;
- after a template message is sent WeChat pushes ``TEMPLATESENDJOBFINISH``
  with ``MsgID`` and ``Status`` (``success``, ``failed:user block`` or
  ``failed: system failed``).
"""

import logging
import threading
import time

from .api import EXTENSION_KEY
from .push import build_xml, deliver
from .qrcodes import find_qrcode, is_expired

log = logging.getLogger(__name__)

JOBFINISH_STATUSES = ("success", "failed:user block", "failed: system failed")


class EventRejected(Exception):
    """A control request that names something the sandbox does not have."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def scan(
    app,
    ticket=None,
    scene=None,
    openid=None,
    following=None,
    respect_expiry=False,
    **push_options,
):
    """Simulate a phone scanning a QR code and push the resulting event."""
    state = app.extensions[EXTENSION_KEY]
    code = find_qrcode(state, ticket=ticket, scene=scene)
    if code is None:
        raise EventRejected(404, "二维码不存在，请检查 ticket 或 scene")
    if respect_expiry and is_expired(state, code):
        raise EventRejected(410, "二维码已过期，微信不会展示该二维码")

    with state.lock:
        user = state.ensure_user(openid)
        if following is not None:
            user.following = bool(following)
        was_following = user.following
        user.following = True

    if was_following:
        event, event_key = "SCAN", code.scene
    else:
        event, event_key = "subscribe", "qrscene_" + code.scene
    elements = _header(app, user.openid, event)
    elements += [("EventKey", event_key), ("Ticket", code.ticket)]
    outcome = deliver(app, build_xml(elements), user.openid, **push_options)
    return {"openid": user.openid, "event": event, **outcome}


def subscribe(app, openid=None, event_key=None, **push_options):
    """Make ``openid`` follow the account and push a plain ``subscribe`` event."""
    state = app.extensions[EXTENSION_KEY]
    with state.lock:
        user = state.ensure_user(openid)
        user.following = True

    elements = _header(app, user.openid, "subscribe")
    if event_key is not None:
        elements.append(("EventKey", event_key))
    outcome = deliver(app, build_xml(elements), user.openid, **push_options)
    return {"openid": user.openid, "event": "subscribe", **outcome}


def unsubscribe(app, openid, **push_options):
    """Make ``openid`` stop following and push ``unsubscribe``."""
    state = app.extensions[EXTENSION_KEY]
    with state.lock:
        user = state.users.get(openid)
        if user is None:
            raise EventRejected(404, f"用户 {openid} 不存在")
        user.following = False

    elements = _header(app, openid, "unsubscribe") + [("EventKey", "")]
    outcome = deliver(app, build_xml(elements), openid, **push_options)
    return {"openid": openid, "event": "unsubscribe", **outcome}


def jobfinish(app, msgid, status=None, **push_options):
    """Push TEMPLATESENDJOBFINISH for ``msgid``; ``status`` defaults per user."""
    state = app.extensions[EXTENSION_KEY]
    with state.lock:
        message = next((m for m in state.messages if m.msgid == msgid), None)
        if message is None:
            raise EventRejected(404, f"模板消息 {msgid} 不存在")
        user = state.users.get(message.touser)
        status = status or (user.jobfinish_status if user else "success")
        message.jobfinish_status = status

    elements = _header(app, message.touser, "TEMPLATESENDJOBFINISH")
    elements += [("MsgID", msgid), ("Status", status)]
    outcome = deliver(app, build_xml(elements), message.touser, **push_options)
    return {"msgid": msgid, "status_pushed": status, **outcome}


def schedule_jobfinish(app, msgid):
    """Push the job result of ``msgid`` from a background thread after a delay.

    WeChat pushes the result asynchronously after the send call returned, so
    the product must not expect it inside the send request.
    """
    delay = app.config["SANDBOX_JOBFINISH_DELAY"]
    timer = threading.Timer(delay, _jobfinish_in_background, args=(app, msgid))
    timer.daemon = True
    timer.start()


def _jobfinish_in_background(app, msgid):
    try:
        jobfinish(app, msgid)
    except EventRejected:
        log.info("message gone before its job result was pushed msgid=%s", msgid)
    except Exception:  # a timer thread has no caller to raise to
        log.exception("automatic TEMPLATESENDJOBFINISH failed msgid=%s", msgid)


def _header(app, openid, event):
    return [
        ("ToUserName", app.config["SANDBOX_ORIGINAL_ID"]),
        ("FromUserName", openid),
        ("CreateTime", int(time.time())),
        ("MsgType", "event"),
        ("Event", event),
    ]
