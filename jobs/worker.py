"""rq workers that run every job inside a Flask app context.

Jobs are plain functions that use ``current_app`` and ``db.session``, and
the worker pushes the app context for each of them here. (The send threads
of ``jobs.fanout`` push their own, one per thread.) Run a worker with::

    rq worker --url "$REDIS_URL" --worker-class jobs.worker.AppWorker default

rq 3.0 calls ``perform_job(job, queue, execution)`` (rq 1.x and 2.x had
``perform_job(job, queue)``); the override keeps that signature. The app is
built from the environment (``create_app()``) once per worker process, in
the parent before it forks, and each job runs in a fresh app context so
every job gets its own database session.
"""

import logging

from rq.worker import SimpleWorker, Worker

logger = logging.getLogger(__name__)


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
        return self.flask_app

    def execute_job(self, job, queue):
        # Build the app before a fork, so each work horse inherits it.
        self.app()
        return super().execute_job(job, queue)

    def perform_job(self, job, queue, execution):
        app = self.app()
        with app.app_context():
            if self.forks:
                _forget_parent_connections()
            return super().perform_job(job, queue, execution)


def _forget_parent_connections():
    """Drop pooled connections copied from the parent by ``fork()``, unclosed.

    Using or closing them in the child would break them for the parent.
    """
    from models import db

    db.engine.dispose(close=False)


class AppWorker(AppContextMixin, Worker):
    """The production worker: forks a work horse per job."""

    forks = True


class AppSimpleWorker(AppContextMixin, SimpleWorker):
    """A worker that runs jobs in its own process: for tests and one-off runs."""
