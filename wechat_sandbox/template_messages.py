"""Template messages: ``cgi-bin/message/template/send`` with WeChat's checks.

The checks run in this order, each with WeChat's errcode:

- access token valid (40001) and not expired (42001);
- template id registered (40037);
- every field of the template present and valid for its type (47003, with
  an errmsg that names the field);
- ``miniprogram.appid`` is the linked mini-program (40013);
- recipient is an openid of this service account (40003) and follows it
  (43004).

See https://developers.weixin.qq.com/doc/service/api/notify/template/api_sendtemplatemessage.html.

``client_msg_id``: WeChat documents that it sends only one message per openid
and client_msg_id, guaranteed for 10 minutes and not after. It does not
document its response to a repeat. The sandbox returns errcode 0 and the
first msgid for a repeat inside ``SANDBOX_CLIENT_MSG_ID_WINDOW`` (600 s by
default) and records nothing. After the window the repeat is delivered
again, because that is the worst case a product must expect.
"""

import json
import logging

from flask import Blueprint, current_app, jsonify, request

from .api import EXTENSION_KEY, current_state, read_json_body, wechat_endpoint
from .errors import WeChatError
from .events import schedule_jobfinish
from .failures import raise_if_injected
from .fields import is_valid_value
from .state import TemplateMessage
from .tokens import check_access_token

log = logging.getLogger(__name__)

bp = Blueprint("sandbox_template_messages", __name__)

REGISTRY_KEY = EXTENSION_KEY + ".templates"


def load_registry(path):
    """Read the templates file and return its templates keyed by template_id."""
    with open(path, encoding="utf-8") as handle:
        document = json.load(handle)
    registry = {}
    for name, template in document["templates"].items():
        registry[template["template_id"]] = {
            "name": name,
            "title": template["title"],
            "fields": dict(template["fields"]),
        }
    return registry


def registered_templates():
    return current_app.extensions[REGISTRY_KEY]


@bp.post("/cgi-bin/message/template/send")
@wechat_endpoint("template_send")
def send_template_message():
    state = current_state()
    raise_if_injected(state, "template_send", _peek_touser())
    check_access_token(state, request.args.get("access_token"), _service_app_id())
    body = read_json_body()

    template = registered_templates().get(body.get("template_id"))
    if template is None:
        raise WeChatError(40037)
    _check_data(template["fields"], body.get("data"))
    _check_miniprogram(body.get("miniprogram"))
    touser = _check_recipient(state, body.get("touser"))

    message, duplicate = _accept(state, touser, body)
    if not duplicate and current_app.config["SANDBOX_AUTO_JOBFINISH"]:
        schedule_jobfinish(current_app._get_current_object(), message.msgid)
    return jsonify(errcode=0, errmsg="ok", msgid=message.msgid)


def _service_app_id():
    return current_app.config["WECHAT_APP_ID"]


def _peek_touser():
    """Return ``touser`` from the body if it parses, so openid fail rules can match."""
    try:
        touser = read_json_body().get("touser")
    except WeChatError:
        return None
    return touser if isinstance(touser, str) else None


def _check_data(fields, data):
    if not isinstance(data, dict):
        raise WeChatError(47003, detail="data is empty")
    for key in fields:
        item = data.get(key)
        value = item.get("value") if isinstance(item, dict) else None
        if value is None or value == "":
            raise WeChatError(47003, detail=f"data.{key}.value is empty")
        if not is_valid_value(key, value):
            raise WeChatError(47003, detail=f"data.{key}.value invalid")


def _check_miniprogram(miniprogram):
    if miniprogram is None:
        return
    if not isinstance(miniprogram, dict):
        raise WeChatError(47001)
    if miniprogram.get("appid") != current_app.config["MINIPROGRAM_APP_ID"]:
        raise WeChatError(40013)


def _check_recipient(state, touser):
    if not isinstance(touser, str) or not touser:
        raise WeChatError(40003)
    with state.lock:
        user = state.users.get(touser)
    if user is None:
        raise WeChatError(40003)
    if not user.following:
        raise WeChatError(43004)
    return touser


def _accept(state, touser, body):
    """Record the message, or return the first one for a repeated client_msg_id."""
    client_msg_id = body.get("client_msg_id") or None
    if client_msg_id is not None and not isinstance(client_msg_id, str):
        raise WeChatError(47001)
    window = current_app.config["SANDBOX_CLIENT_MSG_ID_WINDOW"]
    with state.lock:
        now = state.now()
        first = state.client_msg_ids.get((touser, client_msg_id))
        if client_msg_id and first is not None and now - first.created_at < window:
            state.stats["template_send.duplicates_dropped"] += 1
            log.info("dropped repeated client_msg_id msgid=%s", first.msgid)
            return first, True

        message = TemplateMessage(
            msgid=state.allocate_msgid(),
            touser=touser,
            template_id=body["template_id"],
            data=body["data"],
            miniprogram=body.get("miniprogram"),
            url=body.get("url"),
            client_msg_id=client_msg_id,
            created_at=now,
        )
        state.messages.append(message)
        if client_msg_id:
            state.client_msg_ids[(touser, client_msg_id)] = message
        return message, False
