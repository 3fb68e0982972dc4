"""Baseline endpoints for the benchmarks in ``benchmarks/``, under ``/bench``.

Each benchmark compares a real endpoint with a baseline served by the same
gunicorn workers in the same run, so the server, the HTTP stack and the
machine are the same on both sides:

- ``PUT /bench/bare-save`` parses the JSON body like a category save and
  returns a small JSON object: Flask with no database work.
- ``GET /bench/raw-review-list`` fetches the rows of one page of a town's
  review list with two hand-written SQL statements and returns them as JSON.
- ``POST /bench/bare-callback`` reads the body like the WeChat callback and
  returns ``success``.
- ``GET /bench/pid`` returns the worker's process id, so a benchmark can
  wait until every gunicorn worker has booted before it measures.

Mounted only when ``BENCHMARK_ENDPOINTS`` is true, and never in production.
"""

import logging
import os

from flask import Blueprint, jsonify, request
from sqlalchemy import text

from models import db

logger = logging.getLogger(__name__)
blueprint = Blueprint("benchmark", __name__, url_prefix="/bench")

_PENDING = (
    " AND EXISTS (SELECT 1 FROM entries s"
    " WHERE s.project_id = p.id AND s.state = 'submitted')"
)
_COUNT_SQL = "SELECT count(*) FROM projects p WHERE p.town_id = :town_id{extra}"
# The page of projects and, joined, their entries, town and company: the
# rows that the review list serializes.
_PAGE_SQL = """
SELECT p.id, p.name, p.address, p.status, p.updated_at,
       t.id AS town_id, t.code AS town_code, t.name AS town_name,
       c.id AS company_id, c.name AS company_name, c.credit_code,
       e.category, e.state, e.completeness, e.version, e.last_opinion,
       e.updated_at AS entry_updated_at
FROM (SELECT p.* FROM projects p WHERE p.town_id = :town_id{extra}
      ORDER BY p.updated_at DESC, p.id DESC LIMIT :limit OFFSET :offset) AS p
JOIN towns t ON t.id = p.town_id
LEFT JOIN companies c ON c.id = p.company_id
JOIN entries e ON e.project_id = p.id
ORDER BY p.updated_at DESC, p.id DESC, e.id
"""


@blueprint.get("/pid")
def worker_pid():
    return jsonify({"pid": os.getpid()})


@blueprint.put("/bare-save")
def bare_save():
    body = request.get_json(silent=True) or {}
    return jsonify({"ok": True, "version": body.get("version")})


@blueprint.get("/raw-review-list")
def raw_review_list():
    town_id = request.args.get("town_id", type=int)
    page = request.args.get("page", 1, type=int)
    size = request.args.get("per_page", 20, type=int)
    extra = _PENDING if request.args.get("filter") == "pending" else ""
    params = {"town_id": town_id, "limit": size, "offset": (page - 1) * size}

    total = db.session.execute(text(_COUNT_SQL.format(extra=extra)), params).scalar()
    rows = db.session.execute(text(_PAGE_SQL.format(extra=extra)), params).mappings()
    projects = {}
    for row in rows:
        project = projects.setdefault(row["id"], _project(row))
        project["categories"].append(_entry(row))
    db.session.commit()
    return jsonify(
        {
            "projects": list(projects.values()),
            "page": page,
            "per_page": size,
            "total": total,
        }
    )


def _iso(value):
    return value.isoformat() if value is not None else None


def _project(row):
    company = None
    if row["company_id"] is not None:
        company = {
            "id": row["company_id"],
            "name": row["company_name"],
            "credit_code": row["credit_code"],
        }
    return {
        "id": row["id"],
        "name": row["name"],
        "address": row["address"],
        "status": row["status"],
        "updated_at": _iso(row["updated_at"]),
        "town": {
            "id": row["town_id"],
            "code": row["town_code"],
            "name": row["town_name"],
        },
        "company": company,
        "categories": [],
    }


def _entry(row):
    return {
        "category": row["category"],
        "state": row["state"],
        "completeness": row["completeness"],
        "version": row["version"],
        "last_opinion": row["last_opinion"],
        "updated_at": _iso(row["entry_updated_at"]),
    }


@blueprint.post("/bare-callback")
def bare_callback():
    request.get_data()
    return "success", 200, {"Content-Type": "text/plain; charset=utf-8"}


def init_app(app):
    """Mount the baselines when ``BENCHMARK_ENDPOINTS`` is set, outside production."""
    if not app.config.get("BENCHMARK_ENDPOINTS"):
        return
    if app.config["APP_ENV"] == "production":
        logger.warning("BENCHMARK_ENDPOINTS ignored: production never mounts /bench")
        return
    app.register_blueprint(blueprint)
