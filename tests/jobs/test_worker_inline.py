"""The production worker runs send chunks in its own process and forks for the rest.

A real ``rq worker --worker-class jobs.worker.AppWorker`` in a subprocess,
against the test's Redis, database file and sandbox.
"""

import time

import psutil
import pytest
from rq import Queue
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry

from jobs import runs
from jobs.queues import QUEUE_NAME
from jobs.worker import _forget_parent_connections
from models import Delivery
from tests.jobs.conftest import add_reviewer, sandbox_messages, shanghai
from tests.jobs.test_worker_kill import _kill_with_horse, _start_worker, _worker_env

NAMES = [f"复核{index}" for index in range(4)]


def _wait_for_status(job, status, timeout=60):
    deadline = time.monotonic() + timeout
    while job.get_status(refresh=True) != status:
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job.id} is {job.get_status()}, not {status}")
        time.sleep(0.05)


def _heartbeat_deadline(redis_connection, job_id):
    """Return when the started job's heartbeat runs out (its registry score)."""
    registry = StartedJobRegistry(QUEUE_NAME, connection=redis_connection)
    members = redis_connection.zrange(registry.key, 0, -1, withscores=True)
    (score,) = [
        score for member, score in members if member.decode().startswith(job_id)
    ]
    return score


def test_worker_inlines_send_chunks(
    app, sandbox, redis_url, redis_connection, tmp_path
):
    with app.app_context():
        for name in NAMES:
            add_reviewer("shishan", name, sandbox=sandbox)
        runs.run_due_slots(shanghai(4, 9))
    queue = Queue(QUEUE_NAME, connection=redis_connection)
    (chunk_id,) = queue.job_ids
    # Slow sends, so the chunk is still running when the worker is looked at.
    sandbox.control(
        "post", "/sandbox/delay", json={"endpoint": "template_send", "delay_ms": 300}
    )

    env = dict(_worker_env(app, sandbox, redis_url), SEND_CONCURRENCY="1")
    worker = _start_worker(env, tmp_path / "worker.log")
    try:
        chunk = Job.fetch(chunk_id, connection=redis_connection)
        _wait_for_status(chunk, JobStatus.STARTED)
        children = psutil.Process(worker.pid).children()
        beat_until = _heartbeat_deadline(redis_connection, chunk_id)
        seen_at = time.time()
        _wait_for_status(chunk, JobStatus.FINISHED)

        forked = queue.enqueue("os.getpid")
        _wait_for_status(forked, JobStatus.FINISHED)
    finally:
        _kill_with_horse(worker)

    assert children == []
    # Nothing beats for an inline chunk while it runs, so the heartbeat it
    # started with outlasts its timeout by a minute (a forked job's parent
    # beats every 30 s and starts with 90 s).
    assert beat_until - seen_at == pytest.approx(chunk.timeout + 60, abs=5)
    assert chunk.timeout + 60 != 90
    assert chunk.return_value() == {"sent": len(NAMES)}
    assert forked.return_value() != worker.pid
    assert len(sandbox_messages(sandbox)) == len(NAMES)
    with app.app_context():
        assert {row.status for row in Delivery.query} == {"sent"}


def test_horse_gets_own_http_sessions(app):
    with app.app_context():
        parent = app.extensions["wechat"]
        _forget_parent_connections()
        horse = app.extensions["wechat"]

    # The parent keeps its pooled connections for the chunks it runs itself.
    assert horse.client._http is not parent.client._http
    assert horse.token_store._http is not parent.token_store._http
    assert horse.client.api_root == parent.client.api_root
    assert horse.token_store.key == parent.token_store.key
