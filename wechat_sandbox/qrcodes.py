"""Parametric QR codes: ``cgi-bin/qrcode/create`` and ``cgi-bin/showqrcode``.

Rules from https://developers.weixin.qq.com/doc/service/api/qrcode/qrcodes/api_createqrcode.html:
temporary codes (QR_SCENE, QR_STR_SCENE) expire after ``expire_seconds``
(60 s when omitted, at most 2592000 s); permanent codes (QR_LIMIT_SCENE,
QR_LIMIT_STR_SCENE) never expire. ``scene_str`` is 1 to 64 characters,
``scene_id`` a non-zero 32-bit integer (1 to 100000 for permanent codes).
An unknown action_name gets 40052, a bad scene 40053.
"""

import base64
import io
import secrets

import qrcode
from flask import Blueprint, abort, current_app, jsonify, request, send_file

from .api import current_state, read_json_body, wechat_endpoint
from .errors import WeChatError
from .failures import raise_if_injected
from .state import CODE_ALPHABET, QrCode, random_string
from .tokens import check_access_token

bp = Blueprint("sandbox_qrcodes", __name__)

DEFAULT_EXPIRE_SECONDS = 60
MAX_EXPIRE_SECONDS = 2592000
TEMPORARY_ACTIONS = ("QR_SCENE", "QR_STR_SCENE")
PERMANENT_ACTIONS = ("QR_LIMIT_SCENE", "QR_LIMIT_STR_SCENE")


@bp.post("/cgi-bin/qrcode/create")
@wechat_endpoint("qrcode_create")
def create_qrcode():
    state = current_state()
    raise_if_injected(state, "qrcode_create")
    app_id = current_app.config["WECHAT_APP_ID"]
    check_access_token(state, request.args.get("access_token"), app_id)
    body = read_json_body()

    action_name = body.get("action_name")
    if action_name not in TEMPORARY_ACTIONS + PERMANENT_ACTIONS:
        raise WeChatError(40052)
    scene = _scene(action_name, body.get("action_info"))
    expire_seconds = None
    if action_name in TEMPORARY_ACTIONS:
        expire_seconds = _expire_seconds(body.get("expire_seconds"))

    code = _store(state, action_name, scene, expire_seconds)
    response = {"ticket": code.ticket, "url": code.url}
    if expire_seconds is not None:
        response["expire_seconds"] = expire_seconds
    return jsonify(response)


@bp.get("/cgi-bin/showqrcode")
def show_qrcode():
    """Return the QR image of a live ticket as PNG, or 404 like WeChat."""
    state = current_state()
    code = find_qrcode(state, ticket=request.args.get("ticket", ""))
    if code is None or is_expired(state, code):
        abort(404)

    image = qrcode.make(code.url)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    buffer.seek(0)
    return send_file(buffer, mimetype="image/png")


def find_qrcode(state, ticket=None, scene=None):
    """Return the code with ``ticket``, or the newest code with ``scene``."""
    with state.lock:
        if ticket:
            return state.qrcodes.get(ticket)
        matches = [code for code in state.qrcodes.values() if code.scene == scene]
    return max(matches, key=lambda code: code.created_at, default=None)


def is_expired(state, code):
    if code.expire_seconds is None:
        return False
    return state.now() >= code.created_at + code.expire_seconds


def _scene(action_name, action_info):
    scene = action_info.get("scene") if isinstance(action_info, dict) else None
    if not isinstance(scene, dict):
        raise WeChatError(40053)
    if action_name.endswith("STR_SCENE"):
        value = scene.get("scene_str")
        if not isinstance(value, str) or not 1 <= len(value) <= 64:
            raise WeChatError(40053)
        return value

    value = scene.get("scene_id")
    maximum = 100000 if action_name == "QR_LIMIT_SCENE" else 2**32 - 1
    if not isinstance(value, int) or isinstance(value, bool):
        raise WeChatError(40053)
    if not 1 <= value <= maximum:
        raise WeChatError(40053)
    return str(value)


def _expire_seconds(value):
    if value is None:
        return DEFAULT_EXPIRE_SECONDS
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise WeChatError(47001)
    # NOTE: WeChat documents 2592000 as the maximum but not what it does with
    # a larger value. The sandbox caps it, and the response shows the cap.
    return min(value, MAX_EXPIRE_SECONDS)


def _store(state, action_name, scene, expire_seconds):
    code = QrCode(
        ticket=base64.b64encode(secrets.token_bytes(52)).decode(),
        url="http://weixin.qq.com/q/" + random_string(CODE_ALPHABET + "-_", 22),
        action_name=action_name,
        scene=scene,
        created_at=state.now(),
        expire_seconds=expire_seconds,
    )
    with state.lock:
        state.qrcodes[code.ticket] = code
    return code
