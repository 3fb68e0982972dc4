"""Periodic jobs as data: the entries rq-scheduler runs, reconciled at start.

``flask schedule reconcile`` runs before ``rqscheduler`` starts. It leaves
in Redis exactly the entries listed here, each under its fixed job id. An
entry that exists with the same settings is kept and a changed one is
replaced. Any other periodic entry of ours is removed, such as an older id
or a duplicate from a ``cron()`` call without an id, so restarting the
scheduler never adds a second tick.

The entry's ``result_ttl`` is -1 (kept): rq-scheduler re-schedules an
interval job by its id, and a result TTL shorter than the interval would
let Redis delete the job between runs, silently ending the schedule.
"""

import logging
from dataclasses import dataclass
from datetime import UTC

from rq_scheduler import Scheduler

from jobs.queues import QUEUE_NAME

logger = logging.getLogger(__name__)

ID_PREFIX = "schedule-"
OUR_MODULE_PREFIX = "jobs."


@dataclass(frozen=True)
class ScheduleEntry:
    """One periodic job: fixed id, function path, interval and timeout in seconds."""

    id: str
    func: str
    interval: int
    timeout: int
    description: str


ENTRIES = (
    ScheduleEntry(
        id="schedule-tick",
        func="jobs.tick.tick",
        interval=30,
        timeout=600,
        description="每30秒：按上海时间发送到点的汇总和提醒，补发漏发消息",
    ),
)


def make_scheduler(redis):
    return Scheduler(queue_name=QUEUE_NAME, connection=redis)


def reconcile(scheduler, now, entries=ENTRIES):
    """Leave exactly ``entries`` in the scheduler; return (added, kept, removed) ids."""
    wanted = {entry.id: entry for entry in entries}
    added, kept, removed = [], [], []
    for job in list(scheduler.get_jobs()):
        entry = wanted.get(job.id)
        if entry is not None and _matches(job, entry):
            kept.append(job.id)
        elif entry is not None or _is_ours(job):
            scheduler.cancel(job)
            job.delete()
            removed.append(job.id)

    for entry in entries:
        if entry.id not in kept:
            _schedule(scheduler, entry, now)
            added.append(entry.id)
    logger.info("Schedule reconciled added=%s kept=%s removed=%s", added, kept, removed)
    return added, kept, removed


def _matches(job, entry):
    return (
        job.func_name == entry.func
        and job.meta.get("interval") == entry.interval
        and job.timeout == entry.timeout
        and not job.meta.get("cron_string")
    )


def _is_ours(job):
    return job.id.startswith(ID_PREFIX) or job.func_name.startswith(OUR_MODULE_PREFIX)


def _schedule(scheduler, entry, now):
    scheduler.schedule(
        scheduled_time=now,
        func=entry.func,
        interval=entry.interval,
        repeat=None,
        result_ttl=-1,
        timeout=entry.timeout,
        id=entry.id,
        description=entry.description,
        at_front=True,
    )


def scheduled_entries(scheduler):
    """Return (job, next run as aware UTC) for every entry in the scheduler."""
    # rq-scheduler returns naive UTC datetimes.
    return [
        (job, when.replace(tzinfo=UTC))
        for job, when in scheduler.get_jobs(with_times=True)
    ]
