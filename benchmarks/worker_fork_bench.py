"""CPU a production worker spends per job when it forks, against running it itself.

One ``rq worker --worker-class jobs.worker.AppWorker`` runs two batches of
``JOBS`` jobs per round, jobs that do no work of their own. ``os.getpid``
is forked into a work horse, like every job except send chunks.
``jobs.fanout.send_chunk`` with no rows runs in the worker process, the way
send chunks run. The CPU of the worker and its horses (psutil, children
included) is read before and after each batch, so the difference per job
is what a fork costs. SQLite by default; ``--postgres`` uses the private cluster of
``scripts/start_postgres.sh``, where each horse also opens a connection.

Usage: .venv/bin/python benchmarks/worker_fork_bench.py [--rounds 3] [--postgres]
"""

import argparse
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

import psutil
from common import (
    alternate_rounds,
    make_app,
    median_ratio,
    postgres_url,
    redis_server,
    report,
    reset_database,
    start_rq_worker,
    stop_process,
)

JOBS = 50
FORKED = "os.getpid"
INLINE = "jobs.fanout.send_chunk"


def _cpu_seconds(process):
    times = process.cpu_times()
    return times.user + times.system + times.children_user + times.children_system


class Worker:
    """One AppWorker subprocess and the queue it serves."""

    def __init__(self, database_url, redis_url):
        import redis
        from rq import Queue
        from rq.registry import FinishedJobRegistry

        connection = redis.Redis.from_url(redis_url)
        self.queue = Queue("default", connection=connection)
        self.finished = FinishedJobRegistry("default", connection=connection)
        self.env = dict(
            os.environ,
            APP_ENV="development",
            LOG_LEVEL="WARNING",
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            WECHAT_API_BASE_URL="http://127.0.0.1:9",
        )
        self.redis_url = redis_url
        self.process = None

    def __enter__(self):
        self.log = tempfile.NamedTemporaryFile(prefix="bench-fork-", delete=False)
        self.process = start_rq_worker(self.redis_url, self.env, self.log)
        self.psutil = psutil.Process(self.process.pid)
        # Warm up: the app is built and both kinds of job have run once.
        self.run(FORKED, 1)
        self.run(INLINE, 1)
        return self

    def __exit__(self, *exc_info):
        stop_process(self.process)
        self.log.close()

    def run(self, function, count, timeout=120):
        """Run ``count`` jobs of ``function``; return CPU milliseconds per job."""
        arguments = ([],) if function == INLINE else ()
        target = self.finished.count + count
        before = _cpu_seconds(self.psutil)
        for _ in range(count):
            self.queue.enqueue(function, *arguments)
        deadline = time.monotonic() + timeout
        while self.finished.count < target:
            if time.monotonic() > deadline:
                raise RuntimeError(f"jobs did not finish; see {self.log.name}")
            time.sleep(0.01)
        # A horse's CPU is added to children_* once the worker reaps it.
        time.sleep(0.2)
        return (_cpu_seconds(self.psutil) - before) * 1000 / count


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    parser.add_argument(
        "--postgres", action="store_true", help="use the private PostgreSQL cluster"
    )
    options = parser.parse_args()
    if options.postgres:
        url = postgres_url("wxapp_bench_fork")
    else:
        url = f"sqlite:///{Path(tempfile.gettempdir()) / 'wxapp-bench-fork.sqlite3'}"

    with redis_server() as redis_url:
        reset_database(make_app(url, redis_url))
        with Worker(url, redis_url) as worker:
            forked, inline = alternate_rounds(
                options.rounds,
                lambda: worker.run(FORKED, JOBS),
                lambda: worker.run(INLINE, JOBS),
            )

    lines = [
        f"database: {url.split('://')[0]}; {JOBS} jobs per batch",
        "forked job, worker + horse CPU ms per job: "
        + ", ".join(f"{value:.1f}" for value in forked),
        "inline send chunk, worker CPU ms per job: "
        + ", ".join(f"{value:.1f}" for value in inline),
        f"median ratio forked/inline: {median_ratio(forked, inline):.1f}",
    ]
    report("CPU per rq job: forked work horse vs run in the worker", lines)


if __name__ == "__main__":
    main()
