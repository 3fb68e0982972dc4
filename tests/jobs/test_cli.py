"""The `flask digest send`, `flask schedule` and `flask demo generate` commands."""

from datetime import timedelta

from jobs import runs, status
from jobs.slots import local_date
from models import Delivery, Project, utcnow
from models.schedule import ProgressSnapshot, SlotRun
from tests.jobs.conftest import add_official, add_reviewer, shanghai


def _invoke(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_dry_run_stores_nothing(app):
    with app.app_context():
        reviewer = add_reviewer("shishan", "石一")
        unbound = add_reviewer("jiujiang", "九一", bound=False)
        ids = reviewer.id, unbound.id
    result = _invoke(app, "digest", "send", "--date", "2026-12-04", "--dry-run")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(
        f"user-{ids[0]} 石一 (镇街复核人员, 狮山镇) send: thing1=狮山镇 "
    )
    assert lines[1].startswith(
        f"user-{ids[1]} 九一 (镇街复核人员, 九江镇) skip (未绑定服务号)"
    )
    assert lines[-1] == "dry run: 2 messages, nothing sent or stored"
    with app.app_context():
        assert (
            Delivery.query.count(),
            SlotRun.query.count(),
            ProgressSnapshot.query.count(),
        ) == (0, 0, 0)


def test_send_twice_sends_once(app):
    with app.app_context():
        add_reviewer("shishan", "石一")
        add_official("区领导")
    first = _invoke(app, "digest", "send", "--date", "2026-12-04")
    second = _invoke(app, "digest", "send", "--date", "2026-12-04")

    assert first.exit_code == 0, first.output
    assert first.output.startswith(
        "digest 2026-12-04 planned: 9 messages, 9 queued to send"
    )
    assert second.exit_code == 0
    assert "was already claimed (planned, manual)" in second.output
    assert second.output.rstrip().endswith("nothing sent")
    with app.app_context():
        assert Delivery.query.filter_by(kind="digest").count() == 9
        assert SlotRun.query.one().trigger == "manual"


def test_send_takes_over_a_skipped_slot(app):
    with app.app_context():
        add_reviewer("shishan", "石一")
        runs.run_due_slots(shanghai(4, 12))
        assert (
            SlotRun.query.filter_by(kind="digest", slot_date=shanghai(4, 9).date())
            .one()
            .status
            == "skipped"
        )
    result = _invoke(app, "digest", "send", "--date", "2026-12-04")
    assert result.output.startswith("digest 2026-12-04 planned: 1 messages")
    with app.app_context():
        run = SlotRun.query.filter_by(
            kind="digest", slot_date=shanghai(4, 9).date()
        ).one()
        assert (run.status, run.trigger, run.note) == ("planned", "manual", None)


def test_send_outside_campaign_fails(app):
    result = _invoke(app, "digest", "send", "--date", "2027-01-05")
    assert result.exit_code == 1
    assert "no digest on 2027-01-05 in the campaign" in result.output
    dry = _invoke(app, "digest", "send", "--date", "2026-11-30", "--dry-run")
    assert dry.exit_code == 1
    assert "2026-11-30 is outside the campaign" in dry.output


def test_send_rejects_a_bad_date(app):
    result = _invoke(app, "digest", "send", "--date", "04/12/2026")
    assert result.exit_code == 2
    assert "Invalid value for '--date'" in result.output


def test_reconcile_then_status(app):
    today = local_date(utcnow())
    app.config["CAMPAIGN_START"] = today - timedelta(days=2)
    app.config["CAMPAIGN_DEADLINE"] = today + timedelta(days=5)
    with app.app_context():
        add_reviewer("shishan", "石一")
        runs.run_due_slots(utcnow())

    reconciled = _invoke(app, "schedule", "reconcile")
    shown = _invoke(app, "schedule", "status", "--count", "3")

    assert reconciled.output.strip() == (
        "schedule reconciled: added ['schedule-tick'], kept [], removed []"
    )
    lines = shown.output.splitlines()
    assert lines[0] == (
        f"campaign: {today - timedelta(days=2)} to {today + timedelta(days=5)} "
        "(Asia/Shanghai), grace 120 minutes"
    )
    assert lines[1].startswith("tick: schedule-tick every 30 s, next ")
    assert lines[2] == "next slots (Asia/Shanghai):"
    assert len([line for line in lines[3:6] if line.startswith("  20")]) == 3
    assert "last runs:" in lines
    assert "skipped slots:" in lines


def test_status_flags_missing_tick(app):
    result = _invoke(app, "schedule", "status")
    assert (
        "tick: schedule-tick NOT registered; run `flask schedule reconcile`"
        in result.output
    )


def test_status_functions_list_runs(app):
    with app.app_context():
        add_reviewer("shishan", "石一")
        runs.run_due_slots(shanghai(4, 11, 30))
        upcoming = status.next_slots(shanghai(4, 11, 30), 2)
        recent = status.recent_runs(3)
        skipped = status.skipped_runs(10)

    assert upcoming == [
        {
            "kind": "reminder",
            "label": "待复核提醒",
            "date": "2026-12-04",
            "slot": "1400",
            "due_at": "2026-12-04T06:00:00+00:00",
            "local_time": "2026-12-04 14:00",
        },
        {
            "kind": "reminder",
            "label": "待复核提醒",
            "date": "2026-12-04",
            "slot": "1700",
            "due_at": "2026-12-04T09:00:00+00:00",
            "local_time": "2026-12-04 17:00",
        },
    ]
    assert [(run["kind"], run["slot"], run["status"]) for run in recent] == [
        ("reminder", "1000", "planned"),
        ("return_reminder", "0900", "skipped"),
        ("digest", "0900", "skipped"),
    ]
    assert recent[1]["status_label"] == "已跳过"
    assert recent[2]["local_time"] == "2026-12-04 09:00"
    assert recent[2]["deliveries"] == {}
    # Today's two 09:00 slots and yesterday's three after 09:30 (grace plus a day).
    assert len(skipped) == 2 + 3
    assert skipped[0]["note"].startswith(
        "调度器未在宽限时间（120分钟）内运行，晚了150分钟"
    )


def test_demo_generate_inserts_projects(app):
    result = _invoke(app, "demo", "generate", "--projects", "70")
    assert result.exit_code == 0, result.output
    assert "generated 70 projects, 210 entries" in result.output
    with app.app_context():
        assert Project.query.count() == 70
