"""A real rq worker killed with SIGKILL mid fan-out, then restarted: each message once.

The worker is ``rq worker --worker-class jobs.worker.AppWorker`` in a
subprocess, against the test's Redis, database file and the sandbox over
HTTP. The sandbox responds to each send after 40 ms, so the kill lands in the
middle of the batch.
"""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import psutil
from rq.registry import StartedJobRegistry

from jobs import fanout, runs
from jobs.queues import QUEUE_NAME
from models import Delivery, db, utcnow
from tests.conftest import ROOT
from tests.jobs.conftest import add_reviewer, sandbox_messages, shanghai

RECIPIENTS = 40
RQ = str(Path(sys.executable).parent / "rq")


def _worker_env(app, sandbox, redis_url):
    return dict(
        os.environ,
        APP_ENV="testing",
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        REDIS_URL=redis_url,
        WECHAT_API_BASE_URL=sandbox.url,
        SEND_CHUNK_SIZE="5",
        SEND_CONCURRENCY="2",
        SEND_RATE_PER_SECOND="1000",
        LOG_LEVEL="WARNING",
    )


def _start_worker(env, log_path, burst=False):
    command = [
        RQ,
        "worker",
        "--url",
        env["REDIS_URL"],
        "--worker-class",
        "jobs.worker.AppWorker",
        QUEUE_NAME,
    ]
    if burst:
        command.append("--burst")
    log = open(log_path, "ab")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)


def _kill_with_horse(process):
    """SIGKILL the worker and its work horse, which rq puts in its own process group."""
    parent = psutil.Process(process.pid)
    victims = parent.children(recursive=True) + [parent]
    for victim in victims:
        victim.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def _unsent(app):
    with app.app_context():
        return Delivery.query.filter(Delivery.status.in_(fanout.SENDABLE)).count()


def _wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_killed_worker_sends_each_message_once(
    app, sandbox, redis_url, redis_connection, tmp_path
):
    with app.app_context():
        for index in range(RECIPIENTS):
            add_reviewer("shishan", f"复核{index:02d}", sandbox=sandbox)
        unbound = add_reviewer("shishan", "未关注", sandbox=sandbox)
        unbound.reachable = False
        db.session.commit()
        add_reviewer("shishan", "刚取关", sandbox=sandbox)
        runs.run_due_slots(shanghai(4, 9))
    sandbox.control(
        "post",
        "/sandbox/users",
        json={"openid": "o-reviewer-刚取关", "following": False},
    )
    sandbox.control(
        "post", "/sandbox/delay", json={"endpoint": "template_send", "delay_ms": 40}
    )

    env = _worker_env(app, sandbox, redis_url)
    log_path = tmp_path / "worker.log"
    worker = _start_worker(env, log_path)
    try:
        _wait_for(
            lambda: len(sandbox_messages(sandbox)) >= RECIPIENTS // 3,
            60,
            "the first third of the batch",
        )
    finally:
        _kill_with_horse(worker)
    assert len(sandbox_messages(sandbox)) < RECIPIENTS

    # The dead worker's job looks started until its heartbeat expires; rq's
    # own cleanup, run here with a later clock, marks it abandoned.
    StartedJobRegistry(QUEUE_NAME, connection=redis_connection).cleanup(
        time.time() + 3600
    )
    with app.app_context():
        fanout.sweep(utcnow() + timedelta(minutes=5))
    restarted = _start_worker(env, log_path)
    try:
        _wait_for(lambda: _unsent(app) == 0, 60, "every row to be sent")
    finally:
        _kill_with_horse(restarted)

    per_openid = Counter(message["touser"] for message in sandbox_messages(sandbox))
    assert per_openid == {
        f"o-reviewer-复核{index:02d}": 1 for index in range(RECIPIENTS)
    }
    with app.app_context():
        statuses = Counter(status for (status,) in db.session.query(Delivery.status))
    assert statuses == {"sent": RECIPIENTS, "skipped": 1, "unreachable": 1}
    # A send in flight at the kill is sent again with the same client_msg_id,
    # and WeChat (here the sandbox) drops the repeat: at most one per thread.
    assert sandbox.control("get", "/sandbox/stats")["template_duplicates_dropped"] <= 2
