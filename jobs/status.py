"""The schedule as the console and ``flask schedule status`` show it.

Every function returns plain dicts, with times both as ISO 8601 UTC
instants and as Shanghai wall-clock text.
"""

from flask import current_app

from jobs import slots as calendar
from jobs.slots import SHANGHAI
from models import Delivery, db
from models.schedule import RUN_SKIPPED, SlotRun


def campaign(now):
    """Return the current ``Campaign`` (None when production has no dates set)."""
    return calendar.campaign_from_config(current_app.config, now)


def next_slots(now, count):
    """Return the next ``count`` slots due after ``now``, soonest first."""
    return [
        {
            "kind": slot.kind,
            "label": slot.label,
            "date": slot.day.isoformat(),
            "slot": slot.slot,
            "due_at": slot.due_at.isoformat(),
            "local_time": _shanghai(slot.due_at),
        }
        for slot in calendar.next_slots(now, campaign(now), count)
    ]


def recent_runs(limit):
    """Return the ``limit`` latest slot runs, newest first, with delivery counts."""
    runs = SlotRun.query.order_by(SlotRun.due_at.desc(), SlotRun.id.desc()).limit(limit)
    return [_run_dict(run) for run in runs]


def skipped_runs(limit):
    """Return the ``limit`` latest slots skipped because the scheduler was down."""
    runs = (
        SlotRun.query.filter_by(status=RUN_SKIPPED)
        .order_by(SlotRun.due_at.desc(), SlotRun.id.desc())
        .limit(limit)
    )
    return [_run_dict(run) for run in runs]


def delivery_counts(run):
    """Return the number of outbox rows of ``run`` per delivery status."""
    rows = (
        db.session.query(Delivery.status, db.func.count(Delivery.id))
        .filter(Delivery.dedupe_key.startswith(run.key_prefix, autoescape=True))
        .group_by(Delivery.status)
    )
    return {status: count for status, count in rows}


def _run_dict(run):
    return {
        "id": run.id,
        "kind": run.kind,
        "label": calendar.KIND_LABELS.get(run.kind, run.kind),
        "date": run.slot_date.isoformat(),
        "slot": run.slot,
        "due_at": run.due_at.isoformat(),
        "local_time": _shanghai(run.due_at),
        "status": run.status,
        "status_label": run.status_label,
        "trigger": run.trigger,
        "claimed_at": _iso(run.claimed_at),
        "planned_at": _iso(run.planned_at),
        "finished_at": _iso(run.finished_at),
        "recipients": run.recipients,
        "note": run.note,
        "deliveries": delivery_counts(run),
    }


def _shanghai(moment):
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _iso(moment):
    return moment.isoformat() if moment is not None else None
