"""The rq-scheduler entries: one tick under a fixed id, whatever restarts happen."""

from rq import Queue
from rq.job import Job

from jobs import schedule
from jobs.queues import QUEUE_NAME
from models import utcnow
from tests.jobs.conftest import run_worker


def _entries(scheduler):
    return sorted(job.id for job in scheduler.get_jobs())


def test_reconcile_registers_the_tick(redis_connection):
    scheduler = schedule.make_scheduler(redis_connection)
    added, kept, removed = schedule.reconcile(scheduler, utcnow())
    (job,) = scheduler.get_jobs()

    assert (added, kept, removed) == (["schedule-tick"], [], [])
    assert job.id == "schedule-tick"
    assert job.func_name == "jobs.tick.tick"
    assert job.meta["interval"] == 30
    assert job.result_ttl == -1
    assert job.timeout == 600


def test_restarts_never_duplicate_the_tick(redis_connection):
    for _ in range(3):
        scheduler = schedule.make_scheduler(redis_connection)
        schedule.reconcile(scheduler, utcnow())
    assert _entries(scheduler) == ["schedule-tick"]
    assert schedule.reconcile(scheduler, utcnow()) == ([], ["schedule-tick"], [])


def test_reconcile_removes_stale_and_cron_entries(redis_connection):
    scheduler = schedule.make_scheduler(redis_connection)
    # The trap: cron() without an id adds a new entry on every start.
    scheduler.cron("0 9 * * *", func="jobs.tick.tick")
    scheduler.cron("0 9 * * *", func="jobs.tick.tick")
    scheduler.schedule(utcnow(), func="jobs.tick.tick", interval=60, id="schedule-old")
    scheduler.schedule(utcnow(), func="some.other.task", interval=60, id="other-task")

    added, kept, removed = schedule.reconcile(scheduler, utcnow())

    assert added == ["schedule-tick"]
    assert len(removed) == 3
    assert _entries(scheduler) == ["other-task", "schedule-tick"]


def test_changed_interval_replaces_the_entry(redis_connection):
    scheduler = schedule.make_scheduler(redis_connection)
    scheduler.schedule(
        utcnow(), func="jobs.tick.tick", interval=300, id="schedule-tick"
    )
    added, kept, removed = schedule.reconcile(scheduler, utcnow())
    assert (added, kept, removed) == (["schedule-tick"], [], ["schedule-tick"])
    assert scheduler.get_jobs().__next__().meta["interval"] == 30


def test_two_schedulers_enqueue_one_tick(redis_connection):
    schedule.reconcile(schedule.make_scheduler(redis_connection), utcnow())
    first = schedule.make_scheduler(redis_connection)
    second = schedule.make_scheduler(redis_connection)
    first.run(burst=True)
    second.run(burst=True)

    queue = Queue(QUEUE_NAME, connection=redis_connection)
    assert queue.job_ids == ["schedule-tick"]
    assert _entries(first) == ["schedule-tick"]


def test_tick_entry_survives_its_run(app, redis_connection):
    scheduler = schedule.make_scheduler(redis_connection)
    schedule.reconcile(scheduler, utcnow())
    scheduler.run(burst=True)
    run_worker(app, redis_connection)

    job = Job.fetch("schedule-tick", connection=redis_connection)
    assert job.get_status() == "finished"
    assert _entries(scheduler) == ["schedule-tick"]
    ((_, next_run),) = schedule.scheduled_entries(scheduler)
    assert 0 < (next_run - utcnow()).total_seconds() <= 31
