"""Shared extension objects, each attached to the app by ``init_app``."""

import redis
from flask import current_app
from flask_migrate import Migrate

from models import db

migrate = Migrate()


def init_redis(app):
    """Create the app's Redis client; connecting is lazy, so a down Redis does not stop startup."""
    app.extensions["redis"] = redis.Redis.from_url(
        app.config["REDIS_URL"], socket_timeout=2, socket_connect_timeout=2
    )


def get_redis():
    return current_app.extensions["redis"]


def init_app(app):
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.config["MIGRATIONS_DIR"]))
    init_redis(app)
