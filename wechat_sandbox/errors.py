"""WeChat error codes, their errmsg texts, and the JSON shape WeChat returns.

WeChat returns every API error with HTTP 200 and a body
``{"errcode": N, "errmsg": "text rid: xxxxxxxx-xxxxxxxx-xxxxxxxx"}``. The
texts below are the ones WeChat's servers send (global return codes:
https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html).
The trailing request id is random, so clients must compare errcode, never
errmsg.
"""

import secrets

from flask import jsonify

ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40013: "invalid appid",
    40014: "invalid access_token",
    40029: "invalid code",
    40037: "invalid template_id",
    40052: "invalid action name",
    40053: "invalid action info, please check document",
    40125: "invalid appsecret",
    40163: "code been used",
    40226: "code blocked",
    41001: "access_token missing",
    41002: "appid missing",
    41004: "appsecret missing",
    41008: "missing code",
    42001: "access_token expired",
    43002: "require POST method",
    43004: "require subscribe",
    44002: "empty post data",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit  mustslower  retry next minute",
    47001: "data format error",
    47003: "argument invalid!",
    48001: "api unauthorized",
}


class WeChatError(Exception):
    """An API call that WeChat would reject with a non-zero errcode."""

    def __init__(self, errcode, detail=None, errmsg=None):
        super().__init__(errcode)
        self.errcode = errcode
        self.detail = detail
        self.errmsg = errmsg

    def text(self):
        base = self.errmsg or ERRMSG.get(self.errcode, "system error")
        if self.detail:
            base = f"{base} {self.detail}"
        return f"{base} rid: {_request_id()}"


def _request_id():
    return "-".join(secrets.token_hex(4) for _ in range(3))


def error_body(error):
    return {"errcode": error.errcode, "errmsg": error.text()}


def error_response(error):
    """Return WeChat's error body with HTTP 200, as WeChat does."""
    return jsonify(error_body(error))
