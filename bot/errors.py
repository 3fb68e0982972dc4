"""Exceptions raised by the WeChat-facing code in ``bot``.

Every exception that carries a WeChat ``errcode`` exposes it as an attribute,
because callers decide what to do by errcode, never by ``errmsg``: WeChat
appends a random request id (``rid: ...``) to every errmsg.
"""


class WeChatError(Exception):
    """Base class of the exceptions defined in ``bot``."""


class WeChatAPIError(WeChatError):
    """WeChat returned a non-zero ``errcode`` for an API call."""

    def __init__(self, errcode, errmsg=""):
        super().__init__(f"WeChat API error errcode={errcode} errmsg={errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WeChatNetworkError(WeChatError):
    """WeChat could not be reached, timed out, or sent a non-JSON or HTTP error reply.

    WeChat reports its own errors with HTTP 200 and JSON, so anything else is
    a transport problem and is worth retrying later.
    """


class AccessTokenError(WeChatError):
    """Fetching the access token failed.

    ``errcode`` is WeChat's code (40125 invalid secret, 40164 caller IP not
    in the allow list, -1 system busy, 45009 quota), or None when WeChat
    could not be reached or no refresh finished in time.
    """

    def __init__(self, errcode, errmsg=""):
        super().__init__(f"access token fetch failed errcode={errcode} errmsg={errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class MiniProgramLoginError(WeChatError):
    """Exchanging a ``wx.login`` code for a session failed.

    ``user_message`` is Chinese text the mini-program can show as is.
    ``errcode`` is WeChat's code, or None for network errors and timeouts.
    ``retryable`` is True when the same user may try again shortly with a
    new code (WeChat busy, rate limit, network).
    """

    def __init__(self, errcode, user_message, retryable=False):
        super().__init__(f"mini-program login failed errcode={errcode}")
        self.errcode = errcode
        self.user_message = user_message
        self.retryable = retryable


class TemplateConfigError(WeChatError):
    """The template file is invalid, or a template kind is not in it."""


class TemplateFieldError(WeChatError):
    """A template message field value breaks WeChat's rule for its type.

    WeChat rejects such a message with errcode 47003. Checking before the
    send names the field while the caller can still fix the value.
    """

    def __init__(self, kind, field, reason):
        super().__init__(f"template {kind} field {field}: {reason}")
        self.kind = kind
        self.field = field
        self.reason = reason


class CallbackError(WeChatError):
    """A push to the callback URL was rejected.

    ``http_status`` is the status the callback view should respond with.
    """

    http_status = 400


class InvalidSignature(CallbackError):
    """The push's signature, msg_signature or timestamp is wrong."""

    http_status = 403


class BadPayload(CallbackError):
    """The body is not well-formed callback XML, or its ciphertext is corrupt."""

    http_status = 400


class WrongAppId(BadPayload):
    """The ciphertext decrypts, but names another app's appid."""


class TooLarge(CallbackError):
    """The body is larger than the configured byte limit."""

    http_status = 413
