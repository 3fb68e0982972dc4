"""The campaign calendar: which slots exist on which Shanghai date, and when.

Every slot is a wall-clock time in Asia/Shanghai, converted with ``zoneinfo``
and never with the host's local time zone, so a scheduler on a UTC host
sends the 09:00 digest at 01:00 UTC. Shanghai has had no daylight saving
since 1991, but the conversion goes through ``zoneinfo`` anyway so that a
district elsewhere only changes ``SCHEDULE_TIME_ZONE``.

Nothing here reads a clock: callers pass ``now`` (an aware datetime).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

DIGEST = "digest"
REMINDER = "reminder"
DEADLINE_REMINDER = "deadline_reminder"
RETURN_REMINDER = "return_reminder"

KIND_LABELS = {
    DIGEST: "每日进度汇总",
    REMINDER: "待复核提醒",
    DEADLINE_REMINDER: "截止前填报提醒",
    RETURN_REMINDER: "退回未修改提醒",
}

# Staff with unfinished projects are reminded from this many days before
# the deadline until the deadline day.
DEADLINE_REMINDER_DAYS = 3

# Without CAMPAIGN_START and CAMPAIGN_DEADLINE, development and testing
# behave as if the campaign began this many days ago and ends this many
# days ahead, so that a fresh demo has digests to send.
DEVELOPMENT_DAYS_SINCE_START = 14
DEVELOPMENT_DAYS_TO_DEADLINE = 30


@dataclass(frozen=True)
class SlotSpec:
    """A kind of scheduled message and its Shanghai wall-clock time."""

    kind: str
    at: time

    @property
    def slot(self):
        return self.at.strftime("%H%M")


SLOT_SPECS = (
    SlotSpec(DIGEST, time(9, 0)),
    SlotSpec(DEADLINE_REMINDER, time(9, 0)),
    SlotSpec(RETURN_REMINDER, time(9, 0)),
    SlotSpec(REMINDER, time(10, 0)),
    SlotSpec(REMINDER, time(14, 0)),
    SlotSpec(REMINDER, time(17, 0)),
)


@dataclass(frozen=True)
class Slot:
    """One occurrence of a slot: a kind on a Shanghai date at a UTC instant."""

    kind: str
    day: date
    slot: str
    due_at: datetime

    @property
    def key(self):
        """The slot part of every outbox key, e.g. ``digest:2026-12-04:0900``."""
        return f"{self.kind}:{self.day.isoformat()}:{self.slot}"

    @property
    def local_due(self):
        return self.due_at.astimezone(SHANGHAI)

    @property
    def label(self):
        return KIND_LABELS[self.kind]


@dataclass(frozen=True)
class Campaign:
    """The collection campaign: first and last Shanghai date of sending."""

    start: date
    deadline: date

    def is_open(self, day):
        return self.start <= day <= self.deadline

    def days_left(self, day):
        return (self.deadline - day).days

    def has_slot(self, kind, day):
        """True when messages of ``kind`` are sent on ``day``."""
        if not self.is_open(day):
            return False
        if kind == DEADLINE_REMINDER:
            return self.days_left(day) <= DEADLINE_REMINDER_DAYS
        return True


def local_date(now):
    """Return the Shanghai calendar date of the aware instant ``now``."""
    return now.astimezone(SHANGHAI).date()


def to_utc(day, at):
    """Return the UTC instant of Shanghai wall-clock ``at`` on ``day``."""
    return datetime.combine(day, at, tzinfo=SHANGHAI).astimezone(UTC)


def campaign_from_config(config, now):
    """Return the ``Campaign`` of the app config, or None when there is none.

    In production both dates must be set. Elsewhere a missing date falls
    back to a campaign started 14 days before ``now`` (Shanghai date) that
    ends 30 days after it.
    """
    start, deadline = config.get("CAMPAIGN_START"), config.get("CAMPAIGN_DEADLINE")
    if config.get("APP_ENV") != "production":
        today = local_date(now)
        start = start or today - timedelta(days=DEVELOPMENT_DAYS_SINCE_START)
        deadline = deadline or today + timedelta(days=DEVELOPMENT_DAYS_TO_DEADLINE)
    if start is None or deadline is None:
        return None
    return Campaign(start, deadline)


def slots_on(day, campaign):
    """Return the slots of Shanghai date ``day``, in time order."""
    if campaign is None:
        return []
    return [
        Slot(spec.kind, day, spec.slot, to_utc(day, spec.at))
        for spec in SLOT_SPECS
        if campaign.has_slot(spec.kind, day)
    ]


def slot_for(kind, day, slot=None):
    """Return the ``Slot`` of ``kind`` on ``day``, at its first time by default."""
    for spec in SLOT_SPECS:
        if spec.kind == kind and (slot is None or spec.slot == slot):
            return Slot(kind, day, spec.slot, to_utc(day, spec.at))
    raise ValueError(f"no slot {kind} {slot or ''} in the schedule")


def slots_between(start, end, campaign):
    """Return the slots due in the interval (start, end], oldest first."""
    found = []
    day = local_date(start)
    while day <= local_date(end):
        found.extend(s for s in slots_on(day, campaign) if start < s.due_at <= end)
        day += timedelta(days=1)
    return found


def next_slots(now, campaign, count):
    """Return the next ``count`` slots due after ``now``.

    The search stops at the campaign deadline, so fewer slots come back
    near the end of the campaign.
    """
    found = []
    day = local_date(now)
    while campaign is not None and len(found) < count and day <= campaign.deadline:
        found.extend(s for s in slots_on(day, campaign) if s.due_at > now)
        day += timedelta(days=1)
    return found[:count]
