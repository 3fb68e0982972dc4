"""Sandbox settings: the product's WeChat identities plus sandbox-only knobs.

The app ids, secrets, callback token and EncodingAESKey come from
``wxapp_backend.config.load_settings`` so that the sandbox and the product
agree on them without a second place to configure. Sandbox-only values are
read from ``SANDBOX_*`` environment variables. ``create_sandbox_app`` applies
an override mapping on top, which is how tests configure it.
"""

import os

from wxapp_backend.config import ConfigError, load_settings

SHARED_NAMES = (
    "WECHAT_APP_ID",
    "WECHAT_APP_SECRET",
    "MINIPROGRAM_APP_ID",
    "MINIPROGRAM_APP_SECRET",
    "WECHAT_TOKEN",
    "WECHAT_AES_KEY",
    "WECHAT_TEMPLATES_FILE",
)


def _bool(raw, default):
    if raw in (None, ""):
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


def _number(environ, name, default, kind=int):
    raw = environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return kind(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc


def load_sandbox_settings(environ=None, overrides=None):
    """Build the sandbox config mapping from ``environ`` and ``overrides``.

    Raises ``ConfigError`` when a value has the wrong type.
    """
    environ = os.environ if environ is None else environ
    product = load_settings(environ)
    settings = {name: product[name] for name in SHARED_NAMES if name in product}
    settings.update(
        SANDBOX_PORT=_number(environ, "SANDBOX_PORT", 8100),
        SANDBOX_CALLBACK_URL=environ.get(
            "SANDBOX_CALLBACK_URL", "http://127.0.0.1:8000/wechat/callback"
        ),
        SANDBOX_SAFE_MODE=_bool(environ.get("SANDBOX_SAFE_MODE"), True),
        SANDBOX_AUTO_JOBFINISH=_bool(environ.get("SANDBOX_AUTO_JOBFINISH"), True),
        # Seconds between accepting a template message and pushing its
        # TEMPLATESENDJOBFINISH event.
        SANDBOX_JOBFINISH_DELAY=_number(
            environ, "SANDBOX_JOBFINISH_DELAY", 0.5, kind=float
        ),
        # Seconds a force-refreshed stable token stays valid after the refresh.
        # NOTE: WeChat's stable_token page states that a forced refresh ends the
        # previous token but names no delay. The default copies the five-minute
        # overlap documented for ordinary refreshes; 0 tests an instant cut.
        SANDBOX_FORCE_REFRESH_GRACE=_number(
            environ, "SANDBOX_FORCE_REFRESH_GRACE", 300
        ),
        # Seconds during which a repeated (openid, client_msg_id) is dropped.
        SANDBOX_CLIENT_MSG_ID_WINDOW=_number(
            environ, "SANDBOX_CLIENT_MSG_ID_WINDOW", 600
        ),
        # Timeout in seconds of one push to the callback; WeChat waits 5 s.
        SANDBOX_PUSH_TIMEOUT=_number(environ, "SANDBOX_PUSH_TIMEOUT", 5, kind=float),
        # The service account's original id (gh_...), sent as ToUserName.
        SANDBOX_ORIGINAL_ID=environ.get("SANDBOX_ORIGINAL_ID", "gh_3f9a1c2b7d4e"),
    )
    settings.update(overrides or {})
    return settings
