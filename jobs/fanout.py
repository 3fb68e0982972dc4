"""Send outbox rows in chunks: bounded concurrency, a shared rate, no repeats.

Every message is a ``Delivery`` row written before anything is sent. This
module turns rows into rq jobs of ``SEND_CHUNK_SIZE`` rows each, so that
10,000 recipients are many short jobs and one failure stays in its chunk.
Inside a chunk ``SEND_CONCURRENCY`` threads send, each after booking a slot
on the Redis rate limiter shared by all workers. The concurrency bound is
per worker process, so N workers send up to N x ``SEND_CONCURRENCY``
messages at once, and the rate limit caps them together.

Three kinds of Redis keys keep a row from being sent twice:

- ``jobs:delivery-job:<id>``: the rq job that should send the row. The
  sweep re-enqueues a row only when that job is gone, failed or finished
  without sending it (a worker killed mid-chunk, a Redis outage).
- ``jobs:delivery-lease:<id>``: held while one thread sends the row. A
  second holder takes it over only when the first one's rq job is no
  longer queued or running.
- ``jobs:batch-stopped:<batch>``: set when WeChat rejected the template
  (40037, 47003); the rest of that batch is marked failed and not sent.

A worker killed after WeChat accepted a message but before the row was
marked sent leaves the row queued. The row is sent again later with the
same ``client_msg_id``, and WeChat drops that repeat (guaranteed for ten
minutes).

NOTE: on a 2-core machine this path sends at about a fifth of the rate of a
bare POST loop (``benchmarks/README.md``); the per-row transaction of
``bot.delivery.deliver`` costs most of it, not the chunking or the leases.
"""

import logging
import math
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

from flask import current_app
from redis.exceptions import RedisError
from rq import get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from bot.delivery import DeliveryStopped, TemplateRejected, deliver
from jobs.queues import get_queue, redis_connection
from jobs.ratelimit import SendRateLimiter
from models import Delivery, db, utcnow
from models.delivery import DELIVERY_FAILED, DELIVERY_QUEUED, DELIVERY_RETRY
from models.schedule import RUN_FAILED, SlotRun

logger = logging.getLogger(__name__)

JOB_KEY = "jobs:delivery-job:{}"
LEASE_KEY = "jobs:delivery-lease:{}"
STOP_KEY = "jobs:batch-stopped:{}"
SWEEP_LOCK_KEY = "jobs:sweep-lock"
MARKER_SECONDS = 2 * 24 * 3600
SWEEP_LOCK_SECONDS = 120

# A queued row younger than this is left to the job its creator enqueued.
SWEEP_MIN_AGE = timedelta(seconds=15)
SWEEP_LIMIT = 5000
CHUNK_RESULT_SECONDS = 24 * 3600
CHUNK_FAILURE_SECONDS = 7 * 24 * 3600

ALIVE_JOB_STATUSES = (
    JobStatus.QUEUED,
    JobStatus.STARTED,
    JobStatus.DEFERRED,
    JobStatus.SCHEDULED,
)
SENDABLE = (DELIVERY_QUEUED, DELIVERY_RETRY)
BATCH_STOPPED_ERROR = "模板被微信拒绝，本批次已停止发送"

# Returns "+" when the caller now holds the lease, "!" when the batch was
# stopped, otherwise the id of the current holder.
_CLAIM_SCRIPT = """
if redis.call('EXISTS', KEYS[2]) == 1 then
    return '!'
end
local holder = redis.call('GET', KEYS[1])
if (not holder) or holder == ARGV[1] or holder == ARGV[3] then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    return '+'
end
return holder
"""
_RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    redis.call('DEL', KEYS[1])
end
redis.call('DEL', KEYS[2])
return 1
"""


class SendChunkError(RuntimeError):
    """Some sends of a chunk raised; their rows stay queued for the sweep."""


def batch_of(dedupe_key):
    """Return the batch of an outbox key: the part before ``:user-``."""
    return dedupe_key.split(":user-", 1)[0]


def chunk_timeout(config, size):
    """Return the rq timeout of a chunk of ``size`` sends, in seconds.

    One send may take four HTTP timeouts (send, token refresh, token
    fetch, retry); the threads send ``SEND_CONCURRENCY`` at a time.
    """
    rounds = math.ceil(size / config["SEND_CONCURRENCY"])
    per_send = 4 * config["WECHAT_HTTP_TIMEOUT"]
    return int(size / config["SEND_RATE_PER_SECOND"] + rounds * per_send + 60)


def lease_seconds(config):
    """Seconds a send keeps its lease: longer than one send can take."""
    return 6 * config["WECHAT_HTTP_TIMEOUT"] + 30


def enqueue_sends(delivery_ids):
    """Enqueue ``send_chunk`` jobs for ``delivery_ids``; return the jobs.

    Raises ``RedisError`` when Redis is down. The rows stay queued in the
    database, and the tick's sweep enqueues them once Redis is back.
    """
    ids = list(delivery_ids)
    if not ids:
        return []
    config = current_app.config
    size = config["SEND_CHUNK_SIZE"]
    chunks = [ids[start : start + size] for start in range(0, len(ids), size)]
    job_datas = [
        get_queue().prepare_data(
            send_chunk,
            args=(chunk,),
            timeout=chunk_timeout(config, len(chunk)),
            result_ttl=CHUNK_RESULT_SECONDS,
            failure_ttl=CHUNK_FAILURE_SECONDS,
            description=f"send {len(chunk)} template messages",
        )
        for chunk in chunks
    ]
    jobs = get_queue().enqueue_many(job_datas)
    _mark_enqueued(chunks, jobs)
    logger.info("Enqueued sends rows=%d chunks=%d", len(ids), len(jobs))
    return jobs


def enqueue_sends_quietly(delivery_ids):
    """Enqueue like ``enqueue_sends``, but log a Redis failure instead of raising."""
    try:
        return enqueue_sends(delivery_ids)
    except RedisError as exc:
        logger.warning(
            "Redis unavailable, sends left for the sweep rows=%d error=%s",
            len(delivery_ids),
            exc,
        )
        return []


def _mark_enqueued(chunks, jobs):
    pipeline = redis_connection().pipeline(transaction=False)
    for chunk, job in zip(chunks, jobs):
        for delivery_id in chunk:
            pipeline.set(JOB_KEY.format(delivery_id), job.id, ex=MARKER_SECONDS)
    pipeline.execute()


def send_chunk(delivery_ids):
    """Send the rows ``delivery_ids`` that are still due; an rq job.

    Rows already sent, skipped or final are left alone, so a chunk that
    runs twice sends nothing twice. Returns the count of each outcome.
    Raises ``TemplateRejected`` after stopping the row's batch.
    ``CredentialsRejected`` (no access token can be had) stops the chunk
    and its unsent rows stay queued until the settings are fixed. Raises
    ``SendChunkError`` when other sends raised.
    """
    rows = _sendable_rows(delivery_ids)
    if not rows:
        return {}
    sender = ChunkSender(current_app._get_current_object(), _holder_id())
    workers = min(current_app.config["SEND_CONCURRENCY"], len(rows))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = Counter(pool.map(sender.send, rows))

    logger.info("Send chunk finished job=%s outcomes=%s", sender.holder, dict(outcomes))
    if isinstance(sender.rejected, TemplateRejected):
        stop_batch(sender.rejected_batch, sender.rejected)
    if sender.rejected is not None:
        raise sender.rejected
    if sender.errors:
        raise SendChunkError(
            f"{len(sender.errors)} of {len(rows)} sends raised, rows "
            f"{sorted(sender.errors)[:20]} stay queued for the sweep"
        )
    return dict(outcomes)


def _sendable_rows(delivery_ids):
    rows = (
        db.session.query(Delivery.id, Delivery.dedupe_key)
        .filter(Delivery.id.in_(list(delivery_ids)), Delivery.status.in_(SENDABLE))
        .order_by(Delivery.id)
        .all()
    )
    # End the read transaction so the sending threads do not wait on it.
    db.session.commit()
    return [tuple(row) for row in rows]


def _holder_id():
    job = get_current_job()
    return job.id if job is not None else f"inline-{uuid.uuid4().hex}"


class ChunkSender:
    """Sender of one chunk's rows, from threads that each push their own app context."""

    def __init__(self, app, holder):
        self.app = app
        self.holder = holder
        self.redis = app.extensions["redis"]
        self.limiter = SendRateLimiter(self.redis, app.config["SEND_RATE_PER_SECOND"])
        self.lease_ms = lease_seconds(app.config) * 1000
        self._claim = self.redis.register_script(_CLAIM_SCRIPT)
        self._release = self.redis.register_script(_RELEASE_SCRIPT)
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.errors = []
        self.rejected = None
        self.rejected_batch = None

    def send(self, row):
        """Send one row; return its outcome name for the chunk summary.

        Any error other than a stopped batch is logged and counted, and the
        row stays queued for the sweep, so one failure never ends the chunk.
        """
        delivery_id, dedupe_key = row
        if self.stop.is_set():
            return "stopped"
        try:
            claim = self.claim(delivery_id, batch_of(dedupe_key))
        except RedisError:
            return self._error(delivery_id)
        if claim != "+":
            return "stopped" if claim == "!" else "leased"
        try:
            self.limiter.wait()
            with self.app.app_context():
                return deliver(delivery_id)
        except DeliveryStopped as exc:
            self._reject(exc, dedupe_key)
            return "rejected"
        except Exception:
            return self._error(delivery_id)
        finally:
            self._release_quietly(delivery_id)

    def _error(self, delivery_id):
        logger.exception("Send raised delivery=%s job=%s", delivery_id, self.holder)
        with self.lock:
            self.errors.append(delivery_id)
        return "error"

    def _release_quietly(self, delivery_id):
        # A lease left behind expires by itself, so a failed release only
        # delays a later send of the same row.
        try:
            self._release(
                keys=[LEASE_KEY.format(delivery_id), JOB_KEY.format(delivery_id)],
                args=[self.holder],
            )
        except RedisError as exc:
            logger.warning("Lease not released delivery=%s error=%s", delivery_id, exc)

    def claim(self, delivery_id, batch):
        """Take the row's lease; return "+", "!" (batch stopped) or the holder."""
        keys = [LEASE_KEY.format(delivery_id), STOP_KEY.format(batch)]
        result = _text(self._claim(keys=keys, args=[self.holder, self.lease_ms, ""]))
        if result in ("+", "!") or _job_alive(self.redis, result):
            return result
        # The holder's job died (a killed worker): take the lease over from it.
        logger.info("Taking over lease delivery=%s from job=%s", delivery_id, result)
        return _text(self._claim(keys=keys, args=[self.holder, self.lease_ms, result]))

    def _reject(self, exc, dedupe_key):
        with self.lock:
            if self.rejected is None:
                self.rejected = exc
                self.rejected_batch = batch_of(dedupe_key)
        self.stop.set()


def _text(value):
    return value.decode() if isinstance(value, bytes) else value


def _job_alive(redis, job_id):
    if job_id.startswith("inline-"):
        return True
    try:
        status = Job.fetch(job_id, connection=redis).get_status()
    except NoSuchJobError:
        return False
    return status in ALIVE_JOB_STATUSES


def stop_batch(batch, error):
    """Stop every unsent row of ``batch`` after WeChat rejected its template.

    The stop flag makes running chunks skip the batch's rows; the rows are
    marked failed so that the sweep never sends them.
    """
    redis_connection().set(STOP_KEY.format(batch), "1", ex=MARKER_SECONDS)
    now = utcnow()
    stopped = Delivery.query.filter(
        Delivery.dedupe_key.startswith(batch + ":", autoescape=True),
        Delivery.status.in_(SENDABLE),
    ).update(
        {
            "status": DELIVERY_FAILED,
            "last_error": BATCH_STOPPED_ERROR,
            "updated_at": now,
        },
        synchronize_session=False,
    )
    run = _slot_run_of(batch)
    if run is not None:
        run.status = RUN_FAILED
        run.finished_at = now
        run.note = f"{BATCH_STOPPED_ERROR}：{error}"[:200]
    db.session.commit()
    logger.error(
        "Template rejected, batch stopped batch=%s rows_stopped=%d error=%s",
        batch,
        stopped,
        error,
    )


def _slot_run_of(batch):
    """Return the slot run of a batch such as ``digest:2026-12-04:0900``, or None."""
    parts = batch.split(":")
    if len(parts) != 3:
        return None
    kind, day, slot = parts
    try:
        slot_date = date.fromisoformat(day)
    except ValueError:
        return None
    return SlotRun.query.filter_by(
        kind=kind, slot_date=slot_date, slot=slot
    ).one_or_none()


def sweep(now):
    """Enqueue rows that no live job will send: lost enqueues and due retries.

    Picks queued rows older than ``SWEEP_MIN_AGE`` and retry rows whose
    ``next_attempt_at`` has passed, skips those whose rq job is still
    queued or running, and enqueues the rest. One sweep runs at a time
    (a Redis lock), so two schedulers never enqueue a row twice. Returns
    the number of rows enqueued.
    """
    redis = redis_connection()
    token = uuid.uuid4().hex
    if not redis.set(SWEEP_LOCK_KEY, token, nx=True, ex=SWEEP_LOCK_SECONDS):
        logger.info("Sweep skipped: another sweep is running")
        return 0
    try:
        candidates = _sweep_candidates(now)
        orphans = _without_live_job(redis, candidates)
        if orphans:
            enqueue_sends(orphans)
            logger.info(
                "Sweep enqueued rows=%d of candidates=%d", len(orphans), len(candidates)
            )
        return len(orphans)
    finally:
        if _text(redis.get(SWEEP_LOCK_KEY)) == token:
            redis.delete(SWEEP_LOCK_KEY)


def _sweep_candidates(now):
    queued = db.and_(
        Delivery.status == DELIVERY_QUEUED, Delivery.created_at <= now - SWEEP_MIN_AGE
    )
    retry_due = db.and_(
        Delivery.status == DELIVERY_RETRY,
        db.or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
    )
    ids = (
        db.session.query(Delivery.id)
        .filter(db.or_(queued, retry_due))
        .order_by(Delivery.id)
        .limit(SWEEP_LIMIT)
        .all()
    )
    db.session.commit()
    return [row.id for row in ids]


def _without_live_job(redis, delivery_ids):
    if not delivery_ids:
        return []
    markers = redis.mget([JOB_KEY.format(i) for i in delivery_ids])
    job_ids = {_text(m) for m in markers if m is not None}
    alive = {job_id for job_id in job_ids if _job_alive(redis, job_id)}
    orphans = [
        delivery_id
        for delivery_id, marker in zip(delivery_ids, markers)
        if marker is None or _text(marker) not in alive
    ]
    # A row sent between the first query and the marker lookup has also lost
    # its marker, so the statuses are read again before anything is enqueued.
    return _still_sendable(orphans)


def _still_sendable(delivery_ids):
    if not delivery_ids:
        return []
    rows = db.session.query(Delivery.id).filter(
        Delivery.id.in_(delivery_ids), Delivery.status.in_(SENDABLE)
    )
    found = {row.id for row in rows}
    db.session.commit()
    return [delivery_id for delivery_id in delivery_ids if delivery_id in found]
