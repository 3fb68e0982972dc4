"""Deliver event XML to the product's callback the way WeChat's servers do.

Every push is a POST with ``signature``, ``timestamp``, ``nonce`` and
``openid`` in the query. In safe mode the query also has ``encrypt_type=aes``
and ``msg_signature``, and the body is ``<xml><ToUserName/><Encrypt/></xml>``
with the event encrypted inside. The callback's reply is verified and
decrypted the same way, then parsed into a dict.

Pushes go only to a loopback callback URL: the sandbox is a local stand-in
and must never send traffic to another host.
"""

import logging
import secrets
import time
from urllib.parse import urlsplit

import requests
from defusedxml import ElementTree

from . import crypto
from .api import EXTENSION_KEY

log = logging.getLogger(__name__)

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class CallbackRejected(ValueError):
    """A callback URL the sandbox will not push to (not a loopback host)."""


def cdata(value):
    """Wrap text in CDATA, splitting any "]]>" so the section stays closed."""
    return "<![CDATA[" + str(value).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def build_xml(elements):
    """Return ``<xml>`` with one child per (name, value).

    Strings are wrapped in CDATA and integers stay bare, as in WeChat's pushes.
    """
    parts = ["<xml>"]
    for name, value in elements:
        text = str(value) if isinstance(value, int) else cdata(value)
        parts.append(f"<{name}>{text}</{name}>")
    parts.append("</xml>")
    return "".join(parts)


def deliver(
    app, xml, openid, safe_mode=None, timestamp=None, deliveries=1, bad_signature=False
):
    """POST ``xml`` to the callback ``deliveries`` times and return the outcome.

    More than one delivery repeats the identical request, as WeChat does when
    it retries. The outcome reports the HTTP status of each delivery and the
    reply to the last one.
    """
    config = app.config
    safe_mode = config["SANDBOX_SAFE_MODE"] if safe_mode is None else safe_mode
    url = callback_url(config)
    params, body = _sign(config, xml, openid, safe_mode, timestamp, bad_signature)

    statuses = []
    outcome = _outcome()
    for _ in range(deliveries):
        outcome.update(_post(config, url, params, body))
        statuses.append(outcome["status"])
    outcome["statuses"] = statuses
    if outcome["status"] != 200 or outcome["error"]:
        log.warning(
            "push not accepted openid=%s status=%s error=%s",
            openid,
            outcome["status"],
            outcome["error"],
        )
    _record(app, xml, openid, outcome)
    return outcome


def callback_url(config):
    url = config["SANDBOX_CALLBACK_URL"]
    if urlsplit(url).hostname not in LOOPBACK_HOSTS:
        raise CallbackRejected(f"SANDBOX_CALLBACK_URL must be a loopback URL: {url}")
    return url


def parse_xml(text):
    """Parse XML without entity expansion into a dict; repeated tags become lists."""
    root = ElementTree.fromstring(text)
    return _element_to_value(root)


def _sign(config, xml, openid, safe_mode, timestamp, bad_signature):
    token = config["WECHAT_TOKEN"]
    timestamp = str(timestamp or int(time.time()))
    nonce = str(secrets.randbelow(9 * 10**9) + 10**9)
    params = {
        "signature": crypto.signature(token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "openid": openid,
    }
    body = xml
    if safe_mode:
        key = crypto.aes_key(config["WECHAT_AES_KEY"])
        encrypted = crypto.encrypt(key, config["WECHAT_APP_ID"], xml)
        params["encrypt_type"] = "aes"
        params["msg_signature"] = crypto.signature(token, timestamp, nonce, encrypted)
        body = build_xml(
            [("ToUserName", config["SANDBOX_ORIGINAL_ID"]), ("Encrypt", encrypted)]
        )
    if bad_signature:
        params["signature"] = "0" * 40
        if safe_mode:
            params["msg_signature"] = "0" * 40
    return params, body


def _post(config, url, params, body):
    try:
        response = requests.post(
            url,
            params=params,
            data=body.encode(),
            headers={"Content-Type": "text/xml"},
            timeout=config["SANDBOX_PUSH_TIMEOUT"],
        )
    except requests.RequestException as exc:
        log.warning("push to callback failed url=%s error=%s", url, exc)
        return _outcome(error=f"request failed: {exc}")

    result = _outcome(status=response.status_code)
    if response.status_code == 200:
        result.update(_read_reply(config, response.text))
    return result


def _outcome(status=None, error=None):
    return {"status": status, "reply": None, "reply_encrypted": None, "error": error}


def _read_reply(config, text):
    """Return reply fields from a callback response; "" and "success" mean no reply."""
    text = text.strip()
    if not text or text == "success":
        return {}
    try:
        reply = parse_xml(text)
    except ElementTree.ParseError as exc:
        return {"error": f"reply is not XML: {exc}"}
    if not isinstance(reply, dict) or "Encrypt" not in reply:
        return {"reply": reply, "reply_encrypted": False}
    return _decrypt_reply(config, reply)


def _decrypt_reply(config, reply):
    expected = crypto.signature(
        config["WECHAT_TOKEN"],
        str(reply.get("TimeStamp", "")),
        str(reply.get("Nonce", "")),
        reply["Encrypt"],
    )
    if reply.get("MsgSignature") != expected:
        return {"error": "reply MsgSignature does not match", "reply_encrypted": True}
    key = crypto.aes_key(config["WECHAT_AES_KEY"])
    try:
        plain = crypto.decrypt(key, config["WECHAT_APP_ID"], reply["Encrypt"])
        return {"reply": parse_xml(plain), "reply_encrypted": True}
    except (crypto.DecryptError, ElementTree.ParseError) as exc:
        return {"error": f"reply does not decrypt: {exc}", "reply_encrypted": True}


def _element_to_value(element):
    children = list(element)
    if not children:
        return element.text or ""
    value = {}
    for child in children:
        item = _element_to_value(child)
        if child.tag not in value:
            value[child.tag] = item
        elif isinstance(value[child.tag], list):
            value[child.tag].append(item)
        else:
            value[child.tag] = [value[child.tag], item]
    return value


def _record(app, xml, openid, outcome):
    state = app.extensions[EXTENSION_KEY]
    try:
        event = parse_xml(xml)
    except ElementTree.ParseError:
        event = None
    delivered = outcome["status"] == 200
    with state.lock:
        state.stats["pushes.delivered" if delivered else "pushes.failed"] += 1
        state.pushes.append(
            {
                "id": len(state.pushes) + 1,
                "openid": openid,
                "event": event.get("Event") if isinstance(event, dict) else None,
                "xml": xml,
                "created_at": time.time(),
                **outcome,
            }
        )
