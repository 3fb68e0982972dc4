"""The Flask application factory."""

import logging
import os
from pathlib import Path

from flask import Flask

from wxapp_backend.config import ROOT, load_settings

logger = logging.getLogger(__name__)


def create_app(overrides=None):
    """Build the app from environment settings, then apply ``overrides``.

    Raises ``ConfigError`` in production when a required secret is missing.
    """
    app = Flask(__name__, instance_path=str(ROOT / "instance"))
    app.config.update(load_settings())
    app.config["MIGRATIONS_DIR"] = ROOT / "migrations"
    if overrides:
        app.config.update(overrides)
    _normalise_database_uri(app)
    _configure_logging(app)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from wxapp_backend import extensions

    extensions.init_app(app)
    _trust_proxy(app)
    _register_blueprints(app)
    _register_extensions(app)
    return app


def _normalise_database_uri(app):
    from wxapp_backend.config import _normalise_database_url

    app.config["SQLALCHEMY_DATABASE_URI"] = _normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )


def _trust_proxy(app):
    """Behind a reverse proxy, take the client address and scheme from its headers.

    ``PROXY_FIX_HOPS`` is the number of proxies in front of the app; 0 (the
    default) trusts no forwarded header, so clients cannot fake their address.
    """
    hops = int(os.environ.get("PROXY_FIX_HOPS", app.config.get("PROXY_FIX_HOPS", 0)))
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def _configure_logging(app):
    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # urllib3 logs request URLs at DEBUG, and WeChat URLs carry the access
    # token or the app secret in their query string.
    logging.getLogger("urllib3").setLevel(
        max(logging.INFO, logging.getLevelName(level))
    )
    # Alembic announces each of its plugins at INFO whenever it is imported.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def _register_blueprints(app):
    from wxapp_backend import benchmark_routes, errors, health
    from wxapp_backend.api import api_blueprint

    errors.init_app(app)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(api_blueprint)
    benchmark_routes.init_app(app)


def _register_extensions(app):
    """Attach parts built in other packages; each has its own ``init_app``."""
    from wxapp_backend import cli

    cli.init_app(app)
    for module_name in app.config.get("EXTRA_INIT_MODULES", DEFAULT_PARTS):
        module = __import__(module_name, fromlist=["init_app"])
        module.init_app(app)


# Parts that register themselves on the app. A part missing from this list
# is simply not mounted; each is listed once, here.
DEFAULT_PARTS = ("bot.web", "jobs", "wxapp_backend.console")
