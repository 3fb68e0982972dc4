"""Mini-program login: exchange a ``wx.login`` code for the user's openid.

wechatpy's ``wxa.code_to_session`` fetches an access token it does not
need, so this module calls ``sns/jscode2session`` directly.
https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html
"""

import logging

import requests

from bot.errors import MiniProgramLoginError

logger = logging.getLogger(__name__)

# The code from wx.login is valid for five minutes and works once.
LOGIN_ERROR_MESSAGES = {
    41008: "缺少登录凭证，请重新进入小程序",
    40029: "登录凭证无效或已过期，请重新进入小程序",
    40163: "登录凭证已使用，请重新进入小程序",
    45011: "登录请求过于频繁，请稍后再试",
    40226: "当前微信账号被微信判定为高风险用户，登录已被拦截",
    -1: "微信系统繁忙，请稍后再试",
}
GENERIC_LOGIN_MESSAGE = "微信登录失败，请重新进入小程序后再试"
NETWORK_LOGIN_MESSAGE = "暂时无法连接微信登录服务，请稍后再试"

# Codes after which the same user may try again soon with a new code.
RETRYABLE_ERRCODES = frozenset({-1, 45011})


def code_to_session(base_url, appid, secret, code, timeout):
    """Exchange ``code`` for ``{"openid", "session_key"}`` plus ``"unionid"`` if sent.

    The session key must stay on the server. Raises
    ``MiniProgramLoginError`` with a Chinese ``user_message`` on every
    failure, including timeouts and network errors (errcode None).
    """
    if not code:
        raise _login_error(41008)

    result = _get_session(base_url, appid, secret, code, timeout)
    errcode = int(result.get("errcode") or 0)
    if errcode:
        logger.warning(
            "Mini-program login rejected errcode=%s errmsg=%s",
            errcode,
            result.get("errmsg"),
        )
        raise _login_error(errcode)
    if not result.get("openid") or not result.get("session_key"):
        logger.error("Mini-program login reply has no openid or session_key")
        raise MiniProgramLoginError(None, GENERIC_LOGIN_MESSAGE)

    session = {"openid": result["openid"], "session_key": result["session_key"]}
    if result.get("unionid"):
        session["unionid"] = result["unionid"]
    return session


def _get_session(base_url, appid, secret, code, timeout):
    params = {
        "appid": appid,
        "secret": secret,
        "js_code": code,
        "grant_type": "authorization_code",
    }
    url = base_url.rstrip("/") + "/sns/jscode2session"
    # The query string contains the app secret, so the original exception,
    # whose text includes the URL, is dropped (``from None``).
    try:
        response = requests.get(url, params=params, timeout=timeout)
        response.raise_for_status()
        result = response.json()
    except (requests.RequestException, ValueError) as exc:
        logger.warning("Mini-program login failed error=%s", type(exc).__name__)
        raise MiniProgramLoginError(None, NETWORK_LOGIN_MESSAGE, True) from None

    if not isinstance(result, dict):
        raise MiniProgramLoginError(None, NETWORK_LOGIN_MESSAGE, True)
    return result


def _login_error(errcode):
    message = LOGIN_ERROR_MESSAGES.get(errcode, GENERIC_LOGIN_MESSAGE)
    return MiniProgramLoginError(errcode, message, errcode in RETRYABLE_ERRCODES)
