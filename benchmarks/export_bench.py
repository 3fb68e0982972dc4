"""XLSX export of the warehouse (数据入库) for 100,000 approved projects.

Goal: under 60 s on this 2-core machine, with memory that does not grow
with the number of rows. Each export runs ``jobs.export.run_export`` in a
fresh child process (as an rq worker would), which reports its wall time
and peak RSS. Two sizes are exported in alternating rounds: one town
(about a seventh of the projects) and the whole district. Flat memory
means the district's peak RSS stays close to the town's.

Baseline, measured in the same run: reading the same approved rows (the
export's own keyset query, batch by batch) without writing a file, to
show how much of the time is the query and how much the XLSX writing.

The database contains 100,000 projects whose three categories are all
approved, made in bulk with ``jobs.demo_data``; it is kept between runs and
made again only when its project count differs.

Usage: .venv/bin/python benchmarks/export_bench.py [--rounds 3]
"""

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

from common import (
    ROOT,
    assign_companies,
    make_app,
    postgres_url,
    redis_server,
    report,
    reset_database,
    upgrade_and_analyze,
)
from sqlalchemy import inspect

PROJECTS = 100_000
TOWN_SLUG = "guicheng"
GOAL_SECONDS = 60


def generate_approved(app, count):
    """Bulk-insert ``count`` projects with every category approved.

    Uses the batch builder of ``flask demo generate`` with its state mix
    narrowed to approved.
    """
    import random

    from jobs import demo_data
    from models.form_schema import load_schema
    from models.project import STATE_APPROVED

    with app.app_context():
        rng = random.Random(100_000)
        towns = demo_data._towns()
        reviewers = {town.id: demo_data._reviewer_of(town) for town in towns}
        staff = demo_data._create_staff(rng, count // demo_data.PROJECTS_PER_STAFF)
        schema = load_schema(app.config["FORM_SCHEMA_FILE"])
        builder = demo_data.BatchBuilder(rng, schema, towns, staff, reviewers)
        # NOTE: relies on BatchBuilder picking each entry's state from
        # ``states`` and ``weights``; an all-approved mode there would be sturdier.
        builder.states, builder.weights = [STATE_APPROVED], [1]
        summary = demo_data.GenerateSummary(0, 0, 0, 0, len(staff))
        for start in range(0, count, demo_data.BATCH_SIZE):
            builder.insert_batch(min(demo_data.BATCH_SIZE, count - start), summary)
            demo_data.db.session.commit()
    return summary


def ensure_projects(app):
    from models import Project, db

    with app.app_context():
        present = -1
        if inspect(db.engine).has_table("projects"):
            present = db.session.query(Project).count()
    if present != PROJECTS:
        reset_database(app)
        started = time.monotonic()
        summary = generate_approved(app, PROJECTS)
        print(f"{summary} in {time.monotonic() - started:.0f}s", flush=True)
    assign_companies(app)
    upgrade_and_analyze(app)


def create_export(app, town_id):
    """Add a queued XLSX ``ExportJob`` of every category; return its id."""
    from models import ExportJob, User, db
    from models.account import ROLE_ADMIN
    from models.form_schema import load_schema
    from wxapp_backend.console.warehouse import count_approved

    with app.app_context():
        admin = User.query.filter_by(role=ROLE_ADMIN).first()
        if admin is None:
            admin = User(role=ROLE_ADMIN, name="压测管理员", username="bench_admin")
            db.session.add(admin)
            db.session.flush()
        categories = load_schema(app.config["FORM_SCHEMA_FILE"]).category_keys
        export = ExportJob(
            requested_by_id=admin.id,
            town_id=town_id,
            file_format="xlsx",
            categories=list(categories),
            total=count_approved(categories, town_id),
        )
        db.session.add(export)
        db.session.commit()
        return export.id, export.total


def run_child(mode, database_url, redis_url, export_dir, target):
    """Run one export (or the read-only baseline) in a fresh process."""
    command = [
        sys.executable,
        __file__,
        "--child",
        mode,
        database_url,
        redis_url,
        export_dir,
        str(target),
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, cwd=ROOT, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def child_main(mode, database_url, redis_url, export_dir, target):
    app = make_app(database_url, redis_url, EXPORT_DIR=export_dir)
    with app.app_context():
        started = time.perf_counter()
        if mode == "export":
            from jobs.export import export_path, run_export
            from models import ExportJob, db

            run_export(int(target))
            size = export_path(db.session.get(ExportJob, int(target))).stat().st_size
        else:
            size = read_only(None if target == "None" else int(target))
        elapsed = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": elapsed, "peak_mib": peak_kib / 1024, "size": size}))


def read_only(town_id):
    """Read every approved row as the export does, writing nothing; return the count."""
    from flask import current_app

    from models.form_schema import load_schema
    from wxapp_backend.console.warehouse import approved_rows

    rows = 0
    for category in load_schema(current_app.config["FORM_SCHEMA_FILE"]).category_keys:
        for _ in approved_rows(category, town_id, lambda count: None):
            rows += 1
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    options = parser.parse_args()

    import tempfile

    from models import Town

    database_url = postgres_url("wxapp_bench_export")
    export_dir = tempfile.mkdtemp(prefix="export-bench-")
    results = {"town": [], "district": [], "read": []}
    with redis_server() as redis_url:
        app = make_app(database_url, redis_url, EXPORT_DIR=export_dir)
        ensure_projects(app)
        with app.app_context():
            town_id = Town.query.filter_by(slug=TOWN_SLUG).one().id
        for number in range(1, options.rounds + 1):
            town_export, town_rows = create_export(app, town_id)
            district_export, district_rows = create_export(app, None)
            results["town"].append(
                run_child("export", database_url, redis_url, export_dir, town_export)
            )
            results["district"].append(
                run_child(
                    "export", database_url, redis_url, export_dir, district_export
                )
            )
            results["read"].append(
                run_child("read", database_url, redis_url, export_dir, None)
            )
            print(
                f"  round {number}: district {results['district'][-1]['seconds']:.1f}s "
                f"{results['district'][-1]['peak_mib']:.0f} MiB, town "
                f"{results['town'][-1]['seconds']:.1f}s "
                f"{results['town'][-1]['peak_mib']:.0f} MiB, read only "
                f"{results['read'][-1]['seconds']:.1f}s",
                flush=True,
            )

    def median(kind, key):
        return statistics.median(result[key] for result in results[kind])

    district_mib, town_mib = median("district", "peak_mib"), median("town", "peak_mib")
    district_seconds, read_seconds = (
        median("district", "seconds"),
        median("read", "seconds"),
    )
    file_mib = results["district"][-1]["size"] / 2**20
    town_seconds = median("town", "seconds")
    lines = [
        (
            f"district: {district_rows} rows, median {district_seconds:.1f} s, "
            f"peak RSS {district_mib:.0f} MiB, file {file_mib:.1f} MiB "
            f"(goal < {GOAL_SECONDS} s)"
        ),
        (
            f"one town: {town_rows} rows, median {town_seconds:.1f} s, "
            f"peak RSS {town_mib:.0f} MiB"
        ),
        (
            f"peak RSS district/town: {district_mib / town_mib:.2f} "
            f"for {district_rows / town_rows:.1f}x the rows"
        ),
        (
            f"reading the same rows without writing: median {read_seconds:.1f} s; "
            f"export/read: {district_seconds / read_seconds:.2f}"
        ),
    ]
    report(f"XLSX export of {PROJECTS} approved projects (PostgreSQL)", lines)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(*sys.argv[2:7])
    else:
        main()
