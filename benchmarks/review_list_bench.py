"""A reviewer's project list for a town of 20,000 projects, against raw SQL.

Real: ``GET /api/review/projects`` as the town's reviewer (bearer token,
scope rules, ORM queries, JSON of 20 projects with their categories).

Baselines, measured in the same run:

- ``GET /bench/raw-review-list`` on the same gunicorn workers: the same
  rows (the count and one page of projects with their entries, town and
  company) fetched with two hand-written SQL statements and returned as
  JSON. Both sides pay the same HTTP and Flask costs, so the ratio is the
  price of the ORM, the session check and the serializers.
- The same two SQL statements through psycopg from this process, without
  HTTP: the floor, printed for reference.

Each round sends the same sequence of pages (1 to 10) to each side over
one keep-alive connection, one request at a time, and takes the median
latency. The list is measured unfiltered and with ``filter=pending``.

The database contains 140,000 projects (7 towns x 20,000) made by
``jobs.demo_data.generate``; it is kept between runs and made again only
when its project count differs.

Usage: .venv/bin/python benchmarks/review_list_bench.py [--rounds 5]
"""

import argparse
import http.client
import json
import statistics
import time

from common import (
    Gunicorn,
    alternate_rounds,
    assign_companies,
    make_app,
    median_ratio,
    open_tokens,
    postgres_url,
    redis_server,
    report,
    reset_database,
    upgrade_and_analyze,
)
from sqlalchemy import inspect

TOWNS = 7
PROJECTS_PER_TOWN = 20_000
TOWN_SLUG = "guicheng"
PAGES = range(1, 11)
GOAL = 2.0


def ensure_projects(app, total):
    """Generate ``total`` projects unless the database already contains exactly that many."""
    from models import Project, db

    with app.app_context():
        present = -1
        if inspect(db.engine).has_table("projects"):
            present = db.session.query(Project).count()
    if present == total:
        print(f"reusing {total} generated projects")
    else:
        reset_database(app)
        from jobs.demo_data import generate

        started = time.monotonic()
        with app.app_context():
            summary = generate(total)
        print(f"{summary} in {time.monotonic() - started:.0f}s")
    assign_companies(app)
    upgrade_and_analyze(app)


def town_reviewer(app):
    from models import Project, Town, User, db
    from models.account import ROLE_REVIEWER

    with app.app_context():
        town = Town.query.filter_by(slug=TOWN_SLUG).one()
        reviewer = User.query.filter_by(role=ROLE_REVIEWER, town_id=town.id).first()
        count = db.session.query(Project).filter_by(town_id=town.id).count()
        return town.id, reviewer.id, count


class Client:
    """One keep-alive HTTP connection; ``get`` returns the body and the seconds taken."""

    def __init__(self, port, token=None):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path):
        started = time.perf_counter()
        self.connection.request("GET", path, headers=self.headers)
        response = self.connection.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            raise RuntimeError(f"GET {path} returned {response.status}: {body[:300]!r}")
        return body, elapsed


def median_latency(client, paths):
    return statistics.median(client.get(path)[1] for path in paths)


def raw_sql_latency(database_url, town_id, pending):
    """Median time of the baseline's two statements through psycopg, page by page."""
    import psycopg
    from sqlalchemy.engine import make_url

    from wxapp_backend.benchmark_routes import _COUNT_SQL, _PAGE_SQL, _PENDING

    extra = _PENDING if pending else ""
    count_sql = _COUNT_SQL.format(extra=extra).replace(":town_id", "%(town_id)s")
    page_sql = (
        _PAGE_SQL.format(extra=extra)
        .replace(":town_id", "%(town_id)s")
        .replace(":limit", "%(limit)s")
        .replace(":offset", "%(offset)s")
    )
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    times = []
    with psycopg.connect(dsn) as connection:
        for page in PAGES:
            params = {"town_id": town_id, "limit": 20, "offset": (page - 1) * 20}
            started = time.perf_counter()
            connection.execute(count_sql, params).fetchone()
            connection.execute(page_sql, params).fetchall()
            connection.commit()
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def check_same_rows(real_client, raw_client, real_paths, raw_paths):
    """Fail loudly when the two sides do not list the same projects."""
    for real_path, raw_path in zip(real_paths[:2], raw_paths[:2]):
        real = json.loads(real_client.get(real_path)[0])
        raw = json.loads(raw_client.get(raw_path)[0])
        assert real["total"] == raw["total"], (real["total"], raw["total"])
        assert [p["id"] for p in real["projects"]] == [p["id"] for p in raw["projects"]]


def measure_variant(server, token, town_id, pending, rounds, database_url):
    suffix = "&filter=pending" if pending else ""
    real_paths = [f"/api/review/projects?page={page}{suffix}" for page in PAGES]
    raw_paths = [
        f"/bench/raw-review-list?town_id={town_id}&page={page}{suffix}"
        for page in PAGES
    ]
    real_client, raw_client = Client(server.port, token), Client(server.port)
    check_same_rows(real_client, raw_client, real_paths, raw_paths)
    for _ in range(3):
        median_latency(real_client, real_paths)
        median_latency(raw_client, raw_paths)

    real, baseline = alternate_rounds(
        rounds,
        lambda: median_latency(real_client, real_paths),
        lambda: median_latency(raw_client, raw_paths),
    )
    floor = raw_sql_latency(database_url, town_id, pending)
    return real, baseline, floor


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds")
    options = parser.parse_args()

    database_url = postgres_url("wxapp_bench_list")
    lines = []
    with redis_server() as redis_url:
        app = make_app(database_url, redis_url)
        ensure_projects(app, TOWNS * PROJECTS_PER_TOWN)
        town_id, reviewer_id, town_projects = town_reviewer(app)
        token = open_tokens(app, [reviewer_id])[0]
        server = Gunicorn(database_url, redis_url)
        with server:
            for pending in (False, True):
                name = "filter=pending" if pending else "unfiltered"
                print(f"{name}:")
                real, baseline, floor = measure_variant(
                    server, token, town_id, pending, options.rounds, database_url
                )
                ratio = median_ratio(real, baseline)
                real_ms = ", ".join(f"{value * 1000:.1f}" for value in real)
                raw_ms = ", ".join(f"{value * 1000:.1f}" for value in baseline)
                over_floor = statistics.median(real) / floor
                lines += [
                    f"{name}: /api/review/projects median ms per round: {real_ms}",
                    f"{name}: /bench/raw-review-list median ms per round: {raw_ms}",
                    (
                        f"{name}: raw SQL through psycopg, no HTTP: "
                        f"{floor * 1000:.1f} ms; endpoint / that: {over_floor:.2f}"
                    ),
                    (
                        f"{name}: median ratio endpoint/raw-SQL endpoint: "
                        f"{ratio:.2f} (goal <= {GOAL})"
                    ),
                ]
    report(
        f"review list, town of {town_projects} projects, {server.description}", lines
    )


if __name__ == "__main__":
    main()
