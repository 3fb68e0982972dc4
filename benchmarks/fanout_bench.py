"""Fan-out of 10,000 template messages to the sandbox, against a raw POST loop.

Real: 10,000 queued outbox rows, enqueued with ``jobs.fanout.enqueue_sends``
and sent by ``WORKERS`` real rq workers (``jobs.worker.AppWorker``, logging
at INFO as in production). Each chunk claims the Redis leases of its rows
and reads them in one query, then ``SEND_CONCURRENCY`` threads send, each
message after one Redis call (its rate booking, which also stores the sent
key of the thread's previous message). The results are written in groups,
one transaction each. A round is timed from the enqueue until no row is
left queued.

Baseline, in the same run: ``WORKERS x SEND_CONCURRENCY`` threads in one
process POSTing the same messages (same template, same field values,
distinct openids and client_msg_ids) straight to the sandbox's
``cgi-bin/message/template/send``, with a ``requests`` session per thread.
(The sandbox closes every connection after its response, for both sides.)

While a round runs, the script calls the sweep every 5 s, as the production
tick does every 30 s, and prints how many rows it re-enqueued (rows of a
chunk that failed on a Redis or database timeout).

Both sides talk to the same sandbox process (``python -m wechat_sandbox``).
After each real round the sandbox's record is checked: every recipient got
exactly one message of the round and no row is left unsent.

The rate limit is set far above what the machine reaches, so the ratio
measures the cost of the outbox, not the limit. SQLite by default (a fresh
file in the temp folder); ``--postgres`` uses the private cluster of
``scripts/start_postgres.sh``. ``--cpu`` also prints, per round, the CPU
seconds each kind of process used per 1,000 messages (with psutil; the
PostgreSQL figure counts every ``postgres`` process on the machine).

Usage: .venv/bin/python benchmarks/fanout_bench.py [--rounds 3] [--postgres]
       [--delay-ms 50] [--cpu]
"""

import argparse
import itertools
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests
from common import (
    ROOT,
    VENV_BIN,
    alternate_rounds,
    free_port,
    make_app,
    median_ratio,
    postgres_url,
    redis_server,
    report,
    reset_database,
    start_rq_worker,
    stop_process,
    wait_for_port,
)

MESSAGES = 10_000
WORKERS = 2
CONCURRENCY = 8
CHUNK = 200
GOAL = 0.8
ROUND_TIMEOUT = 600
SWEEP_SECONDS = 5
VALUES = {
    "thing1": "狮山镇房管所",
    "thing2": "请于本周内完成项目信息填报",
    "time3": "2026年12月04日 09:00",
}
PAGE = "pages/project-list/index"


class Sandbox:
    """``python -m wechat_sandbox`` on a free port, pushing nowhere."""

    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def __enter__(self):
        env = dict(
            os.environ,
            SANDBOX_PORT=str(self.port),
            SANDBOX_AUTO_JOBFINISH="0",
            SANDBOX_CALLBACK_URL="http://127.0.0.1:9/wechat/callback",
            LOG_LEVEL="WARNING",
        )
        self.log = tempfile.NamedTemporaryFile(prefix="bench-sandbox-", delete=False)
        self.process = subprocess.Popen(
            [str(VENV_BIN / "python"), "-m", "wechat_sandbox"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port)
        return self

    def __exit__(self, *exc_info):
        stop_process(self.process)
        self.log.close()

    def follow(self, openids, threads=8):
        """Make every openid a follower of the service account."""

        def worker(chunk):
            session = requests.Session()
            for openid in chunk:
                session.post(
                    self.url + "/sandbox/users",
                    json={"openid": openid, "following": True},
                    timeout=10,
                ).raise_for_status()

        chunks = [openids[start::threads] for start in range(threads)]
        _run_threads(worker, chunks)

    def messages(self):
        response = requests.get(self.url + "/sandbox/messages", timeout=60)
        return response.json()["messages"]


class Workers:
    """``WORKERS`` rq workers with ``jobs.worker.AppWorker``, as subprocesses."""

    def __init__(self, database_url, redis_url, sandbox_url):
        self.env = dict(
            os.environ,
            APP_ENV="development",
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            WECHAT_API_BASE_URL=sandbox_url,
            SEND_CONCURRENCY=str(CONCURRENCY),
            SEND_CHUNK_SIZE=str(CHUNK),
            SEND_RATE_PER_SECOND="1000000",
        )
        self.redis_url = redis_url
        self.processes = []

    def __enter__(self):
        self.log = tempfile.NamedTemporaryFile(prefix="bench-workers-", delete=False)
        for _ in range(WORKERS):
            self.processes.append(start_rq_worker(self.redis_url, self.env, self.log))
        self._wait_until_registered()
        return self

    def _wait_until_registered(self, timeout=60):
        import redis
        from rq import Worker

        connection = redis.Redis.from_url(self.redis_url)
        deadline = time.monotonic() + timeout
        while len(Worker.all(connection=connection)) < WORKERS:
            if time.monotonic() > deadline:
                raise RuntimeError(f"workers did not start; see {self.log.name}")
            time.sleep(0.2)

    def __exit__(self, *exc_info):
        for process in self.processes:
            stop_process(process)
        self.log.close()


def _run_threads(target, arguments):
    threads = [
        threading.Thread(target=target, args=(argument,)) for argument in arguments
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def create_recipients(app):
    """Insert ``MESSAGES`` bound, reachable users; return their ids and openids."""
    from sqlalchemy import insert

    from models import User, db, utcnow

    rows = [
        {
            "role": "staff",
            "name": f"用户{index}",
            "service_openid": f"o-bench-{index:05d}",
            "reachable": True,
            "disabled": False,
            "must_change_password": False,
            "failed_logins": 0,
            "created_at": utcnow(),
        }
        for index in range(MESSAGES)
    ]
    with app.app_context():
        db.session.execute(insert(User.__table__), rows)
        db.session.commit()
        users = (
            db.session.query(User.id, User.service_openid)
            .filter(User.service_openid.like("o-bench-%"))
            .order_by(User.id)
            .all()
        )
    return [(user_id, openid) for user_id, openid in users]


def queue_rows(app, recipients, number):
    """Insert a queued outbox row per recipient for round ``number``; return ids."""
    from sqlalchemy import insert

    from bot.delivery import client_msg_id_for
    from bot.web import wechat_services
    from models import Delivery, db, utcnow

    with app.app_context():
        templates = wechat_services().templates
        payload = templates.build_template_data("notice", VALUES)
        template_id = templates.get("notice").template_id
        now = utcnow()
        rows = []
        for user_id, openid in recipients:
            key = f"bench:{number}:user-{user_id}"
            rows.append(
                {
                    "dedupe_key": key,
                    "kind": "notice",
                    "user_id": user_id,
                    "openid": openid,
                    "template_kind": "notice",
                    "template_id": template_id,
                    "payload": payload,
                    "pagepath": PAGE,
                    "client_msg_id": client_msg_id_for(key),
                    "status": "queued",
                    "attempts": 0,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        db.session.execute(insert(Delivery.__table__), rows)
        db.session.commit()
        return [
            row_id
            for (row_id,) in db.session.query(Delivery.id)
            .filter(Delivery.dedupe_key.like(f"bench:{number}:%"))
            .order_by(Delivery.id)
        ]


def fan_out_seconds(app, recipients, sandbox, counter):
    """Send one round through the outbox; return seconds until every row is final."""
    from jobs.fanout import SENDABLE, enqueue_sends, sweep
    from models import Delivery, db, utcnow

    number = next(counter)
    ids = queue_rows(app, recipients, number)
    with app.app_context():
        started = time.perf_counter()
        enqueue_sends(ids)
        deadline = time.monotonic() + ROUND_TIMEOUT
        next_sweep = time.monotonic() + SWEEP_SECONDS
        # Earlier rounds left nothing unsent (check_round), so counting the
        # unsent rows through the status index is this round's progress, and
        # the poll takes little CPU from the workers.
        while (
            db.session.query(Delivery.id).filter(Delivery.status.in_(SENDABLE)).count()
        ):
            db.session.commit()
            if time.monotonic() > deadline:
                raise RuntimeError(f"round {number} did not finish in {ROUND_TIMEOUT}s")
            if time.monotonic() > next_sweep:
                # What the production tick does every 30 s: re-enqueue rows
                # whose chunk failed (a Redis or database timeout).
                swept = sweep(utcnow())
                if swept:
                    print(f"  round {number}: the sweep re-enqueued {swept} rows")
                next_sweep = time.monotonic() + SWEEP_SECONDS
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
    check_round(app, sandbox, number, len(recipients))
    return elapsed


def check_round(app, sandbox, number, expected):
    """Fail loudly on a lost or repeated message of round ``number``."""
    from bot.delivery import client_msg_id_for
    from models import Delivery, db

    with app.app_context():
        rows = (
            db.session.query(Delivery.user_id, Delivery.status)
            .filter(Delivery.dedupe_key.like(f"bench:{number}:%"))
            .all()
        )
        statuses = Counter(status for _, status in rows)
        wanted = {
            client_msg_id_for(f"bench:{number}:user-{user_id}") for user_id, _ in rows
        }
    got = Counter(
        message["client_msg_id"]
        for message in sandbox.messages()
        if message["client_msg_id"] in wanted
    )
    assert statuses == {"sent": expected}, statuses
    assert len(got) == expected, f"lost: {expected - len(got)}"
    assert max(got.values()) == 1, "a message was recorded twice"


def raw_loop_seconds(sandbox, token, template_id, recipients, counter):
    """POST every message straight to the sandbox from CONCURRENCY x WORKERS threads."""
    from bot.template_fields import load_templates

    number = next(counter)
    data = load_templates(
        str(ROOT / "data" / "wechat_templates.json")
    ).build_template_data("notice", VALUES)
    url = f"{sandbox.url}/cgi-bin/message/template/send?access_token={token}"
    work = iter(recipients)
    lock = threading.Lock()
    errors = []

    def sender(_):
        session = requests.Session()
        while True:
            with lock:
                item = next(work, None)
            if item is None:
                return
            user_id, openid = item
            body = {
                "touser": openid,
                "template_id": template_id,
                "data": data,
                "miniprogram": {"appid": "wxsandboxminiapp0001", "pagepath": PAGE},
                "client_msg_id": f"raw-{number}-{user_id}",
            }
            reply = session.post(url, json=body, timeout=10).json()
            if reply.get("errcode"):
                errors.append(reply)

    started = time.perf_counter()
    _run_threads(sender, range(WORKERS * CONCURRENCY))
    elapsed = time.perf_counter() - started
    assert not errors, errors[:3]
    return elapsed


class CpuMeter:
    """CPU seconds used by each kind of process around one round, from psutil."""

    KINDS = ("rq workers", "sandbox", "redis-server", "this script", "postgres")

    def __init__(self, enabled):
        self.enabled = enabled

    def _kind(self, process, me):
        if process.pid == me.pid:
            return "this script"
        name = process.name()
        if name.startswith("postgres"):
            return "postgres"
        command = " ".join(process.cmdline())
        for marker, kind in (
            ("rq worker", "rq workers"),
            ("wechat_sandbox", "sandbox"),
            ("redis-server", "redis-server"),
        ):
            if marker in command:
                return kind
        return None

    def _snapshot(self):
        import psutil

        me = psutil.Process()
        processes = [me, *me.children(recursive=True)]
        processes += [p for p in psutil.process_iter() if p.name() == "postgres"]
        totals = dict.fromkeys(self.KINDS, 0.0)
        for process in processes:
            try:
                kind = self._kind(process, me)
                if kind is None:
                    continue
                times = process.cpu_times()
            except psutil.Error:
                continue
            totals[kind] += (
                times.user + times.system + times.children_user + times.children_system
            )
        return totals

    def measure(self, label, function):
        """Run ``function``; print CPU seconds per 1,000 messages when enabled."""
        if not self.enabled:
            return function()
        before = self._snapshot()
        result = function()
        after = self._snapshot()
        used = ", ".join(
            f"{kind} {(after[kind] - before[kind]) * 1000 / MESSAGES:.2f}"
            for kind in self.KINDS
        )
        print(f"  {label}: CPU s per 1,000 messages: {used}", flush=True)
        return result


def database_url(options):
    if options.postgres:
        return postgres_url("wxapp_bench_fanout")
    path = Path(tempfile.gettempdir()) / "wxapp-bench-fanout.sqlite3"
    return f"sqlite:///{path}"


def main():
    # Stop the workers, the sandbox and Redis on SIGTERM too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    parser.add_argument(
        "--postgres", action="store_true", help="use the private PostgreSQL cluster"
    )
    parser.add_argument(
        "--delay-ms",
        type=int,
        default=0,
        help="milliseconds the sandbox waits before it responds to each send",
    )
    parser.add_argument(
        "--cpu", action="store_true", help="print CPU seconds per process kind"
    )
    options = parser.parse_args()
    meter = CpuMeter(options.cpu)

    url = database_url(options)
    with redis_server() as redis_url, Sandbox() as sandbox:
        app = make_app(url, redis_url, WECHAT_API_BASE_URL=sandbox.url)
        reset_database(app)
        recipients = create_recipients(app)
        sandbox.follow([openid for _, openid in recipients])
        requests.post(
            sandbox.url + "/sandbox/delay",
            timeout=10,
            json={"endpoint": "template_send", "delay_ms": options.delay_ms},
        )
        with app.app_context():
            services = app.extensions["wechat"]
            token = services.token_store.get()
            template_id = services.templates.get("notice").template_id

        counter = itertools.count(1)
        with Workers(url, redis_url, sandbox.url):
            fan_out_seconds(app, recipients[:500], sandbox, counter)
            real, baseline = alternate_rounds(
                options.rounds,
                lambda: meter.measure(
                    "outbox",
                    lambda: fan_out_seconds(app, recipients, sandbox, counter),
                ),
                lambda: meter.measure(
                    "raw loop",
                    lambda: raw_loop_seconds(
                        sandbox, token, template_id, recipients, counter
                    ),
                ),
            )

    throughput = [MESSAGES / seconds for seconds in real]
    raw_throughput = [MESSAGES / seconds for seconds in baseline]
    lines = [
        (
            f"database: {url.split('://')[0]}; {WORKERS} workers x {CONCURRENCY} threads, "
            f"chunks of {CHUNK}; sandbox answers each send after {options.delay_ms} ms"
        ),
        "outbox fan-out messages/s per round: "
        + ", ".join(f"{v:.0f}" for v in throughput),
        "raw POST loop messages/s per round: "
        + ", ".join(f"{v:.0f}" for v in raw_throughput),
        (
            "median ratio fan-out/raw throughput: "
            f"{median_ratio(throughput, raw_throughput):.2f} (goal >= {GOAL}); "
            "duplicates 0, lost 0 (checked every round)"
        ),
    ]
    report(f"fan-out of {MESSAGES} template messages vs raw POST loop", lines)


if __name__ == "__main__":
    main()
