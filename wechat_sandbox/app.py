"""Flask app factory of the local WeChat API sandbox."""

import logging

from flask import Flask

from . import (
    control,
    control_events,
    miniprogram,
    phone,
    qrcodes,
    template_messages,
    tokens,
)
from .api import EXTENSION_KEY
from .config import load_sandbox_settings
from .push import callback_url
from .state import SandboxState

log = logging.getLogger(__name__)

BLUEPRINTS = (
    tokens.bp,
    miniprogram.bp,
    qrcodes.bp,
    template_messages.bp,
    control.bp,
    control_events.bp,
    phone.bp,
)


def create_sandbox_app(config=None, environ=None):
    """Create the sandbox app; ``config`` overrides settings read from ``environ``.

    Raises ``CallbackRejected`` when SANDBOX_CALLBACK_URL is not a loopback URL.
    """
    app = Flask(__name__, static_folder=None)
    app.config.update(load_sandbox_settings(environ, config))
    app.json.ensure_ascii = False
    callback_url(app.config)

    app.extensions[EXTENSION_KEY] = SandboxState()
    app.extensions[template_messages.REGISTRY_KEY] = template_messages.load_registry(
        app.config["WECHAT_TEMPLATES_FILE"]
    )
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    return app
