"""Access tokens: ``cgi-bin/token``, ``cgi-bin/stable_token`` and token checks.

WeChat's rules reproduced here:

- ``cgi-bin/token`` issues a new token on every call; the previous one keeps
  working for five more minutes, then gets 40001
  (https://developers.weixin.qq.com/doc/service/api/base/api_getaccesstoken).
- ``cgi-bin/stable_token`` returns the same token on repeated calls while it
  has more than five minutes left, and a new one in its last five minutes
  (the old one then runs to its own expiry). ``force_refresh`` issues a new
  token at once. Stable and basic tokens are independent of each other
  (https://developers.weixin.qq.com/doc/service/api/base/api_getstableaccesstoken).
- A token past its 7200 s gets 42001.
"""

import hmac

from flask import Blueprint, current_app, jsonify, request

from .api import current_state, read_json_body, wechat_endpoint
from .errors import WeChatError
from .failures import raise_if_injected
from .state import CODE_ALPHABET, AccessToken, random_string

bp = Blueprint("sandbox_tokens", __name__)

TOKEN_LIFETIME = 7200
BASIC_REFRESH_GRACE = 300
STABLE_EARLY_RENEWAL = 300


@bp.get("/cgi-bin/token")
@wechat_endpoint("token")
def get_token():
    args = request.args
    state = current_state()
    raise_if_injected(state, "token")
    check_credentials(args.get("grant_type"), args.get("appid"), args.get("secret"))

    token = issue_basic_token(state, args["appid"])
    return jsonify(access_token=token.value, expires_in=TOKEN_LIFETIME)


@bp.post("/cgi-bin/stable_token")
@wechat_endpoint("stable_token")
def post_stable_token():
    state = current_state()
    raise_if_injected(state, "stable_token")
    body = read_json_body()
    check_credentials(body.get("grant_type"), body.get("appid"), body.get("secret"))
    force_refresh = body.get("force_refresh", False)
    if not isinstance(force_refresh, bool):
        raise WeChatError(47001)

    token = issue_stable_token(state, body["appid"], force_refresh)
    expires_in = round(token.expires_at - state.now())
    return jsonify(access_token=token.value, expires_in=expires_in)


@bp.get("/cgi-bin/stable_token")
@wechat_endpoint("stable_token")
def get_stable_token():
    raise WeChatError(43002)


def app_secrets():
    config = current_app.config
    return {
        config["WECHAT_APP_ID"]: config["WECHAT_APP_SECRET"],
        config["MINIPROGRAM_APP_ID"]: config["MINIPROGRAM_APP_SECRET"],
    }


def check_credentials(grant_type, appid, secret):
    """Raise the errcode WeChat gives for a wrong grant_type, appid or secret."""
    if not appid:
        raise WeChatError(41002)
    if not secret:
        raise WeChatError(41004)
    if grant_type != "client_credential":
        raise WeChatError(40002)
    known = app_secrets()
    if appid not in known:
        raise WeChatError(40013)
    if not hmac.compare_digest(str(secret), known[appid]):
        raise WeChatError(40125)


def issue_basic_token(state, appid):
    """Issue a basic token; earlier basic tokens of ``appid`` get five more minutes."""
    with state.lock:
        now = state.now()
        for token in state.tokens.values():
            if token.appid == appid and token.kind == "basic":
                _revoke(token, now + BASIC_REFRESH_GRACE)
        return _issue(state, appid, "basic")


def issue_stable_token(state, appid, force_refresh):
    """Return the current stable token of ``appid``, or a new one when due or forced."""
    grace = current_app.config["SANDBOX_FORCE_REFRESH_GRACE"]
    with state.lock:
        now = state.now()
        current = _current_stable(state, appid, now)
        if force_refresh:
            # NOTE: WeChat documents 20 forced refreshes a day, 30 s apart; the
            # sandbox does not enforce that and only counts them in the stats.
            state.stats["stable_token.force_refreshes"] += 1
            if current is not None:
                _revoke(current, now + grace)
            return _issue(state, appid, "stable")
        if current is not None and current.expires_at - now > STABLE_EARLY_RENEWAL:
            return current
        return _issue(state, appid, "stable")


def check_access_token(state, value, appid):
    """Raise the errcode WeChat gives when ``value`` cannot call an API of ``appid``."""
    if not value:
        raise WeChatError(41001)
    with state.lock:
        token = state.tokens.get(value)
        now = state.now()
    if token is None:
        raise WeChatError(40001)
    if token.revoked_at is not None and now >= token.revoked_at:
        raise WeChatError(40001)
    if now >= token.expires_at:
        raise WeChatError(42001)
    if token.appid != appid:
        raise WeChatError(48001)


def end_tokens(state, mode, value=None):
    """End one token (or all): ``expire`` leads to 42001, ``revoke`` to 40001."""
    with state.lock:
        now = state.now()
        targets = [state.tokens[value]] if value else list(state.tokens.values())
        for token in targets:
            if mode == "expire":
                token.expires_at = min(token.expires_at, now)
            else:
                token.revoked_at = now
        return len(targets)


def _issue(state, appid, kind):
    now = state.now()
    token = AccessToken(
        value=new_token_value(),
        appid=appid,
        kind=kind,
        issued_at=now,
        expires_at=now + TOKEN_LIFETIME,
    )
    state.tokens[token.value] = token
    return token


def _revoke(token, at):
    if token.revoked_at is None or token.revoked_at > at:
        token.revoked_at = at


def _current_stable(state, appid, now):
    live = [
        token
        for token in state.tokens.values()
        if token.appid == appid
        and token.kind == "stable"
        and token.revoked_at is None
        and token.expires_at > now
    ]
    return max(live, key=lambda token: token.issued_at, default=None)


def new_token_value():
    """Return a token shaped like WeChat's: a numeric prefix and ~130 characters."""
    return "86_" + random_string(CODE_ALPHABET + "-_", 133)
