"""The campaign calendar: Shanghai wall-clock slots, whatever the host's time zone."""

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime

import pytest

from jobs.slots import (
    Campaign,
    campaign_from_config,
    next_slots,
    slots_between,
    slots_on,
)
from tests.conftest import ROOT

CAMPAIGN = Campaign(date(2026, 12, 1), date(2026, 12, 31))


def utc(day, hour, minute=0):
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


def test_day_has_digest_and_three_reminders():
    slots = slots_on(date(2026, 12, 4), CAMPAIGN)
    assert [(s.kind, s.slot) for s in slots] == [
        ("digest", "0900"),
        ("return_reminder", "0900"),
        ("reminder", "1000"),
        ("reminder", "1400"),
        ("reminder", "1700"),
    ]


def test_slots_are_shanghai_wall_clock():
    digest, _, ten, two, five = slots_on(date(2026, 12, 4), CAMPAIGN)
    assert digest.due_at == utc(4, 1)
    assert ten.due_at == utc(4, 2)
    assert two.due_at == utc(4, 6)
    assert five.due_at == utc(4, 9)
    assert digest.key == "digest:2026-12-04:0900"


def test_no_slots_before_start_or_after_deadline():
    assert slots_on(date(2026, 11, 30), CAMPAIGN) == []
    assert slots_on(date(2027, 1, 1), CAMPAIGN) == []
    assert [s.kind for s in slots_on(date(2026, 12, 1), CAMPAIGN)][0] == "digest"


def test_deadline_reminder_from_three_days_before():
    def kinds(day):
        return [s.kind for s in slots_on(date(2026, 12, day), CAMPAIGN)]

    assert "deadline_reminder" not in kinds(27)
    assert "deadline_reminder" in kinds(28)
    assert "deadline_reminder" in kinds(31)


def test_slots_between_spans_midnight():
    # 16:00 UTC on the 3rd is midnight in Shanghai on the 4th.
    found = slots_between(utc(3, 8), utc(4, 2), CAMPAIGN)
    assert [s.key for s in found] == [
        "reminder:2026-12-03:1700",
        "digest:2026-12-04:0900",
        "return_reminder:2026-12-04:0900",
        "reminder:2026-12-04:1000",
    ]


def test_slot_due_exactly_now_is_included():
    found = slots_between(utc(4, 0, 59), utc(4, 1), CAMPAIGN)
    assert [s.key for s in found] == [
        "digest:2026-12-04:0900",
        "return_reminder:2026-12-04:0900",
    ]


def test_next_slots_after_last_reminder():
    upcoming = next_slots(utc(4, 9, 30), CAMPAIGN, 3)
    assert [s.key for s in upcoming] == [
        "digest:2026-12-05:0900",
        "return_reminder:2026-12-05:0900",
        "reminder:2026-12-05:1000",
    ]


def test_next_slots_stop_at_deadline():
    assert [s.key for s in next_slots(utc(31, 8), CAMPAIGN, 10)] == [
        "reminder:2026-12-31:1700"
    ]
    assert next_slots(utc(31, 9, 30), CAMPAIGN, 10) == []


def test_development_campaign_is_computed_from_now():
    now = datetime(2026, 12, 4, 3, tzinfo=UTC)
    campaign = campaign_from_config({"APP_ENV": "development"}, now)
    assert campaign.start == date(2026, 11, 20)
    assert campaign.deadline == date(2027, 1, 3)


def test_production_without_dates_has_no_campaign():
    now = datetime(2026, 12, 4, 3, tzinfo=UTC)
    assert campaign_from_config({"APP_ENV": "production"}, now) is None


def test_configured_dates_win_in_development():
    config = {
        "APP_ENV": "development",
        "CAMPAIGN_START": date(2026, 12, 2),
        "CAMPAIGN_DEADLINE": date(2026, 12, 9),
    }
    campaign = campaign_from_config(config, datetime(2026, 12, 4, tzinfo=UTC))
    assert (campaign.start, campaign.deadline) == (date(2026, 12, 2), date(2026, 12, 9))


PLANNING_SCRIPT = """
import json
from datetime import UTC, date, datetime
from jobs.slots import Campaign, next_slots, slots_on

campaign = Campaign(date(2026, 12, 1), date(2026, 12, 31))
digest = slots_on(date(2026, 12, 4), campaign)[0]
late_evening = datetime(2026, 12, 4, 15, 30, tzinfo=UTC)
print(json.dumps({
    "digest_utc": digest.due_at.isoformat(),
    "next": [s.key for s in next_slots(late_evening, campaign, 2)],
    "local_hour": datetime.now().astimezone().utcoffset().total_seconds() / 3600,
}))
"""


@pytest.mark.parametrize("zone,offset", [("UTC", 0), ("America/New_York", -5)])
def test_planning_ignores_host_time_zone(zone, offset):
    env = dict(os.environ, TZ=zone)
    result = subprocess.run(
        [sys.executable, "-c", PLANNING_SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    output = json.loads(result.stdout)
    assert output["local_hour"] == offset
    assert output["digest_utc"] == "2026-12-04T01:00:00+00:00"
    assert output["next"] == [
        "digest:2026-12-05:0900",
        "return_reminder:2026-12-05:0900",
    ]
