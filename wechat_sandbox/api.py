"""Helpers shared by the WeChat API endpoints: state access, counting, bodies."""

import functools
import json
import logging
import time

from flask import current_app, request

from .errors import WeChatError, error_response

log = logging.getLogger(__name__)

EXTENSION_KEY = "wechat_sandbox"


def current_state():
    return current_app.extensions[EXTENSION_KEY]


def wechat_endpoint(name):
    """Count calls of endpoint ``name``; turn WeChatError into WeChat's error body."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            state = current_state()
            state.count(f"{name}.calls")
            _delay(state, name)
            try:
                response = view(*args, **kwargs)
            except WeChatError as error:
                state.count(f"{name}.errors")
                log.info("endpoint=%s errcode=%s", name, error.errcode)
                return error_response(error)
            state.count(f"{name}.ok")
            return response

        return wrapper

    return decorate


def _delay(state, name):
    """Wait as long as the control API asked, to stand in for a slow WeChat."""
    with state.lock:
        delay_ms = state.delays.get(name, 0)
    if delay_ms:
        time.sleep(delay_ms / 1000)


def read_json_body():
    """Return the request body as a JSON object, whatever its Content-Type.

    WeChat reads the raw body: an empty one gets 44002, anything that is not
    a JSON object gets 47001.
    """
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise WeChatError(44002)
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WeChatError(47001) from exc
    if not isinstance(body, dict):
        raise WeChatError(47001)
    return body
