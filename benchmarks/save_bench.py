"""Category save throughput under 16 concurrent clients, gunicorn + PostgreSQL.

Real: ``PUT /api/projects/<id>/categories/basic`` with complete, valid data,
so each request validates every field (credit code and date checks), bumps
the version, stores a revision, writes an audit event and commits. Each of
the 16 clients is one staff account saving its own project, and changes
``households`` on every save so that no save is a no-op.

Baseline: ``PUT /bench/bare-save`` on the same gunicorn workers with the
same body: Flask parses the JSON and returns a small object.

Load comes from wrk with one connection per wrk thread, so each Lua state
tracks its own entry version from the responses. wrk is C and needs a few
per cent of a core, where a Python thread-pool client would need a core of
its own on this 2-core machine and cap the baseline it is compared with.

Usage: .venv/bin/python benchmarks/save_bench.py [--rounds 5] [--seconds 8]
"""

import argparse
import json
import random
import tempfile
from pathlib import Path

from common import (
    Gunicorn,
    alternate_rounds,
    make_app,
    median_ratio,
    open_tokens,
    postgres_url,
    redis_server,
    report,
    reset_database,
    run_wrk,
)

CLIENTS = 16
GOAL = 0.5

LUA_TEMPLATE = Path(__file__).with_name("save_bench.lua.in")


def create_staff_projects(app, count):
    """Create ``count`` staff accounts with one project each; return their ids."""
    from models import Company, Town, User, db
    from models.account import ROLE_STAFF
    from models.form_schema import load_schema
    from models.workflow import create_project
    from wxapp_backend.demo.identity import (
        make_credit_code,
        make_id_number,
        make_mobile,
    )

    rng = random.Random(16)
    schema = load_schema(app.config["FORM_SCHEMA_FILE"])
    users, projects = [], []
    with app.app_context():
        town = Town.query.filter_by(slug="guicheng").one()
        for index in range(count):
            company = Company(
                name=f"佛山市压测物业{index}有限公司", credit_code=make_credit_code(rng)
            )
            user = User(
                role=ROLE_STAFF,
                name="压测经办人",
                mobile=make_mobile(rng),
                id_number=make_id_number(rng),
                company=company,
            )
            db.session.add(user)
            db.session.flush()
            project = create_project(
                schema,
                user,
                town,
                f"桂城压测花园{index}期",
                f"佛山市南海区桂城街道南海大道{index + 1}号",
            )
            users.append(user.id)
            projects.append(project.id)
        db.session.commit()
    return users, projects


def basic_data_parts():
    """Split a complete ``basic`` form around the ``households`` value."""
    from tests.factories import VALID_BASIC

    data = dict(VALID_BASIC, project_name="桂城压测花园", households=-1)
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    head, tail = text.split('"households":-1')
    return head + '"households":', tail


def write_lua(tokens, project_ids):
    head, tail = basic_data_parts()
    script = LUA_TEMPLATE.read_text(encoding="utf-8")
    script = script.replace("@TOKENS@", ", ".join(f'"{token}"' for token in tokens))
    script = script.replace("@PROJECTS@", ", ".join(str(pid) for pid in project_ids))
    script = script.replace("@DATA_HEAD@", head).replace("@DATA_TAIL@", tail)
    path = Path(tempfile.mkdtemp(prefix="save-bench-")) / "save.lua"
    path.write_text(script, encoding="utf-8")
    return path


def current_versions(app, project_ids):
    from models import Entry

    with app.app_context():
        rows = Entry.query.filter(
            Entry.project_id.in_(project_ids), Entry.category == "basic"
        ).all()
        by_project = {row.project_id: row.version for row in rows}
    return [str(by_project[pid]) for pid in project_ids]


def count_saves(app, project_ids):
    from models import AuditEvent, Entry, Revision, db

    with app.app_context():
        entry_ids = [
            row.id
            for row in Entry.query.filter(
                Entry.project_id.in_(project_ids), Entry.category == "basic"
            )
        ]
        revisions = (
            db.session.query(Revision).filter(Revision.entry_id.in_(entry_ids)).count()
        )
        audits = AuditEvent.query.filter(
            AuditEvent.object_id.in_(entry_ids), AuditEvent.action == "save"
        ).count()
    return revisions, audits


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds")
    parser.add_argument(
        "--seconds", type=int, default=8, help="wrk run per side per round"
    )
    parser.add_argument(
        "--workers", type=int, default=4, help="gunicorn worker processes"
    )
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    options = parser.parse_args()

    database_url = postgres_url("wxapp_bench")
    with redis_server() as redis_url:
        app = make_app(database_url, redis_url)
        reset_database(app)
        users, project_ids = create_staff_projects(app, CLIENTS)
        script = write_lua(open_tokens(app, users), project_ids)
        server = Gunicorn(database_url, redis_url, options.workers, options.threads)
        with server:
            outputs = []

            def measure(mode):
                start = str(random.randrange(1, 900_000))
                args = [mode, start, *current_versions(app, project_ids)]
                rate, output = run_wrk(
                    server.url, script, options.seconds, CLIENTS, CLIENTS, args
                )
                outputs.append(output)
                return rate

            # One short unmeasured run of each side fills caches and pools.
            for mode in ("save", "bare"):
                run_wrk(
                    server.url,
                    script,
                    2,
                    CLIENTS,
                    CLIENTS,
                    [mode, "0", *current_versions(app, project_ids)],
                )
            real, baseline = alternate_rounds(
                options.rounds, lambda: measure("save"), lambda: measure("bare")
            )
        revisions, audits = count_saves(app, project_ids)

    ratio = median_ratio(real, baseline)
    report(
        "category save vs bare Flask endpoint",
        [
            f"server: {server.description}, PostgreSQL; load: wrk -t{CLIENTS} -c{CLIENTS}",
            f"save requests/s per round: {', '.join(f'{r:.0f}' for r in real)}",
            f"bare requests/s per round: {', '.join(f'{r:.0f}' for r in baseline)}",
            f"revisions stored: {revisions}, save audit events: {audits}",
            "status counts of the last save round: "
            + next(
                line for line in reversed(outputs[-2].splitlines()) if "status" in line
            ),
            f"median ratio save/bare: {ratio:.3f} (goal >= {GOAL})",
        ],
    )


if __name__ == "__main__":
    main()
