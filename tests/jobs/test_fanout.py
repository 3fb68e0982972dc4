"""Outbox rows sent in chunks through the sandbox: once each, stopped on rejection."""

from collections import Counter
from datetime import timedelta

import pytest
from rq import Queue
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry

from bot.delivery import CredentialsRejected, TemplateRejected
from jobs import fanout, runs
from jobs.queues import QUEUE_NAME
from jobs.ratelimit import SendRateLimiter
from models import Delivery, db, utcnow
from models.schedule import RUN_FAILED, SlotRun
from tests.jobs.conftest import add_reviewer, run_worker, sandbox_messages, shanghai


def _digest_for(app, sandbox, names):
    with app.app_context():
        users = [add_reviewer("shishan", name, sandbox=sandbox) for name in names]
        runs.run_due_slots(shanghai(4, 9))
        return [user.id for user in users]


def _statuses(app, kind="digest"):
    with app.app_context():
        rows = Delivery.query.filter_by(kind=kind).order_by(Delivery.id)
        return {row.user_id: row.status for row in rows}


def test_digest_reaches_each_reviewer_once(app, sandbox, redis_connection):
    names = [f"复核{index}" for index in range(12)]
    user_ids = _digest_for(app, sandbox, names)
    queue = Queue(QUEUE_NAME, connection=redis_connection)
    assert queue.count == 3  # 12 rows in chunks of 5

    run_worker(app, redis_connection)

    messages = sandbox_messages(sandbox)
    assert Counter(message["touser"] for message in messages) == {
        f"o-reviewer-{name}": 1 for name in names
    }
    assert set(_statuses(app).values()) == {"sent"}
    assert sorted(_statuses(app)) == sorted(user_ids)
    assert messages[0]["miniprogram"]["pagepath"] == "pages/review-list/index"


def test_chunk_run_twice_sends_nothing_twice(app, sandbox, redis_connection):
    _digest_for(app, sandbox, ["石一", "石二"])
    with app.app_context():
        ids = [row.id for row in Delivery.query.order_by(Delivery.id)]
        first = fanout.send_chunk(ids)
        second = fanout.send_chunk(ids)
    assert first == {"sent": 2}
    assert second == {}
    assert len(sandbox_messages(sandbox)) == 2


def test_unfollowed_recipient_does_not_stop_others(app, sandbox, redis_connection):
    _digest_for(app, sandbox, ["石一", "石二", "石三"])
    sandbox.control(
        "post", "/sandbox/users", json={"openid": "o-reviewer-石二", "following": False}
    )

    run_worker(app, redis_connection)

    statuses = sorted(_statuses(app).values())
    assert statuses == ["sent", "sent", "unreachable"]
    assert sorted(m["touser"] for m in sandbox_messages(sandbox)) == [
        "o-reviewer-石一",
        "o-reviewer-石三",
    ]


def test_template_rejection_stops_the_batch(app, sandbox, redis_connection):
    _digest_for(app, sandbox, [f"复核{index}" for index in range(8)])
    sandbox.control(
        "post",
        "/sandbox/fail",
        json={"endpoint": "template_send", "errcode": 47003, "count": -1},
    )

    run_worker(app, redis_connection)

    statuses = Counter(_statuses(app).values())
    with app.app_context():
        run = SlotRun.query.filter_by(
            kind="digest", slot_date=shanghai(4, 9).date()
        ).one()
        run_status, note = run.status, run.note
        errcodes = Counter(
            row.last_errcode for row in Delivery.query.filter_by(status="failed")
        )
    assert statuses == {"failed": 8}
    # Only the sends already in flight (one per thread) reached WeChat.
    assert 1 <= errcodes[47003] <= 4
    assert errcodes[None] == 8 - errcodes[47003]
    assert run_status == RUN_FAILED
    assert note.startswith(fanout.BATCH_STOPPED_ERROR)
    assert sandbox_messages(sandbox) == []
    failed = FailedJobRegistry(QUEUE_NAME, connection=redis_connection)
    assert failed.count >= 1


def test_template_rejection_raises_from_the_chunk(app, sandbox):
    _digest_for(app, sandbox, ["石一", "石二"])
    sandbox.control(
        "post",
        "/sandbox/fail",
        json={"endpoint": "template_send", "errcode": 40037, "count": -1},
    )
    with app.app_context():
        ids = [row.id for row in Delivery.query.order_by(Delivery.id)]
        with pytest.raises(TemplateRejected):
            fanout.send_chunk(ids)


def test_rejected_credentials_stop_chunk_keep_rows(app, sandbox):
    _digest_for(app, sandbox, [f"复核{index}" for index in range(8)])
    sandbox.control(
        "post",
        "/sandbox/fail",
        json={"endpoint": "stable_token", "errcode": 40125, "count": -1},
    )
    with app.app_context():
        ids = [row.id for row in Delivery.query.order_by(Delivery.id)]
        with pytest.raises(CredentialsRejected):
            fanout.send_chunk(ids)
        run_status = (
            SlotRun.query.filter_by(kind="digest", slot_date=shanghai(4, 9).date())
            .one()
            .status
        )
    statuses = Counter(_statuses(app).values())
    # The sends in flight (one per thread) failed; the rest wait for fixed
    # settings instead of being marked failed.
    assert 1 <= statuses["failed"] <= 4
    assert statuses["queued"] == 8 - statuses["failed"]
    assert run_status == "planned"
    assert sandbox_messages(sandbox) == []


def test_busy_wechat_is_retried_by_the_sweep(app, sandbox, redis_connection):
    _digest_for(app, sandbox, ["石一"])
    sandbox.control(
        "post",
        "/sandbox/fail",
        json={"endpoint": "template_send", "errcode": -1, "count": 1},
    )
    run_worker(app, redis_connection)
    assert list(_statuses(app).values()) == ["retry"]

    with app.app_context():
        row = Delivery.query.one()
        next_attempt = row.next_attempt_at
        # Not due yet: the sweep leaves it.
        assert fanout.sweep(next_attempt - timedelta(seconds=1)) == 0
        # deliver() checks the real clock, so move the due time back.
        row.next_attempt_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert fanout.sweep(utcnow()) == 1
    run_worker(app, redis_connection)

    assert list(_statuses(app).values()) == ["sent"]
    assert len(sandbox_messages(sandbox)) == 1


def test_sweep_leaves_rows_whose_job_is_queued(app, sandbox, redis_connection):
    _digest_for(app, sandbox, ["石一", "石二"])
    with app.app_context():
        assert fanout.sweep(utcnow() + timedelta(minutes=5)) == 0


def test_sweep_enqueues_rows_whose_job_was_lost(app, sandbox, redis_connection):
    _digest_for(app, sandbox, ["石一", "石二"])
    Queue(QUEUE_NAME, connection=redis_connection).empty()
    with app.app_context():
        # Younger than the sweep's minimum age: left to their creator.
        assert fanout.sweep(utcnow()) == 0
        assert fanout.sweep(utcnow() + timedelta(minutes=1)) == 2
    run_worker(app, redis_connection)
    assert set(_statuses(app).values()) == {"sent"}
    assert len(sandbox_messages(sandbox)) == 2


def test_sweep_frees_job_taken_never_started(app, sandbox, redis_connection):
    _digest_for(app, sandbox, ["石一", "石二"])
    queue = Queue(QUEUE_NAME, connection=redis_connection)
    # A worker takes a job off the queue like this. Killed right after, it
    # never marks the job started, so the job stays "queued" outside the queue.
    job_id = redis_connection.lmove(queue.key, queue.intermediate_queue_key)
    job = Job.fetch(job_id.decode(), connection=redis_connection)
    assert job.get_status() == JobStatus.QUEUED
    assert queue.count == 0

    with app.app_context():
        assert fanout.sweep(utcnow() + timedelta(minutes=1)) == 2
        # The new job is in the queue, so the next sweep leaves its rows.
        assert fanout.sweep(utcnow() + timedelta(minutes=2)) == 0
    run_worker(app, redis_connection)

    assert set(_statuses(app).values()) == {"sent"}
    assert len(sandbox_messages(sandbox)) == 2


def test_lease_held_by_live_job_is_respected(app, redis_connection):
    queue = Queue(QUEUE_NAME, connection=redis_connection)
    live = queue.enqueue("jobs.tick.tick")
    with app.app_context():
        sender = fanout.ChunkSender(app, "job-b")
        redis_connection.set(fanout.LEASE_KEY.format(7), live.id)
        assert sender.claim(7, "digest:2026-12-04:0900") == live.id

        live.set_status(JobStatus.FAILED)
        assert sender.claim(7, "digest:2026-12-04:0900") == "+"
        assert redis_connection.get(fanout.LEASE_KEY.format(7)) == b"job-b"


def test_lease_of_missing_job_is_taken_over(app, redis_connection):
    with app.app_context():
        sender = fanout.ChunkSender(app, "job-b")
        redis_connection.set(fanout.LEASE_KEY.format(8), "job-that-died")
        assert sender.claim(8, "digest:2026-12-04:0900") == "+"


def test_stopped_batch_is_not_claimed(app, redis_connection):
    redis_connection.set(fanout.STOP_KEY.format("digest:2026-12-04:0900"), "1")
    with app.app_context():
        sender = fanout.ChunkSender(app, "job-b")
        assert sender.claim(9, "digest:2026-12-04:0900") == "!"
        assert sender.claim(9, "reminder:2026-12-04:1000") == "+"


def test_rate_limiter_spaces_sends(redis_connection):
    waits = []
    limiter = SendRateLimiter(redis_connection, rate=2, burst=1, sleep=waits.append)
    for _ in range(4):
        limiter.wait()
    assert len(waits) == 3
    for expected, actual in zip((0.5, 1.0, 1.5), waits):
        assert actual == pytest.approx(expected, abs=0.1)


def test_rate_limiter_allows_a_burst(redis_connection):
    limiter = SendRateLimiter(redis_connection, rate=2, burst=5, sleep=lambda _: None)
    first = [limiter.reserve() for _ in range(5)]
    sixth = limiter.reserve()
    assert max(first) == pytest.approx(0, abs=0.1)
    assert sixth == pytest.approx(0.5, abs=0.1)


def test_chunk_timeout_grows_with_chunk(app):
    config = dict(
        app.config, SEND_CONCURRENCY=8, WECHAT_HTTP_TIMEOUT=5, SEND_RATE_PER_SECOND=200
    )
    assert fanout.chunk_timeout(config, 200) == 1 + 25 * 20 + 60
    assert fanout.chunk_timeout(config, 8) == 0 + 1 * 20 + 60
