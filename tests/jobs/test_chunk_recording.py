"""A chunk sends from threads and records in groups: nothing lost, nothing repeated.

The rows of a chunk are written after their sends, in groups. These tests
break that window on purpose: a database that refuses the write, a row a
killed chunk had already sent, a row another writer finished first, and an
access token revoked in the middle of a chunk.
"""

import sqlite3
from collections import Counter

import pytest
from sqlalchemy.exc import OperationalError

from bot.delivery import load_outgoing, record_outcomes
from bot.sender import FAILED, SendOutcome
from jobs import fanout, runs
from jobs.ratelimit import RATE_KEY, SendRateLimiter
from models import Delivery, db, utcnow
from tests.conftest import TEST_DATABASE_URL
from tests.jobs.conftest import add_reviewer, sandbox_messages, shanghai
from wxapp_backend import create_app

NAMES = [f"复核{index}" for index in range(6)]


def _queue_digest(app, sandbox, names=NAMES):
    """Plan the 09:00 digest for one reviewer per name; return the row ids."""
    with app.app_context():
        for name in names:
            add_reviewer("shishan", name, sandbox=sandbox)
        runs.run_due_slots(shanghai(4, 9))
        return [row.id for row in Delivery.query.order_by(Delivery.id)]


def _rows(app):
    with app.app_context():
        return {
            row.id: (row.status, row.wechat_msgid, row.attempts)
            for row in Delivery.query.order_by(Delivery.id)
        }


def _stats(sandbox):
    return sandbox.control("get", "/sandbox/stats")


@pytest.mark.sqlite_only
@pytest.mark.skipif(TEST_DATABASE_URL != "", reason="the lock is SQLite's")
def test_chunk_survives_locked_database(app, app_config, sandbox, redis_connection):
    ids = _queue_digest(app, sandbox)
    impatient = create_app(
        {
            **app_config,
            "WECHAT_API_BASE_URL": sandbox.url,
            "SQLITE_BUSY_TIMEOUT_MS": 100,
        }
    )
    path = app_config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with impatient.app_context(), pytest.raises(OperationalError):
            fanout.send_chunk(ids)
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    # WeChat took every message, but no row could record it.
    sent = {m["client_msg_id"]: m["msgid"] for m in sandbox_messages(sandbox)}
    assert len(sent) == len(NAMES)
    assert {status for status, _, _ in _rows(app).values()} == {"queued"}
    sent_keys = [fanout.SENT_KEY.format(row_id) for row_id in ids]
    assert all(redis_connection.mget(sent_keys))
    assert not any(
        redis_connection.exists(fanout.LEASE_KEY.format(row_id)) for row_id in ids
    )

    with app.app_context():
        outcomes = fanout.send_chunk(ids)

    assert outcomes == {"sent": len(NAMES)}
    rows = _rows(app)
    assert {status for status, _, _ in rows.values()} == {"sent"}
    assert sorted(str(msgid) for msgid in sent.values()) == sorted(
        msgid for _, msgid, _ in rows.values()
    )
    # Recorded from the sent keys: WeChat saw no second send at all.
    assert _stats(sandbox)["endpoints"]["template_send"]["calls"] == len(NAMES)
    assert _stats(sandbox)["template_duplicates_dropped"] == 0
    assert redis_connection.mget(sent_keys) == [None] * len(NAMES)


def test_takeover_skips_sent_row(app, sandbox, redis_connection):
    ids = _queue_digest(app, sandbox, NAMES[:3])
    first = ids[0]
    # What a chunk killed between WeChat's reply and its group write leaves.
    redis_connection.set(fanout.LEASE_KEY.format(first), "job-that-died")
    redis_connection.set(fanout.SENT_KEY.format(first), "424242")

    with app.app_context():
        outcomes = fanout.send_chunk(ids)

    assert outcomes == {"sent": 3}
    assert _rows(app)[first] == ("sent", "424242", 1)
    with app.app_context():
        openids = {row.id: row.openid for row in Delivery.query}
    touser = Counter(m["touser"] for m in sandbox_messages(sandbox))
    assert touser == {openids[ids[1]]: 1, openids[ids[2]]: 1}
    assert openids[first] not in touser
    assert redis_connection.get(fanout.SENT_KEY.format(first)) is None
    assert redis_connection.get(fanout.LEASE_KEY.format(first)) is None


def test_record_keeps_finished_row(app, sandbox):
    ids = _queue_digest(app, sandbox, NAMES[:2])
    with app.app_context():
        # A result read for the row before another chunk sent and recorded it.
        (late,), _ = load_outgoing(ids[:1], utcnow())
        fanout.send_chunk(ids[:1])
        msgid = db.session.get(Delivery, ids[0]).wechat_msgid
        db.session.commit()

        counts = record_outcomes(
            [(late, SendOutcome(FAILED, errcode=40036, errmsg="invalid template"))]
        )

    assert counts == {"failed": 1}
    assert msgid is not None
    assert _rows(app)[ids[0]] == ("sent", msgid, 1)
    assert _rows(app)[ids[1]] == ("queued", None, 0)


def test_chunk_refreshes_revoked_token_once(app, sandbox, redis_connection):
    ids = _queue_digest(app, sandbox)
    with app.app_context():
        stale = app.extensions["wechat"].token_store.get()
    sandbox.control(
        "post", "/sandbox/tokens/end", json={"mode": "revoke", "access_token": stale}
    )
    before = _stats(sandbox)["endpoints"]

    with app.app_context():
        outcomes = fanout.send_chunk(ids)

    after = _stats(sandbox)["endpoints"]
    sends = after["template_send"]["calls"] - before["template_send"]["calls"]
    refreshes = after["stable_token"]["calls"] - before["stable_token"]["calls"]
    assert outcomes == {"sent": len(NAMES)}
    assert refreshes == 1
    # Only the sends already started with the revoked token (one per thread,
    # SEND_CONCURRENCY is 4 here) needed a second call.
    assert len(NAMES) + 1 <= sends <= len(NAMES) + 4
    assert len(sandbox_messages(sandbox)) == len(NAMES)
    with app.app_context():
        assert app.extensions["wechat"].token_store.get() != stale


def test_booking_sets_sent_key(redis_connection):
    limiter = SendRateLimiter(redis_connection, rate=4, burst=1, sleep=lambda _: None)

    first = limiter.reserve()
    second = limiter.reserve(also_set=("jobs:delivery-sent:77", "9001", 60))

    assert first == pytest.approx(0, abs=0.05)
    assert second == pytest.approx(0.25, abs=0.05)
    assert redis_connection.get("jobs:delivery-sent:77") == b"9001"
    assert 0 < redis_connection.ttl("jobs:delivery-sent:77") <= 60
    assert redis_connection.exists(RATE_KEY) == 1
