"""The 09:00 digest's numbers over 100,000 projects, against one raw GROUP BY.

Real: ``jobs.digest.preview``, the digest computation without its writes:
the towns, the recipients, the previous day's snapshots and
``models.progress.town_progress`` (projects per town, entries per state per
town) through the ORM, then one message per recipient.

Baseline, in the same run on the same rows: the two hand-written GROUP BY
statements a person would write for those numbers, sent through the raw
DBAPI connection (``exec_driver_sql``) and fetched.

Memory: the peak of Python allocations (``tracemalloc``) during one digest
computation, at 10,000 and at 100,000 projects. The numbers come from two
grouped queries, so the peak should not grow with the number of projects.

The database is made fresh by ``jobs.demo_data.generate`` on each run: the
small size first, then grown to the large one. SQLite by default (a file in
the temp folder); ``--postgres`` uses the private PostgreSQL cluster of
``scripts/start_postgres.sh``, and ``--database-url`` any database (it is
emptied first).

Usage: .venv/bin/python benchmarks/digest_bench.py [--rounds 7] [--postgres]
"""

import argparse
import statistics
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime
from pathlib import Path

from common import (
    alternate_rounds,
    make_app,
    median_ratio,
    postgres_url,
    report,
    reset_database,
    upgrade_and_analyze,
)

SMALL, LARGE = 10_000, 100_000
GOAL = 1.5
DAY = date(2026, 12, 4)
NOW = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)

RAW_PROJECTS = (
    "SELECT town_id, COUNT(*) FROM projects "
    "WHERE duplicate_of_id IS NULL GROUP BY town_id"
)
RAW_ENTRIES = (
    "SELECT p.town_id, e.state, COUNT(*) FROM entries e "
    "JOIN projects p ON p.id = e.project_id "
    "WHERE p.duplicate_of_id IS NULL GROUP BY p.town_id, e.state"
)


def digest_seconds(app):
    from jobs import digest
    from jobs.slots import Campaign

    campaign = Campaign(date(2026, 12, 1), date(2026, 12, 31))
    with app.app_context():
        started = time.perf_counter()
        messages = digest.preview(DAY, NOW, campaign)
        elapsed = time.perf_counter() - started
    assert messages, "the generated data has reviewers, so the digest has messages"
    return elapsed


def raw_seconds(app):
    from models import db

    with app.app_context(), db.engine.connect() as connection:
        started = time.perf_counter()
        projects = connection.exec_driver_sql(RAW_PROJECTS).fetchall()
        entries = connection.exec_driver_sql(RAW_ENTRIES).fetchall()
        elapsed = time.perf_counter() - started
    assert projects and entries
    return elapsed


def check_same_numbers(app):
    """Fail loudly unless the digest and the raw queries count the same entries."""
    from models import db
    from models.progress import town_progress

    with app.app_context():
        rows = {row.town_id: row for row in town_progress()}
        with db.engine.connect() as connection:
            counted = connection.exec_driver_sql(RAW_ENTRIES).fetchall()
    for town_id, state, count in counted:
        if state == "submitted":
            assert rows[town_id].pending == count, (town_id, state, count)
        if state == "approved":
            assert rows[town_id].approved == count, (town_id, state, count)


def peak_kib(app):
    """Peak Python allocations of one digest computation, in KiB."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    digest_seconds(app)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1024


def grow_to(app, total):
    from jobs.demo_data import generate
    from models import Project, db

    with app.app_context():
        present = db.session.query(Project).count()
        started = time.monotonic()
        summary = generate(total - present)
    print(f"{summary} in {time.monotonic() - started:.0f}s (now {total} projects)")
    upgrade_and_analyze(app)


def measure(app, rounds):
    check_same_numbers(app)
    for _ in range(2):
        digest_seconds(app)
        raw_seconds(app)
    return alternate_rounds(
        rounds, lambda: digest_seconds(app), lambda: raw_seconds(app)
    )


def database_url(options):
    if options.database_url:
        return options.database_url
    if options.postgres:
        return postgres_url("wxapp_bench_digest")
    path = Path(tempfile.gettempdir()) / "wxapp-bench-digest.sqlite3"
    return f"sqlite:///{path}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds")
    parser.add_argument(
        "--postgres", action="store_true", help="use the private PostgreSQL cluster"
    )
    parser.add_argument("--database-url", help="any database URL; it is emptied first")
    options = parser.parse_args()

    url = database_url(options)
    app = make_app(url, "redis://127.0.0.1:9/0")
    reset_database(app)
    lines = [f"database: {app.config['SQLALCHEMY_DATABASE_URI'].split('://')[0]}"]
    peaks = {}
    for total in (SMALL, LARGE):
        grow_to(app, total)
        print(f"{total} projects:")
        real, baseline = measure(app, options.rounds)
        peaks[total] = statistics.median(peak_kib(app) for _ in range(3))
        lines += [
            f"{total} projects: digest ms per round: "
            + ", ".join(f"{value * 1000:.1f}" for value in real),
            f"{total} projects: raw GROUP BY ms per round: "
            + ", ".join(f"{value * 1000:.1f}" for value in baseline),
            (
                f"{total} projects: median ratio digest/raw: "
                f"{median_ratio(real, baseline):.2f} (goal <= {GOAL}); "
                f"digest peak Python memory {peaks[total]:.0f} KiB"
            ),
        ]
    lines.append(
        f"peak memory {LARGE} vs {SMALL} projects: {peaks[LARGE] / peaks[SMALL]:.2f}x"
    )
    report("digest computation vs raw GROUP BY", lines)


if __name__ == "__main__":
    main()
