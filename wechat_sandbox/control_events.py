"""Control API that pushes events to the product's callback.

Every endpoint here takes these optional push settings besides its own:
``safe_mode`` (bool, default from ``SANDBOX_SAFE_MODE``), ``timestamp``
(int, to test stale-timestamp checks), ``deliveries`` (1 to 4 identical
deliveries, as WeChat's retries send) and ``bad_signature`` (bool). Each
returns the pushed event's outcome: ``status`` (HTTP status, null when the
callback could not be reached), ``statuses``, ``reply`` (the decrypted reply
XML as a dict, or null), ``reply_encrypted`` and ``error``.
"""

from defusedxml import ElementTree
from flask import Blueprint, jsonify

from . import events
from .control import ControlError, app_object, json_body
from .push import CallbackRejected, deliver, parse_xml

bp = Blueprint("sandbox_control_events", __name__, url_prefix="/sandbox")

MAX_DELIVERIES = 4


@bp.app_errorhandler(events.EventRejected)
def event_rejected(error):
    return jsonify(error=error.message), error.status


@bp.post("/scan")
def scan():
    """Simulate a phone scanning a QR code (by ``ticket`` or ``scene``).

    ``openid`` picks the scanning user (a new one when absent); ``following``
    sets whether that user follows the account before the scan. Expired codes
    still push unless ``respect_expiry`` is true (then 410).
    """
    body = json_body()
    if not body.get("ticket") and not body.get("scene"):
        raise ControlError("需要 ticket 或 scene")
    result = _run(
        events.scan,
        ticket=body.get("ticket"),
        scene=body.get("scene"),
        openid=body.get("openid"),
        following=body.get("following"),
        respect_expiry=bool(body.get("respect_expiry", False)),
        **_push_options(body),
    )
    return jsonify(result)


@bp.post("/subscribe")
def subscribe():
    body = json_body()
    result = _run(
        events.subscribe,
        openid=body.get("openid"),
        event_key=body.get("event_key"),
        **_push_options(body),
    )
    return jsonify(result)


@bp.post("/unsubscribe")
def unsubscribe():
    body = json_body()
    if not body.get("openid"):
        raise ControlError("需要 openid")
    return jsonify(_run(events.unsubscribe, body["openid"], **_push_options(body)))


@bp.post("/jobfinish")
def jobfinish():
    body = json_body()
    msgid = body.get("msgid")
    if not isinstance(msgid, int) or isinstance(msgid, bool):
        raise ControlError("msgid 必须是整数")
    status = body.get("status")
    if status is not None and status not in events.JOBFINISH_STATUSES:
        raise ControlError("status 只能是: " + " / ".join(events.JOBFINISH_STATUSES))
    return jsonify(_run(events.jobfinish, msgid, status, **_push_options(body)))


@bp.post("/push")
def push_raw():
    """Push raw event or message XML as-is (signed, and encrypted in safe mode)."""
    body = json_body()
    xml = body.get("xml")
    if not isinstance(xml, str) or not xml.strip():
        raise ControlError("需要 xml 字符串")
    openid = body.get("openid") or _from_user(xml)
    outcome = _run(deliver, xml, openid, **_push_options(body))
    return jsonify(openid=openid, **outcome)


def _run(function, *args, **kwargs):
    """Call a push function with the app, turning a refused callback URL into 400."""
    try:
        return function(app_object(), *args, **kwargs)
    except CallbackRejected as exc:
        raise ControlError(f"推送失败: {exc}") from exc


def _push_options(body):
    options = {}
    if "safe_mode" in body:
        options["safe_mode"] = bool(body["safe_mode"])
    if body.get("timestamp") is not None:
        if not isinstance(body["timestamp"], int) or isinstance(
            body["timestamp"], bool
        ):
            raise ControlError("timestamp 必须是整数秒")
        options["timestamp"] = body["timestamp"]
    deliveries = body.get("deliveries", 1)
    if isinstance(deliveries, bool) or not isinstance(deliveries, int):
        raise ControlError(f"deliveries 必须是 1 到 {MAX_DELIVERIES} 的整数")
    if not 1 <= deliveries <= MAX_DELIVERIES:
        raise ControlError(f"deliveries 必须是 1 到 {MAX_DELIVERIES} 的整数")
    options["deliveries"] = deliveries
    options["bad_signature"] = bool(body.get("bad_signature", False))
    return options


def _from_user(xml):
    try:
        parsed = parse_xml(xml)
    except ElementTree.ParseError as exc:
        raise ControlError(f"xml 无法解析: {exc}") from exc
    if not isinstance(parsed, dict):
        return ""
    return parsed.get("FromUserName", "")
