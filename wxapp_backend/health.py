"""``GET /healthz``: database and Redis status for load balancers and people."""

import logging

from flask import Blueprint, jsonify
from sqlalchemy import text

from models import db
from wxapp_backend.extensions import get_redis

logger = logging.getLogger(__name__)
blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz():
    checks = {"database": _check_database(), "redis": _check_redis()}
    healthy = all(status == "ok" for status in checks.values())
    body = {"status": "ok" if healthy else "degraded", "checks": checks}
    return jsonify(body), 200 if healthy else 503


def _check_database():
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:  # any driver error means the database is down
        db.session.rollback()
        logger.warning("health check: database unavailable: %s", exc)
        return "unavailable"


def _check_redis():
    try:
        get_redis().ping()
        return "ok"
    except Exception as exc:  # redis-py raises several connection error types
        logger.warning("health check: redis unavailable: %s", exc)
        return "unavailable"
