"""Control API (``/sandbox/...``): set up users and codes, inject failures, inspect.

These endpoints are the sandbox's own, not WeChat's. They take and return
JSON; an error is ``{"error": "<Chinese message>"}`` with HTTP 400 or 404.
Event pushes (scan, follow, job results) are in ``control_events``.
"""

from dataclasses import asdict

from flask import Blueprint, current_app, jsonify, request

from . import failures
from .api import current_state
from .events import JOBFINISH_STATUSES
from .miniprogram import mint_code
from .tokens import end_tokens

bp = Blueprint("sandbox_control", __name__, url_prefix="/sandbox")


class ControlError(Exception):
    """A control request the sandbox rejects; ``message`` is shown to the caller."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.message = message
        self.status = status


@bp.app_errorhandler(ControlError)
def control_error(error):
    return jsonify(error=error.message), error.status


def json_body():
    """Return the request's JSON object ({} when there is no body)."""
    if not request.get_data(cache=True).strip():
        return {}
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ControlError("请求体必须是 JSON 对象")
    return body


@bp.post("/miniprogram/codes")
def create_login_code():
    """Stand in for ``wx.login``: mint a code for an openid (new one when absent)."""
    body = json_body()
    login = mint_code(current_state(), body.get("openid"), body.get("unionid"))
    return jsonify(code=login.code, openid=login.openid), 201


@bp.post("/users")
def save_user():
    """Create or update a service-account user: following flag, job result status."""
    body = json_body()
    status = body.get("jobfinish_status")
    if status is not None and status not in JOBFINISH_STATUSES:
        raise ControlError("jobfinish_status 只能是: " + " / ".join(JOBFINISH_STATUSES))

    state = current_state()
    with state.lock:
        user = state.ensure_user(body.get("openid"), following=True)
        if "following" in body:
            user.following = bool(body["following"])
        if status is not None:
            user.jobfinish_status = status
        return jsonify(asdict(user)), 201


@bp.get("/users")
def list_users():
    state = current_state()
    with state.lock:
        return jsonify(users=[asdict(user) for user in state.users.values()])


@bp.post("/fail")
def add_fail_rule():
    body = json_body()
    try:
        rule = failures.add_rule(
            current_state(),
            endpoint=body.get("endpoint"),
            errcode=body.get("errcode"),
            count=body.get("count", 1),
            openid=body.get("openid"),
            errmsg=body.get("errmsg"),
        )
    except ValueError as exc:
        raise ControlError(f"失败规则无效: {exc}") from exc
    return jsonify(asdict(rule)), 201


@bp.get("/fail")
def list_fail_rules():
    state = current_state()
    with state.lock:
        return jsonify(rules=[asdict(rule) for rule in state.fail_rules])


@bp.delete("/fail")
def clear_fail_rules():
    state = current_state()
    with state.lock:
        cleared = len(state.fail_rules)
        state.fail_rules.clear()
    return jsonify(cleared=cleared)


@bp.post("/delay")
def set_delay():
    """Make every call of one endpoint wait ``delay_ms`` milliseconds (0 to stop)."""
    body = json_body()
    endpoint, delay_ms = body.get("endpoint"), body.get("delay_ms")
    if endpoint not in failures.ENDPOINTS:
        raise ControlError("endpoint 只能是: " + " / ".join(failures.ENDPOINTS))
    if (
        not isinstance(delay_ms, int)
        or isinstance(delay_ms, bool)
        or not 0 <= delay_ms <= 10_000
    ):
        raise ControlError("delay_ms 必须是 0 到 10000 之间的整数毫秒数")
    state = current_state()
    with state.lock:
        state.delays[endpoint] = delay_ms
    return jsonify(endpoint=endpoint, delay_ms=delay_ms)


@bp.get("/messages")
def list_messages():
    """Return recorded template messages, filtered by ``openid`` and ``template_id``."""
    openid = request.args.get("openid")
    template_id = request.args.get("template_id")
    state = current_state()
    with state.lock:
        messages = [
            asdict(message)
            for message in state.messages
            if (not openid or message.touser == openid)
            and (not template_id or message.template_id == template_id)
        ]
    return jsonify(messages=messages)


@bp.get("/qrcodes")
def list_qrcodes():
    state = current_state()
    with state.lock:
        return jsonify(qrcodes=[asdict(code) for code in state.qrcodes.values()])


@bp.get("/pushes")
def list_pushes():
    state = current_state()
    with state.lock:
        return jsonify(pushes=list(state.pushes))


@bp.get("/stats")
def stats():
    state = current_state()
    with state.lock:
        counts = dict(state.stats)
        message_count = len(state.messages)
    endpoints = {
        name: {
            kind: counts.get(f"{name}.{kind}", 0) for kind in ("calls", "ok", "errors")
        }
        for name in failures.ENDPOINTS
    }
    return jsonify(
        endpoints=endpoints,
        stable_token_force_refreshes=counts.get("stable_token.force_refreshes", 0),
        template_duplicates_dropped=counts.get("template_send.duplicates_dropped", 0),
        injected_failures=counts.get("injected_failures", 0),
        pushes={
            "delivered": counts.get("pushes.delivered", 0),
            "failed": counts.get("pushes.failed", 0),
        },
        template_messages=message_count,
    )


@bp.post("/reset")
def reset():
    current_state().reset()
    return jsonify(reset=True)


@bp.post("/clock")
def advance_clock():
    """Move the sandbox clock forward, so tests reach expiries without sleeping."""
    seconds = json_body().get("advance_seconds")
    if (
        not isinstance(seconds, (int, float))
        or isinstance(seconds, bool)
        or seconds < 0
    ):
        raise ControlError("advance_seconds 必须是不小于 0 的秒数")
    state = current_state()
    with state.lock:
        state.clock_offset += seconds
        return jsonify(offset=state.clock_offset)


@bp.post("/tokens/end")
def end_access_tokens():
    """End one access token (or all): ``expire`` -> 42001, ``revoke`` -> 40001."""
    body = json_body()
    mode = body.get("mode", "expire")
    if mode not in ("expire", "revoke"):
        raise ControlError("mode 只能是 expire 或 revoke")
    state = current_state()
    value = body.get("access_token")
    if value and value not in state.tokens:
        raise ControlError("access_token 不存在", status=404)
    return jsonify(ended=end_tokens(state, mode, value))


def app_object():
    return current_app._get_current_object()
