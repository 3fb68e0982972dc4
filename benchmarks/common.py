"""Shared pieces of the benchmark scripts: servers, databases, rounds, ratios.

Every benchmark measures the real code path and a baseline in the same run,
in several alternating rounds, and reports the median ratio of the rounds.
Everything runs on 127.0.0.1 with free ports; each process started here is
stopped by its PID when the benchmark ends.
"""

import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The sandbox's development secrets, so a benchmark never needs real ones.
os.environ.setdefault("APP_ENV", "development")


def free_port():
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def machine_description():
    """Return ``nproc`` and the memory line of ``free -h``, for the results table."""
    cores = subprocess.run(["nproc"], capture_output=True, text=True, check=True)
    memory = subprocess.run(["free", "-h"], capture_output=True, text=True, check=True)
    lines = memory.stdout.splitlines()
    memory_line = next(line for line in lines if line.startswith("Mem:"))
    return f"nproc={cores.stdout.strip()}; free -h: {' '.join(memory_line.split())}"


def stop_process(process, timeout=10):
    """Stop a child we started: SIGTERM, then SIGKILL after ``timeout`` seconds."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@contextmanager
def redis_server():
    """Run a private redis-server (no persistence) and yield its URL."""
    binary = VENV_BIN / "redis-server"
    if not binary.exists():
        binary = shutil.which("redis-server")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="bench-redis-")
    process = subprocess.Popen(
        [
            str(binary),
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop_process(process)
        shutil.rmtree(workdir, ignore_errors=True)


def start_rq_worker(redis_url, env, log):
    """Start ``rq worker`` with the production worker class on the default queue.

    Its output goes to the open file ``log``; stop it with ``stop_process``.
    """
    return subprocess.Popen(
        [
            str(VENV_BIN / "rq"),
            "worker",
            "--url",
            redis_url,
            "--worker-class",
            "jobs.worker.AppWorker",
            "default",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def postgres_url(database):
    """Start (or reuse) the private PostgreSQL cluster; return a URL for ``database``.

    ``scripts/start_postgres.sh`` prints the test database's URL; the
    benchmark database is created beside it when missing.
    """
    result = subprocess.run(
        [str(ROOT / "scripts" / "start_postgres.sh")],
        capture_output=True,
        text=True,
        check=True,
    )
    test_url = result.stdout.strip()
    if not test_url:
        raise SystemExit("PostgreSQL is not installed: apt-get install postgresql")
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(test_url)
    admin = url.set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        found = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not found:
            connection.execute(f'CREATE DATABASE "{database}"')
    return url.set(database=database).render_as_string(hide_password=False)


def make_app(database_url, redis_url, **overrides):
    from wxapp_backend import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "REDIS_URL": redis_url,
            "WECHAT_API_BASE_URL": "http://127.0.0.1:9",
            **overrides,
        }
    )


def reset_database(app):
    """Drop every table, migrate to the heads, and load the district's towns."""
    import flask_migrate

    from models import db
    from models.town import load_district_file

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(db.text("DROP SCHEMA public CASCADE"))
            db.session.execute(db.text("CREATE SCHEMA public"))
        else:
            db.drop_all()
            db.session.execute(db.text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
        flask_migrate.upgrade(
            directory=str(app.config["MIGRATIONS_DIR"]), revision="heads"
        )
        load_district_file(app.config["DISTRICT_FILE"])


def upgrade_and_analyze(app):
    """Migrate an existing database to the heads, then VACUUM and ANALYZE it.

    Freshly bulk-loaded tables have neither planner statistics nor a
    visibility map until autovacuum gets to them, which a database that has
    been running for a while has.
    """
    import flask_migrate

    from models import db

    with app.app_context():
        flask_migrate.upgrade(
            directory=str(app.config["MIGRATIONS_DIR"]), revision="heads"
        )
        statement = (
            "VACUUM ANALYZE" if db.engine.dialect.name == "postgresql" else "ANALYZE"
        )
        with db.engine.connect().execution_options(
            isolation_level="AUTOCOMMIT"
        ) as conn:
            conn.execute(db.text(statement))


def assign_companies(app):
    """Give each generated project its owner's company, as ``create_project`` does.

    ``jobs.demo_data`` leaves ``company_id`` empty, and the lists and the
    export show the company, so without this they would skip that join.
    """
    from models import db

    with app.app_context():
        db.session.execute(
            db.text(
                "UPDATE projects SET company_id = "
                "(SELECT users.company_id FROM users WHERE users.id = projects.owner_id) "
                "WHERE company_id IS NULL"
            )
        )
        db.session.commit()


def open_tokens(app, user_ids):
    """Open one API session per user id; return the bearer tokens in order."""
    from models import ApiSession, User, db

    tokens = []
    with app.app_context():
        for user_id in user_ids:
            user = db.session.get(User, user_id)
            _, token = ApiSession.open(24, user=user)
            tokens.append(token)
        db.session.commit()
    return tokens


class Gunicorn:
    """``wsgi:app`` under gunicorn on a free port, with the baseline routes mounted."""

    def __init__(self, database_url, redis_url, workers=4, threads=4, extra_env=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.command = [
            str(VENV_BIN / "gunicorn"),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
            "--keep-alive",
            "30",
            "--timeout",
            "60",
            "--log-level",
            "warning",
            "wsgi:app",
        ]
        self.environment = dict(os.environ)
        self.environment.update(
            APP_ENV="development",
            LOG_LEVEL="WARNING",
            BENCHMARK_ENDPOINTS="1",
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            WECHAT_API_BASE_URL="http://127.0.0.1:9",
            **(extra_env or {}),
        )
        self.description = f"gunicorn {workers} workers x {threads} threads (gthread)"
        self.process = None

    def __enter__(self):
        self.log = tempfile.NamedTemporaryFile(
            prefix="bench-gunicorn-", suffix=".log", delete=False
        )
        self.process = subprocess.Popen(
            self.command,
            cwd=ROOT,
            env=self.environment,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_port(self.port)
            self._wait_for_workers()
        except Exception:
            # ``with`` calls __exit__ only after __enter__ returned.
            self.__exit__(*sys.exc_info())
            raise
        return self

    def _wait_for_workers(self, timeout=120.0):
        """Return once every worker has responded; each imports the app on boot."""
        import requests

        seen = set()
        deadline = time.monotonic() + timeout
        while len(seen) < self.workers:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"only {len(seen)} of {self.workers} workers responded"
                )
            try:
                # A new connection each time, so that any idle worker may accept it.
                seen.add(
                    requests.get(self.url + "/bench/pid", timeout=10).json()["pid"]
                )
            except requests.RequestException:
                time.sleep(0.2)

    def __exit__(self, exc_type, exc_value, traceback):
        stop_process(self.process)
        self.log.close()
        if exc_type is None:
            Path(self.log.name).unlink(missing_ok=True)
        else:
            print(f"gunicorn log kept: {self.log.name}", file=sys.stderr)


def run_wrk(url, script, seconds, threads, connections, args=()):
    """Run wrk with a Lua script; return requests per second and the raw output."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    command = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "--timeout",
        "30s",
        "-s",
        str(script),
        url,
    ]
    if args:
        command += ["--", *args]
    environment = dict(os.environ, WRK_THREADS=str(threads))
    output = subprocess.run(
        command, capture_output=True, text=True, check=True, env=environment
    ).stdout
    rate = next(
        float(line.split()[1])
        for line in output.splitlines()
        if line.startswith("Requests/sec:")
    )
    return rate, output


def alternate_rounds(rounds, measure_real, measure_baseline):
    """Measure real and baseline in turn, ``rounds`` times; return both lists.

    Alternating spreads slow drift of the machine (other processes, caches,
    table growth) over both sides instead of charging it to one.
    """
    real, baseline = [], []
    for number in range(1, rounds + 1):
        real.append(measure_real())
        baseline.append(measure_baseline())
        print(
            f"  round {number}: real={real[-1]:.4g} baseline={baseline[-1]:.4g}",
            flush=True,
        )
    return real, baseline


def median_ratio(real, baseline):
    return statistics.median(a / b for a, b in zip(real, baseline))


def report(title, lines):
    print(f"\n== {title}")
    print(machine_description())
    for line in lines:
        print(line)
