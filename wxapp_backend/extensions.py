"""Shared extension objects, each attached to the app by ``init_app``."""

import redis
from flask import current_app
from flask_migrate import Migrate

from models import db

migrate = Migrate()


def init_redis(app):
    """Create the app's Redis client.

    Connecting is lazy, so a Redis that is down does not stop the app starting.
    """
    app.extensions["redis"] = redis.Redis.from_url(
        app.config["REDIS_URL"], socket_timeout=2, socket_connect_timeout=2
    )


def get_redis():
    return current_app.extensions["redis"]


def configure_sqlite(app):
    """Make SQLite writers wait up to ``SQLITE_BUSY_TIMEOUT_MS`` for the write lock.

    SQLite allows one writer at a time. A second one gets "database is
    locked" once its busy timeout runs out, and the error handlers turn that
    into a retry-able 503. pysqlite's ``timeout`` argument is that busy
    timeout, in seconds.
    """
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    connect_args = dict(options.get("connect_args") or {})
    connect_args.setdefault("timeout", app.config["SQLITE_BUSY_TIMEOUT_MS"] / 1000)
    options["connect_args"] = connect_args
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def init_app(app):
    configure_sqlite(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.config["MIGRATIONS_DIR"]))
    init_redis(app)
