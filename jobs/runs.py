"""Claim each due slot once, plan its messages into the outbox, then send.

A slot is claimed by inserting its ``SlotRun`` row; the unique key (kind,
date, slot) lets exactly one of several ticks or schedulers win. The winner
writes one ``Delivery`` row per message, keyed ``kind:date:slot:user-<id>``,
commits, and enqueues the sends. A planner killed half way leaves the run
in ``planning``. Once its lease has passed, the next tick plans it again,
and because of the outbox keys the second pass adds only the missing rows.
"""

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy.exc import IntegrityError

from bot.delivery import queue_delivery
from bot.errors import TemplateFieldError
from jobs import digest, reminders
from jobs.fanout import SENDABLE, enqueue_sends_quietly, stop_batch
from jobs.slots import (
    DEADLINE_REMINDER,
    DIGEST,
    REMINDER,
    RETURN_REMINDER,
    campaign_from_config,
    slot_for,
    slots_between,
)
from models import Delivery, db
from models.schedule import (
    RUN_DONE,
    RUN_PLANNED,
    RUN_PLANNING,
    RUN_SKIPPED,
    TRIGGER_MANUAL,
    TRIGGER_SCHEDULE,
    SlotRun,
)

logger = logging.getLogger(__name__)

PLANNERS = {
    DIGEST: digest.plan,
    REMINDER: reminders.plan_reviewer_reminders,
    DEADLINE_REMINDER: reminders.plan_deadline_reminders,
    RETURN_REMINDER: reminders.plan_return_reminders,
}

# A planner renews its lease at every commit; a run whose lease passed has
# lost its planner.
PLAN_LEASE = timedelta(minutes=5)
PLAN_COMMIT_EVERY = 500
# Missed slots older than the grace window are still recorded as skipped
# for this long after it, so the console lists them.
SKIP_LOOKBACK = timedelta(days=1)


class NoSlotThatDay(ValueError):
    """The requested slot is not in the campaign on that date."""


@dataclass
class SlotResult:
    """Outcome of a request to send a slot.

    ``created`` is False when the slot was already claimed and nothing was sent.
    """

    run: SlotRun
    created: bool


def current_campaign(now):
    return campaign_from_config(current_app.config, now)


def grace_window():
    return timedelta(minutes=current_app.config["SCHEDULE_GRACE_MINUTES"])


def run_due_slots(now):
    """Run every slot due at ``now`` within the grace window; skip older misses.

    Returns the runs this call claimed (planned or skipped).
    """
    grace = grace_window()
    campaign = current_campaign(now)
    slots = slots_between(now - grace - SKIP_LOOKBACK, now, campaign)
    claimed = _claimed_keys(slots)

    runs = []
    for slot in slots:
        if (slot.kind, slot.day, slot.slot) in claimed:
            continue
        if now - slot.due_at > grace:
            run = skip_slot(slot, now, grace)
        else:
            run = run_slot(slot, now, campaign)
        if run is not None:
            runs.append(run)
    resume_stale_runs(now, campaign)
    return runs


def _claimed_keys(slots):
    if not slots:
        return set()
    days = {slot.day for slot in slots}
    rows = db.session.query(SlotRun.kind, SlotRun.slot_date, SlotRun.slot).filter(
        SlotRun.slot_date.in_(days)
    )
    return {tuple(row) for row in rows}


def claim_slot(slot, now, status=RUN_PLANNING, trigger=TRIGGER_SCHEDULE, note=None):
    """Insert the slot's run row; return it, or None if another claimer won."""
    run = SlotRun(
        kind=slot.kind,
        slot_date=slot.day,
        slot=slot.slot,
        due_at=slot.due_at,
        status=status,
        trigger=trigger,
        claimed_at=now,
        lease_until=now + PLAN_LEASE if status == RUN_PLANNING else None,
        recipients=0,
        note=note,
    )
    db.session.add(run)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        logger.info("Slot already claimed slot=%s", slot.key)
        return None
    return run


def skip_slot(slot, now, grace):
    """Record a slot missed by more than the grace window as skipped."""
    late = int((now - slot.due_at).total_seconds() // 60)
    grace_minutes = int(grace.total_seconds() // 60)
    note = f"调度器未在宽限时间（{grace_minutes}分钟）内运行，晚了{late}分钟，未发送"
    run = claim_slot(slot, now, status=RUN_SKIPPED, note=note)
    if run is not None:
        logger.warning(
            "Slot skipped slot=%s due_at=%s late_minutes=%d grace_minutes=%d",
            slot.key,
            slot.due_at.isoformat(),
            late,
            grace_minutes,
        )
    return run


def run_slot(slot, now, campaign, trigger=TRIGGER_SCHEDULE):
    """Claim ``slot`` and plan its messages; return the run, or None if taken."""
    run = claim_slot(slot, now, trigger=trigger)
    if run is None:
        return None
    logger.info("Slot claimed slot=%s trigger=%s", slot.key, trigger)
    plan_run(run, slot, now, campaign)
    return run


def plan_run(run, slot, now, campaign):
    """Write the outbox rows of ``run`` and enqueue their sends.

    Raises ``TemplateFieldError`` after marking the run failed when a
    message breaks WeChat's field rules, because every later run of the
    same kind would break them too.
    """
    messages = PLANNERS[slot.kind](slot, now, campaign)
    try:
        sendable = _queue_messages(run, slot, messages, now)
    except TemplateFieldError as exc:
        db.session.rollback()
        stop_batch(slot.key, exc)
        raise

    run.status = RUN_PLANNED
    run.planned_at = now
    run.lease_until = None
    run.recipients = len(messages)
    db.session.commit()
    logger.info(
        "Slot planned slot=%s messages=%d to_send=%d",
        slot.key,
        len(messages),
        len(sendable),
    )
    enqueue_sends_quietly(sendable)
    return sendable


def _queue_messages(run, slot, messages, now):
    # ``now`` may be injected, so the lease grows by the time spent here.
    started = time.monotonic()
    sendable = []
    for number, message in enumerate(messages, start=1):
        delivery = queue_delivery(
            slot.kind,
            message.user,
            message.template_kind,
            message.values,
            message.pagepath,
            message.dedupe_key(slot.key),
        )
        if delivery.status in SENDABLE:
            sendable.append(delivery.id)
        if number % PLAN_COMMIT_EVERY == 0:
            spent = timedelta(seconds=time.monotonic() - started)
            run.lease_until = now + spent + PLAN_LEASE
            db.session.commit()
    return sendable


def resume_stale_runs(now, campaign):
    """Plan again every run whose planner died (lease passed while planning)."""
    stale = (
        SlotRun.query.filter(
            SlotRun.status == RUN_PLANNING,
            SlotRun.lease_until < now,
            SlotRun.due_at >= now - grace_window() - SKIP_LOOKBACK,
        )
        .order_by(SlotRun.due_at)
        .all()
    )
    for run in stale:
        if _take_over(run, now):
            logger.warning(
                "Planning again after a lost planner slot=%s", run.key_prefix
            )
            plan_run(run, slot_for(run.kind, run.slot_date, run.slot), now, campaign)


def _take_over(run, now):
    """Renew a stale lease atomically; True if this caller now plans the run."""
    taken = SlotRun.query.filter(
        SlotRun.id == run.id,
        SlotRun.status == RUN_PLANNING,
        SlotRun.lease_until == run.lease_until,
    ).update({"lease_until": now + PLAN_LEASE}, synchronize_session=False)
    db.session.commit()
    db.session.refresh(run)
    return taken == 1


def send_slot_now(kind, day, now):
    """Send the ``kind`` slot of ``day`` now, once, at whatever time it is.

    Used by ``flask digest send`` and the console. A slot already claimed
    (by the schedule or an earlier request) is not sent again; a slot that
    was skipped is taken over and sent. Raises ``NoSlotThatDay`` when the
    campaign has no such slot on ``day``.
    """
    campaign = current_campaign(now)
    if campaign is None or not campaign.has_slot(kind, day):
        raise NoSlotThatDay(f"no {kind} on {day.isoformat()} in the campaign")
    slot = slot_for(kind, day)

    run = claim_slot(slot, now, trigger=TRIGGER_MANUAL)
    if run is None:
        run = _take_over_skipped(slot, now)
        if run is None:
            existing = SlotRun.query.filter_by(
                kind=kind, slot_date=day, slot=slot.slot
            ).one()
            return SlotResult(existing, created=False)
    logger.info("Slot sent on request slot=%s", slot.key)
    plan_run(run, slot, now, campaign)
    return SlotResult(run, created=True)


def _take_over_skipped(slot, now):
    taken = SlotRun.query.filter_by(
        kind=slot.kind, slot_date=slot.day, slot=slot.slot, status=RUN_SKIPPED
    ).update(
        {
            "status": RUN_PLANNING,
            "trigger": TRIGGER_MANUAL,
            "lease_until": now + PLAN_LEASE,
            "note": None,
        },
        synchronize_session=False,
    )
    db.session.commit()
    if taken != 1:
        return None
    return SlotRun.query.filter_by(
        kind=slot.kind, slot_date=slot.day, slot=slot.slot
    ).one()


def finish_runs(now):
    """Mark planned runs done once none of their rows is left to send."""
    recent = SlotRun.query.filter(
        SlotRun.status == RUN_PLANNED,
        SlotRun.due_at >= now - grace_window() - SKIP_LOOKBACK * 2,
    ).all()
    for run in recent:
        open_rows = Delivery.query.filter(
            Delivery.dedupe_key.startswith(run.key_prefix, autoescape=True),
            Delivery.status.in_(SENDABLE),
        ).count()
        if open_rows == 0:
            run.status = RUN_DONE
            run.finished_at = now
    db.session.commit()
