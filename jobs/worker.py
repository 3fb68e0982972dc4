"""rq workers that run every job inside a Flask app context.

Jobs are plain functions that use ``current_app`` and ``db.session``, and
the worker pushes the app context for each of them here. Run a worker with::

    rq worker --url "$REDIS_URL" --worker-class jobs.worker.AppWorker default

rq 3.0 calls ``perform_job(job, queue, execution)`` (rq 1.x and 2.x had
``perform_job(job, queue)``); the override keeps that signature. The app is
built from the environment (``create_app()``) once per worker process, in
the parent before it forks, and each job runs in a fresh app context so
every job gets its own database session.

Send chunks (``jobs.fanout.send_chunk``) are the exception: ``AppWorker``
runs them in the worker process itself. A forked horse costs about 20 ms
of CPU per job before any work, plus the database, Redis and HTTP
connections it must open again, so forking every chunk of 200 messages
added about 1 s of CPU per 10,000 messages (``benchmarks/README.md``). A chunk needs no isolation
because it keeps no state between runs, and its rq timeout still applies
(SIGALRM in the worker process).
"""

import gc
import logging

from rq.defaults import DEFAULT_WORKER_TTL
from rq.worker import SimpleWorker, Worker, WorkerStatus

logger = logging.getLogger(__name__)

# Jobs that AppWorker runs in its own process rather than in a forked horse.
INLINE_FUNCTIONS = frozenset({"jobs.fanout.send_chunk"})


class AppContextMixin:
    """Worker mixin that pushes an app context around each job.

    ``flask_app`` may be set by the caller; otherwise ``create_app()`` builds it.
    """

    flask_app = None
    # True for workers whose jobs run in a forked child process.
    forks = False

    def app(self):
        if self.flask_app is None:
            from wxapp_backend import create_app

            self.flask_app = create_app()
            logger.info("Worker app created worker=%s", self.name)
            if self.forks:
                _freeze_heap()
        return self.flask_app

    def work(self, *args, **kwargs):
        # Build the app before the first job is taken off the queue. Built
        # later, a worker killed while building it would leave that job
        # taken but not started.
        self.app()
        return super().work(*args, **kwargs)

    def execute_job(self, job, queue):
        # Build the app before a fork, so each work horse inherits it.
        self.app()
        return super().execute_job(job, queue)

    def perform_job(self, job, queue, execution):
        app = self.app()
        with app.app_context():
            if self.forks and not self.running_inline:
                _forget_parent_connections()
            return super().perform_job(job, queue, execution)

    @property
    def running_inline(self):
        return False


def _freeze_heap():
    """Keep the garbage collector of each work horse off the parent's objects.

    A forked horse shares the parent's memory until it writes to a page. A
    full collection in the horse writes to the header of every object it
    inspects, so it copies those pages once per job. Objects alive now
    (modules, the app) are moved out of the collector's reach for good.
    Measured once here: an empty forked job cost 34 ms of CPU without this
    and 28 ms with it.
    """
    gc.collect()
    gc.freeze()


def _forget_parent_connections():
    """Drop pooled connections copied from the parent by ``fork()``, unclosed.

    Using or closing them in the child would break them for the parent,
    which keeps them for the send chunks it runs itself. The WeChat objects
    are built again so the child gets HTTP sessions of its own. redis-py
    notices the fork by itself.
    """
    from flask import current_app

    from bot.web import build_services
    from models import db

    db.engine.dispose(close=False)
    app = current_app._get_current_object()
    app.extensions["wechat"] = build_services(app.config, app.extensions["redis"])


class AppWorker(AppContextMixin, Worker):
    """The production worker: forks a work horse per job, except send chunks."""

    forks = True
    _inline_job = None

    @property
    def running_inline(self):
        return self._inline_job is not None

    def execute_job(self, job, queue):
        if job.func_name not in INLINE_FUNCTIONS:
            return super().execute_job(job, queue)
        self.app()
        self._inline_job = job
        try:
            # What rq's SimpleWorker does for every job.
            execution = self.prepare_execution(job)
            self.perform_job(job, queue, execution)
        finally:
            self._inline_job = None
        self.set_state(WorkerStatus.IDLE)
        return None

    def get_heartbeat_ttl(self, job, working_time=0.0):
        if not self.running_inline:
            return super().get_heartbeat_ttl(job, working_time)
        # No parent beats for an inline job while it runs, so its heartbeat
        # must outlast its timeout, as rq's SimpleWorker sets it.
        if job.timeout == -1:
            return DEFAULT_WORKER_TTL
        return int(job.timeout or DEFAULT_WORKER_TTL) + 60

    def kill_horse(self, *args, **kwargs):
        if not self.horse_pid:
            # rq would signal the worker's own process group here.
            job_id = getattr(self._inline_job, "id", None)
            logger.warning("No work horse to stop: job %s runs inline", job_id)
            return
        super().kill_horse(*args, **kwargs)


class AppSimpleWorker(AppContextMixin, SimpleWorker):
    """A worker that runs jobs in its own process: for tests and one-off runs."""
