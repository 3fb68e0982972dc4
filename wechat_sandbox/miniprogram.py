"""Mini-program login: ``sns/jscode2session`` and the codes ``wx.login`` would give.

A code is single-use and valid for five minutes: an unknown or expired code
gets 40029 and a used one 40163
(https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html).
The endpoint needs no access token. Codes are minted by the control API,
standing in for ``wx.login`` on a phone.
"""

import base64
import hmac
import secrets

from flask import Blueprint, current_app, jsonify, request

from .api import current_state, wechat_endpoint
from .errors import WeChatError
from .failures import raise_if_injected
from .state import CODE_ALPHABET, LoginCode, new_openid, random_string

bp = Blueprint("sandbox_miniprogram", __name__)

CODE_LIFETIME = 300


@bp.get("/sns/jscode2session")
@wechat_endpoint("jscode2session")
def jscode2session():
    args = request.args
    state = current_state()
    js_code = args.get("js_code")
    with state.lock:
        login = state.codes.get(js_code) if js_code else None
    raise_if_injected(state, "jscode2session", login.openid if login else None)
    _check_app(args.get("appid"), args.get("secret"), args.get("grant_type"))
    if not js_code:
        raise WeChatError(41008)

    login = _use_code(state, js_code)
    session_key = base64.b64encode(secrets.token_bytes(16)).decode()
    with state.lock:
        state.miniprogram_users[login.openid] = session_key
    body = {"session_key": session_key, "openid": login.openid}
    if login.unionid:
        body["unionid"] = login.unionid
    return jsonify(body)


def mint_code(state, openid=None, unionid=None):
    """Create a login code for ``openid`` (a new mini-program openid when None)."""
    login = LoginCode(
        code=random_string(CODE_ALPHABET, 32),
        appid=current_app.config["MINIPROGRAM_APP_ID"],
        openid=openid or new_openid(),
        created_at=state.now(),
        unionid=unionid,
    )
    with state.lock:
        state.codes[login.code] = login
    return login


def _check_app(appid, secret, grant_type):
    config = current_app.config
    if not appid:
        raise WeChatError(41002)
    if not secret:
        raise WeChatError(41004)
    if appid != config["MINIPROGRAM_APP_ID"]:
        raise WeChatError(40013)
    if not hmac.compare_digest(str(secret), config["MINIPROGRAM_APP_SECRET"]):
        raise WeChatError(40125)
    if grant_type != "authorization_code":
        raise WeChatError(40002)


def _use_code(state, js_code):
    """Mark the code used and return it, or raise 40029 / 40163."""
    with state.lock:
        login = state.codes.get(js_code)
        if login is None:
            raise WeChatError(40029)
        if login.used:
            raise WeChatError(40163)
        if state.now() - login.created_at > CODE_LIFETIME:
            raise WeChatError(40029)
        login.used = True
        return login
