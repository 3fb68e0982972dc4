"""The tick over a campaign day: each slot claimed once, on time, late or skipped."""

import threading
from collections import Counter
from datetime import timedelta

from jobs import runs
from jobs.tick import tick
from models import CallbackReceipt, Delivery, db
from models.schedule import RUN_PLANNED, RUN_SKIPPED, SlotRun
from tests.jobs.conftest import (
    add_official,
    add_reviewer,
    add_staff,
    project_with,
    shanghai,
)


def _setup(app):
    """Add reviewers of 狮山镇 (two) and 九江镇, an official, one pending entry."""
    with app.app_context():
        shishan = add_reviewer("shishan", "石一")
        add_reviewer("shishan", "石二")
        add_reviewer("jiujiang", "九一")
        add_official("区领导")
        owner = add_staff("陈志强")
        project_with(app, owner, "shishan", "翠湖花园", {"basic": "submitted"}, shishan)


def _runs(app):
    with app.app_context():
        return {
            (run.kind, run.slot_date.day, run.slot): run.status
            for run in SlotRun.query.order_by(SlotRun.id)
        }


def _delivery_keys(app):
    with app.app_context():
        return [
            key
            for (key,) in db.session.query(Delivery.dedupe_key).order_by(Delivery.id)
        ]


def test_whole_day_claims_each_slot_once(app):
    _setup(app)
    moment = shanghai(4, 0)
    claimed_at = {}
    while moment < shanghai(5, 0):
        with app.app_context():
            for run in runs.run_due_slots(moment):
                claimed_at[(run.kind, run.slot)] = moment
        moment += timedelta(minutes=5)

    assert claimed_at == {
        ("digest", "0900"): shanghai(4, 9),
        ("return_reminder", "0900"): shanghai(4, 9),
        ("reminder", "1000"): shanghai(4, 10),
        ("reminder", "1400"): shanghai(4, 14),
        ("reminder", "1700"): shanghai(4, 17),
    }
    statuses = _runs(app)
    assert {status for (_, day, _), status in statuses.items() if day == 4} == {
        RUN_PLANNED
    }
    # The first tick also records the previous day's slots, which no
    # scheduler ran, as skipped.
    assert {status for (_, day, _), status in statuses.items() if day == 3} == {
        RUN_SKIPPED
    }


def test_whole_day_sends_once_per_slot(app):
    _setup(app)
    moment = shanghai(4, 8)
    while moment < shanghai(4, 18):
        with app.app_context():
            runs.run_due_slots(moment)
        moment += timedelta(minutes=1)

    keys = _delivery_keys(app)
    assert len(keys) == len(set(keys))
    per_slot = Counter(key.split(":user-")[0] for key in keys)
    # Digest: 3 reviewers + the district official's total and 7 town lines.
    assert per_slot["digest:2026-12-04:0900"] == 3 + 8
    # Only 狮山镇 has a pending entry, so only its two reviewers are reminded.
    assert per_slot["reminder:2026-12-04:1000"] == 2
    assert per_slot["reminder:2026-12-04:1400"] == 2
    assert per_slot["reminder:2026-12-04:1700"] == 2
    assert "return_reminder:2026-12-04:0900" not in per_slot


def test_repeated_tick_sends_nothing_new(app):
    _setup(app)
    with app.app_context():
        tick(shanghai(4, 9, 1).isoformat())
    first = _delivery_keys(app)
    with app.app_context():
        second = tick(shanghai(4, 9, 1).isoformat())
    assert second["claimed"] == []
    assert _delivery_keys(app) == first


def test_tick_prunes_old_receipts(app):
    with app.app_context():
        for key, age in (
            ("msg:old", timedelta(days=3)),
            ("msg:new", timedelta(hours=5)),
        ):
            db.session.add(
                CallbackReceipt(dedupe_key=key, received_at=shanghai(4, 9) - age)
            )
        db.session.commit()

        summary = tick(shanghai(4, 9, 1).isoformat())
        remaining = [key for (key,) in db.session.query(CallbackReceipt.dedupe_key)]

    assert summary["pruned"] == 1
    assert remaining == ["msg:new"]


def test_late_tick_within_grace_catches_up(app):
    _setup(app)
    with app.app_context():
        claimed = runs.run_due_slots(shanghai(4, 10, 55))
        claimed = sorted(
            (r.kind, r.slot, r.status) for r in claimed if r.slot_date.day == 4
        )
    assert claimed == [
        ("digest", "0900", RUN_PLANNED),
        ("reminder", "1000", RUN_PLANNED),
        ("return_reminder", "0900", RUN_PLANNED),
    ]
    assert (
        sum(key.startswith("digest:2026-12-04:0900:") for key in _delivery_keys(app))
        == 11
    )


def test_missed_slot_skipped_after_grace(app, caplog):
    _setup(app)
    with app.app_context():
        claimed = runs.run_due_slots(shanghai(4, 11, 1))
        skipped = SlotRun.query.filter_by(kind="digest").one()
        status, note = skipped.status, skipped.note
        claimed = [(run.kind, run.slot, run.status) for run in claimed]
    assert status == RUN_SKIPPED
    assert "晚了121分钟" in note
    assert ("reminder", "1000", RUN_PLANNED) in claimed
    assert not any(key.startswith("digest:") for key in _delivery_keys(app))
    assert "Slot skipped slot=digest:2026-12-04:0900" in caplog.text


def test_grace_window_is_inclusive(app):
    _setup(app)
    with app.app_context():
        runs.run_due_slots(shanghai(4, 11))
    assert _runs(app)[("digest", 4, "0900")] == RUN_PLANNED


def test_overnight_outage_skips_yesterday(app):
    _setup(app)
    with app.app_context():
        runs.run_due_slots(shanghai(5, 9))
    statuses = _runs(app)
    assert statuses[("reminder", 4, "1700")] == RUN_SKIPPED
    assert statuses[("digest", 4, "0900")] == RUN_SKIPPED
    assert statuses[("digest", 5, "0900")] == RUN_PLANNED


def test_no_runs_before_campaign_start(app):
    _setup(app)
    with app.app_context():
        claimed = runs.run_due_slots(shanghai(1, 8, 59))
    assert claimed == []
    assert _runs(app) == {}


def test_two_ticks_at_once_claim_each_slot_once(app):
    _setup(app)
    barrier = threading.Barrier(2)
    results = []

    def one_tick():
        with app.app_context():
            barrier.wait()
            claimed = runs.run_due_slots(shanghai(4, 9, 0))
            results.extend((run.kind, run.slot_date.day, run.slot) for run in claimed)

    threads = [threading.Thread(target=one_tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # Each slot is claimed by exactly one of the two ticks, including the
    # previous day's slots that both record as skipped.
    assert len(results) == len(set(results)) == 2 + 5
    assert sorted(kind for kind, day, _ in results if day == 4) == [
        "digest",
        "return_reminder",
    ]
    keys = _delivery_keys(app)
    assert len(keys) == len(set(keys)) == 11


def test_stale_planning_run_is_planned_again(app):
    _setup(app)
    with app.app_context():
        slot = runs.slot_for("digest", shanghai(4, 9).date())
        run = runs.claim_slot(slot, shanghai(4, 9))
        assert run.status == "planning"
        # The planner died here; its lease passes after five minutes.
        runs.run_due_slots(shanghai(4, 9, 3))
        assert db.session.get(SlotRun, run.id).status == "planning"
        runs.run_due_slots(shanghai(4, 9, 6))
        assert db.session.get(SlotRun, run.id).status == RUN_PLANNED
    assert sum(key.startswith("digest:") for key in _delivery_keys(app)) == 11
