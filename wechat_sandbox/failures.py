"""Injected failures: rules that make the next calls return a WeChat errcode.

A rule names an endpoint (or ``*``), an errcode, how many calls it applies to
(``-1`` for every call until cleared) and optionally an openid. Openid rules
match only calls that concern that openid: the recipient of a template
message, or the owner of a mini-program login code.
"""

import logging

from .errors import WeChatError
from .state import FailRule

log = logging.getLogger(__name__)

ENDPOINTS = (
    "token",
    "stable_token",
    "jscode2session",
    "qrcode_create",
    "template_send",
)


def add_rule(state, endpoint, errcode, count=1, openid=None, errmsg=None):
    """Store a rule, or raise ValueError naming the argument that is invalid."""
    if endpoint != "*" and endpoint not in ENDPOINTS:
        raise ValueError(f"endpoint must be * or one of {', '.join(ENDPOINTS)}")
    if not isinstance(errcode, int) or isinstance(errcode, bool) or errcode == 0:
        raise ValueError("errcode must be a non-zero integer")
    if not isinstance(count, int) or isinstance(count, bool):
        raise ValueError("count must be an integer")
    if count < 1 and count != -1:
        raise ValueError("count must be at least 1, or -1 for every call")

    rule = FailRule(
        endpoint=endpoint,
        errcode=errcode,
        remaining=count,
        openid=openid,
        errmsg=errmsg,
    )
    with state.lock:
        state.fail_rules.append(rule)
    return rule


def raise_if_injected(state, endpoint, openid=None):
    """Raise the WeChatError of the first rule matching this call, and use it up."""
    with state.lock:
        rule = _first_match(state.fail_rules, endpoint, openid)
        if rule is None:
            return
        if rule.remaining > 0:
            rule.remaining -= 1
            if rule.remaining == 0:
                state.fail_rules.remove(rule)
        state.stats["injected_failures"] += 1

    log.info("injected failure endpoint=%s errcode=%s", endpoint, rule.errcode)
    raise WeChatError(rule.errcode, errmsg=rule.errmsg)


def _first_match(rules, endpoint, openid):
    for rule in rules:
        if rule.endpoint not in ("*", endpoint):
            continue
        if rule.openid is not None and rule.openid != openid:
            continue
        return rule
    return None
