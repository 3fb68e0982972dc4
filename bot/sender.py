"""Send one template message and classify the result by WeChat's errcode.

The policy, per errcode:

- 40001, 40014, 42001 (token invalid or expired): refresh the shared token
  once and retry once. A second rejection is recorded as failed.
- -1 (system busy), 45009 (API call quota reached), timeouts and network errors:
  retry later, with ``backoff_seconds`` between attempts.
- 43004 (user does not follow), 40003 (openid not of this account): the
  recipient is unreachable and retrying cannot help.
- 40037 (template_id invalid), 47003 (field breaks its rule): every message
  of the batch would fail the same way, so the batch must stop.
- Any other errcode: recorded as failed, not retried.
"""

import logging
from dataclasses import dataclass, replace

from bot.errors import AccessTokenError, WeChatAPIError, WeChatNetworkError

logger = logging.getLogger(__name__)

SENT = "sent"
RETRY_LATER = "retry_later"
UNREACHABLE = "unreachable"
FAILED = "failed"
FAILED_LOUD = "failed_loud"

TOKEN_ERRCODES = frozenset({40001, 40014, 42001})
RETRY_LATER_ERRCODES = frozenset({-1, 45009})
UNREACHABLE_ERRCODES = frozenset({43004, 40003})
FAILED_LOUD_ERRCODES = frozenset({40037, 47003})

# Backoff for RETRY_LATER: 60 s doubling per attempt, at most one hour
# between attempts, and the send is given up after MAX_SEND_ATTEMPTS.
BACKOFF_BASE_SECONDS = 60
BACKOFF_CAP_SECONDS = 3600
MAX_SEND_ATTEMPTS = 6


@dataclass(frozen=True)
class SendOutcome:
    """Result of one template send, for the delivery log.

    ``status`` is one of SENT, RETRY_LATER, UNREACHABLE, FAILED and
    FAILED_LOUD. ``errcode`` is None for SENT and for network errors.
    ``token_refreshed`` records that a token rejection led to a refresh.
    """

    status: str
    msgid: int | None = None
    errcode: int | None = None
    errmsg: str = ""
    token_refreshed: bool = False

    @property
    def stops_batch(self):
        """True when the rest of the batch would fail the same way."""
        return self.status == FAILED_LOUD

    @property
    def retryable(self):
        """True when the caller should schedule another attempt."""
        return self.status == RETRY_LATER


def backoff_seconds(attempt, base=BACKOFF_BASE_SECONDS, cap=BACKOFF_CAP_SECONDS):
    """Return the delay before retry number ``attempt`` (1 for the first retry).

    The delay doubles per attempt up to ``cap``. Callers give up once
    ``attempt`` exceeds ``MAX_SEND_ATTEMPTS``.
    """
    exponent = max(attempt - 1, 0)
    # The exponent is bounded so that a large attempt number cannot build
    # a huge integer before the cap applies.
    return min(cap, base * 2 ** min(exponent, 32))


def send_with_policy(
    client,
    token_store,
    openid,
    template_id,
    data,
    miniprogram_appid=None,
    pagepath=None,
    client_msg_id=None,
):
    """Send a template message through ``client`` and return a ``SendOutcome``.

    WeChat errors, network errors and failed token fetches become
    outcomes instead of exceptions, but Redis errors propagate. The token
    is read from ``token_store`` and passed to the client explicitly, so
    that a rejection refreshes exactly that token.
    """
    message = {
        "openid": openid,
        "template_id": template_id,
        "data": data,
        "miniprogram_appid": miniprogram_appid,
        "pagepath": pagepath,
        "client_msg_id": client_msg_id,
    }
    try:
        token = token_store.get()
    except AccessTokenError as exc:
        return _log(_token_failure(exc), client_msg_id)

    outcome = _attempt(client, token, message)
    if outcome.status != FAILED or outcome.errcode not in TOKEN_ERRCODES:
        return _log(outcome, client_msg_id)

    try:
        token = token_store.force_refresh(token)
    except AccessTokenError as exc:
        return _log(_token_failure(exc), client_msg_id)
    retried = _attempt(client, token, message)
    return _log(replace(retried, token_refreshed=True), client_msg_id)


def _attempt(client, token, message):
    try:
        msgid = client.send_template(access_token=token, **message)
    except WeChatNetworkError as exc:
        return SendOutcome(RETRY_LATER, errmsg=str(exc))
    except WeChatAPIError as exc:
        return SendOutcome(
            _status_for(exc.errcode), errcode=exc.errcode, errmsg=exc.errmsg
        )
    return SendOutcome(SENT, msgid=msgid)


def _status_for(errcode):
    if errcode in RETRY_LATER_ERRCODES:
        return RETRY_LATER
    if errcode in UNREACHABLE_ERRCODES:
        return UNREACHABLE
    if errcode in FAILED_LOUD_ERRCODES:
        return FAILED_LOUD
    return FAILED


def _token_failure(exc):
    """Classify a failed token fetch.

    Network errors and WeChat busy or quota errors are retried later. Any
    other errcode (40125 invalid secret, 40164 IP not in the allow list)
    blocks every send, so the batch stops.
    """
    if exc.errcode is None or exc.errcode in RETRY_LATER_ERRCODES:
        status = RETRY_LATER
    else:
        status = FAILED_LOUD
    return SendOutcome(status, errcode=exc.errcode, errmsg=exc.errmsg)


def _log(outcome, client_msg_id):
    # A fan-out sends thousands of messages and the delivery log stores
    # each one, so a success is logged at DEBUG and a failure per message.
    if outcome.status == SENT:
        logger.debug(
            "Template message sent client_msg_id=%s msgid=%s",
            client_msg_id,
            outcome.msgid,
        )
    else:
        level = logging.ERROR if outcome.stops_batch else logging.WARNING
        logger.log(
            level,
            "Template message not sent client_msg_id=%s status=%s errcode=%s "
            "errmsg=%s token_refreshed=%s",
            client_msg_id,
            outcome.status,
            outcome.errcode,
            outcome.errmsg,
            outcome.token_refreshed,
        )
    return outcome
