"""Send outbox rows in chunks: bounded concurrency, a shared rate, no repeats.

Every message is a ``Delivery`` row written before anything is sent. This
module turns rows into rq jobs of ``SEND_CHUNK_SIZE`` rows each, so that
10,000 recipients are many short jobs and one failure stays in its chunk.
Inside a chunk ``SEND_CONCURRENCY`` threads send, each after booking a slot
on the Redis rate limiter shared by all workers. The concurrency bound is
per worker process, so N workers send up to N x ``SEND_CONCURRENCY``
messages at once, and the rate limit caps them together.

The threads only send, and only the job's own thread uses the database. It
reads the chunk's rows in one query before the sends and writes their
results in groups: one transaction per ``RECORD_ROWS`` results, or sooner
when the oldest unwritten one is ``RECORD_SECONDS`` old.
Four kinds of Redis keys keep a row from being sent twice:

- ``jobs:delivery-job:<id>``: the rq job that should send the row. The
  sweep re-enqueues a row only when that job is gone, failed or finished
  without sending it (a worker killed mid-chunk, a Redis outage).
- ``jobs:delivery-lease:<id>``: held by the chunk that sends the row, from
  before the row is read until its result is committed. Another chunk takes
  it over only when the holder's rq job is no longer queued or running.
- ``jobs:delivery-sent:<id>``: set as soon as WeChat accepted the row's
  message, with its msgid, and deleted once the row is recorded as sent.
  A chunk that takes over a row with this key records it as sent without
  sending it again.
- ``jobs:batch-stopped:<batch>``: set when WeChat rejected the template
  (40037, 47003); the rest of that batch is marked failed and not sent.

A worker killed after WeChat accepted a message but before it set the sent
key leaves the row queued. The row is sent again later with the same
``client_msg_id``, and WeChat drops that repeat (guaranteed for ten
minutes). At most one message per thread can be in that state. The same
``client_msg_id`` is the only guard left if Redis loses these keys (a
restart without persistence) while a chunk runs.
"""

import logging
import math
import queue
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

from flask import current_app
from redis.exceptions import RedisError
from rq import Queue, get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from bot.delivery import (
    SENDABLE,
    TemplateRejected,
    load_outgoing,
    record_outcomes,
    send_outgoing,
    stopped_error,
)
from bot.sender import SENT, SendOutcome
from bot.web import wechat_services
from jobs.queues import get_queue, redis_connection
from jobs.ratelimit import SendRateLimiter
from models import Delivery, db, utcnow
from models.delivery import DELIVERY_FAILED, DELIVERY_QUEUED, DELIVERY_RETRY
from models.schedule import RUN_FAILED, SlotRun

logger = logging.getLogger(__name__)

JOB_KEY = "jobs:delivery-job:{}"
LEASE_KEY = "jobs:delivery-lease:{}"
SENT_KEY = "jobs:delivery-sent:{}"
STOP_KEY = "jobs:batch-stopped:{}"
SWEEP_LOCK_KEY = "jobs:sweep-lock"
MARKER_SECONDS = 2 * 24 * 3600
SWEEP_LOCK_SECONDS = 120

# A queued row younger than this is left to the job its creator enqueued.
SWEEP_MIN_AGE = timedelta(seconds=15)
SWEEP_LIMIT = 5000
CHUNK_RESULT_SECONDS = 24 * 3600
CHUNK_FAILURE_SECONDS = 7 * 24 * 3600

RECORD_ROWS = 50
RECORD_SECONDS = 0.5

# The chunk reads the access token from Redis at most this often. A token
# that WeChat rejects is refreshed at once (``bot.sender``).
TOKEN_READ_SECONDS = 30

ALIVE_JOB_STATUSES = (
    JobStatus.QUEUED,
    JobStatus.STARTED,
    JobStatus.DEFERRED,
    JobStatus.SCHEDULED,
)
BATCH_STOPPED_ERROR = "模板被微信拒绝，本批次已停止发送"

# KEYS: the lease key and the batch's stop key of each row, in pairs.
# ARGV[1] is the caller's id and ARGV[2] the lease in milliseconds.
# ARGV[2 + i] is a holder that row i may be taken from ("" for none).
# Returns, per row, "+" when the caller now has the lease, "!" when the
# batch was stopped, otherwise the id of the current holder.
_CLAIM_SCRIPT = """
local results = {}
for i = 1, #KEYS / 2 do
    local lease = KEYS[2 * i - 1]
    if redis.call('EXISTS', KEYS[2 * i]) == 1 then
        results[i] = '!'
    else
        local holder = redis.call('GET', lease)
        if (not holder) or holder == ARGV[1] or holder == ARGV[2 + i] then
            redis.call('SET', lease, ARGV[1], 'PX', ARGV[2])
            results[i] = '+'
        else
            results[i] = holder
        end
    end
end
return results
"""
# KEYS: the lease key and the job key of each row, in pairs. ARGV[1] is the
# caller's id. Deletes the job keys and each lease that belongs to the caller.
_RELEASE_SCRIPT = """
for i = 1, #KEYS, 2 do
    if redis.call('GET', KEYS[i]) == ARGV[1] then
        redis.call('DEL', KEYS[i])
    end
    redis.call('DEL', KEYS[i + 1])
end
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


def lease_seconds(config, size):
    """Seconds a chunk of ``size`` rows keeps its leases: past its rq timeout."""
    return chunk_timeout(config, size) + 2 * config["WECHAT_HTTP_TIMEOUT"] + 30


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
    sender = ChunkSender(current_app._get_current_object(), _holder_id())
    outcomes = sender.run(delivery_ids)
    if not outcomes:
        return {}

    logger.info("Send chunk finished job=%s outcomes=%s", sender.holder, outcomes)
    if isinstance(sender.rejected, TemplateRejected):
        stop_batch(sender.rejected_batch, sender.rejected)
    if sender.rejected is not None:
        raise sender.rejected
    if sender.errors:
        raise SendChunkError(
            f"{len(sender.errors)} of {sum(outcomes.values())} sends raised, rows "
            f"{sorted(sender.errors)[:20]} stay queued for the sweep"
        )
    return outcomes


def _sendable_rows(delivery_ids):
    rows = (
        db.session.query(Delivery.id, Delivery.dedupe_key)
        .filter(Delivery.id.in_(list(delivery_ids)), Delivery.status.in_(SENDABLE))
        .order_by(Delivery.id)
        .all()
    )
    # End the read transaction so that no lock is held while leases are taken.
    db.session.commit()
    return [tuple(row) for row in rows]


def _holder_id():
    job = get_current_job()
    return job.id if job is not None else f"inline-{uuid.uuid4().hex}"


class ChunkToken:
    """The shared access token, read from Redis once per ``TOKEN_READ_SECONDS``.

    Has the ``get`` and ``force_refresh`` of ``SharedAccessToken``, so the
    send policy uses it in its place. After a forced refresh every thread of
    the chunk uses the new token.
    """

    def __init__(self, store, clock=time.monotonic):
        self.store = store
        self.clock = clock
        self.lock = threading.Lock()
        self.token = None
        self.read_at = 0.0

    def get(self):
        with self.lock:
            if self.token is None or self.clock() - self.read_at > TOKEN_READ_SECONDS:
                self.token = self.store.get()
                self.read_at = self.clock()
            return self.token

    def force_refresh(self, stale_token):
        token = self.store.force_refresh(stale_token)
        with self.lock:
            self.token = token
            self.read_at = self.clock()
        return token


class ChunkSender:
    """Sender of one chunk: claims its rows, sends from threads, records in groups.

    Only the thread that calls ``run`` uses the database. The send threads
    use Redis and HTTP.
    """

    def __init__(self, app, holder):
        self.app = app
        self.holder = holder
        self.redis = app.extensions["redis"]
        self.limiter = SendRateLimiter(self.redis, app.config["SEND_RATE_PER_SECOND"])
        self._claim = self.redis.register_script(_CLAIM_SCRIPT)
        self._release = self.redis.register_script(_RELEASE_SCRIPT)
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.batches = {}
        self.stopped_batches = set()
        self.outcomes = Counter()
        self.errors = []
        self.rejected = None
        self.rejected_batch = None

    def run(self, delivery_ids):
        """Send the due rows of ``delivery_ids`` and return the count of each outcome."""
        rows = _sendable_rows(delivery_ids)
        if not rows:
            return {}
        self.batches = {delivery_id: batch_of(key) for delivery_id, key in rows}
        lease_ms = lease_seconds(self.app.config, len(rows)) * 1000
        claims = self.claim_many(self.batches.items(), lease_ms)
        claimed = [row_id for row_id, result in claims.items() if result == "+"]
        self.outcomes["stopped"] += sum(r == "!" for r in claims.values())
        self.outcomes["leased"] += sum(r not in ("+", "!") for r in claims.values())
        leases_held = set(claimed)
        try:
            due, skipped = load_outgoing(claimed, utcnow())
            self.outcomes["skipped"] += skipped
            self.outcomes["not_due"] += len(claimed) - len(due) - skipped
            self._send_and_record(due, leases_held)
        finally:
            # Rows not recorded (an error, a stop) keep any sent key.
            self._release_quietly(leases_held, recorded=())
        return {name: count for name, count in self.outcomes.items() if count}

    def claim(self, delivery_id, batch):
        """Take the row's lease and return "+", "!" (batch stopped) or the holder."""
        lease_ms = lease_seconds(self.app.config, 1) * 1000
        return self.claim_many([(delivery_id, batch)], lease_ms)[delivery_id]

    def claim_many(self, rows, lease_ms):
        """Take the leases of ``rows``, (id, batch) pairs, and return ``{id: result}``.

        A lease whose holder's rq job is gone or finished is taken over.
        """
        rows = list(rows)
        results = self._claim_rows(rows, lease_ms, {})
        holders = {r for r in results.values() if r not in ("+", "!")}
        dead = {holder for holder in holders if not _job_alive(self.redis, holder)}
        orphans = [(row_id, batch) for row_id, batch in rows if results[row_id] in dead]
        if orphans:
            logger.info(
                "Taking over leases rows=%s from jobs=%s",
                [row_id for row_id, _ in orphans],
                sorted(dead),
            )
            results.update(self._claim_rows(orphans, lease_ms, results))
        return results

    def _claim_rows(self, rows, lease_ms, replaceable):
        keys, args = [], [self.holder, lease_ms]
        for row_id, batch in rows:
            keys += [LEASE_KEY.format(row_id), STOP_KEY.format(batch)]
            args.append(replaceable.get(row_id, ""))
        answers = self._claim(keys=keys, args=args)
        return {row_id: _text(a) for (row_id, _), a in zip(rows, answers)}

    def _send_and_record(self, due, leases_held):
        found = self._already_sent(due)
        pending = [
            (outgoing, found[outgoing.id]) for outgoing in due if outgoing.id in found
        ]
        to_send = [outgoing for outgoing in due if outgoing.id not in found]
        if not to_send:
            self._record(pending, leases_held)
            return

        services = wechat_services()
        token = ChunkToken(services.token_store)
        work = queue.SimpleQueue()
        for outgoing in to_send:
            work.put(outgoing)
        results = queue.Queue()
        workers = min(self.app.config["SEND_CONCURRENCY"], len(to_send))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for _ in range(workers):
                pool.submit(self._send_loop, services, token, work, results)
            try:
                self._record_results(len(to_send), results, pending, leases_held)
            except BaseException:
                # Keep the threads from sending rows whose results cannot be
                # recorded. The sent keys cover the rows already sent.
                self.stop.set()
                raise

    def _already_sent(self, due):
        """Return ``{id: outcome}`` of rows WeChat accepted before a takeover."""
        if not due:
            return {}
        markers = self.redis.mget([SENT_KEY.format(o.id) for o in due])
        found = {}
        for outgoing, marker in zip(due, markers):
            if marker is not None:
                msgid = _text(marker) or None
                found[outgoing.id] = SendOutcome(SENT, msgid=msgid)
        if found:
            logger.info("Recording rows sent before a takeover rows=%s", sorted(found))
        return found

    def _record_results(self, expected, results, pending, leases_held):
        """Take ``expected`` results from the threads and record them in groups."""
        oldest = time.monotonic()
        for _ in range(expected):
            outgoing, outcome = self._next_result(results, pending, leases_held, oldest)
            if outcome is None:
                continue
            if not pending:
                oldest = time.monotonic()
            pending.append((outgoing, outcome))
            if len(pending) >= RECORD_ROWS:
                self._record(pending, leases_held)
        self._record(pending, leases_held)

    def _next_result(self, results, pending, leases_held, oldest):
        while True:
            timeout = None
            if pending:
                timeout = max(oldest + RECORD_SECONDS - time.monotonic(), 0)
            try:
                return results.get(timeout=timeout)
            except queue.Empty:
                self._record(pending, leases_held)

    def _record(self, pending, leases_held):
        """Write ``pending`` results in one transaction, then release their leases."""
        if not pending:
            return
        try:
            counts = record_outcomes(pending, utcnow())
        except Exception:
            db.session.rollback()
            raise
        self.outcomes.update(counts)
        recorded = [outgoing.id for outgoing, _ in pending]
        pending.clear()
        leases_held.difference_update(recorded)
        self._release_quietly(recorded, recorded=recorded)
        self._note_stopped_batches()

    def _send_loop(self, services, token, work, results):
        """Send rows taken from ``work`` until none is left (one pool thread).

        Each row's outcome goes to ``results``. The outcome is None when the
        row was not sent: its batch stopped, or an error left it queued for
        the sweep. The sent key of one row and the rate booking of the next
        share a Redis round trip, and the key is stored before the outcome
        is handed over.
        """
        outgoing = _take(work)
        booking = self._book(None, outgoing)
        while outgoing is not None:
            outcome = self._send_booked(services, token, outgoing, booking)
            following = _take(work)
            booking = self._book((outgoing, outcome), following)
            results.put((outgoing, outcome))
            outgoing = following

    def _book(self, done, following):
        """Store the sent key of ``done`` and book a rate slot for ``following``.

        ``done`` is an ``(Outgoing, outcome)`` pair or None. Both happen in
        one Redis call. Returns the seconds ``following`` must wait, or the
        exception that kept it from being booked (``following`` then counts
        as an error and stays queued, and the thread goes on).
        """
        marker = None
        if done is not None and done[1] is not None and done[1].status == SENT:
            msgid = done[1].msgid
            value = "" if msgid is None else str(msgid)
            marker = (SENT_KEY.format(done[0].id), value, MARKER_SECONDS)
        try:
            if following is not None and not self.stop.is_set():
                return self.limiter.reserve(also_set=marker)
            if marker is not None:
                self.redis.set(marker[0], marker[1], ex=marker[2])
        except RedisError as exc:
            # A row without its sent key is still recorded as sent in the
            # next group. Only a worker killed before that sends it again.
            logger.warning("Redis call failed job=%s error=%s", self.holder, exc)
            return exc
        except Exception as exc:
            logger.exception("Sent key or rate booking failed job=%s", self.holder)
            return exc
        return 0.0

    def _send_booked(self, services, token, outgoing, booking):
        """Send ``outgoing`` once its booked rate slot comes; return the outcome."""
        if self.stop.is_set() or self.batches[outgoing.id] in self.stopped_batches:
            self._count("stopped")
            return None
        try:
            if isinstance(booking, Exception):
                raise booking
            if booking > 0:
                self.limiter.sleep(booking)
            outcome = send_outgoing(services, outgoing, token)
        except Exception:
            logger.exception("Send failed delivery=%s job=%s", outgoing.id, self.holder)
            with self.lock:
                self.errors.append(outgoing.id)
            self._count("error")
            return None
        if outcome.stops_batch:
            self._reject(stopped_error(outgoing.id, outcome), outgoing.id)
        return outcome

    def _count(self, name):
        with self.lock:
            self.outcomes[name] += 1

    def _note_stopped_batches(self):
        batches = sorted(set(self.batches.values()) - self.stopped_batches)
        try:
            flags = self.redis.mget([STOP_KEY.format(batch) for batch in batches])
        except RedisError as exc:
            logger.warning(
                "Reading stop flags failed job=%s error=%s", self.holder, exc
            )
            return
        stopped = {batch for batch, flag in zip(batches, flags) if flag is not None}
        if stopped:
            with self.lock:
                self.stopped_batches |= stopped

    def _release_quietly(self, row_ids, recorded):
        # A lease left behind expires by itself, so a failed release only
        # delays a later send of the same row.
        if not row_ids:
            return
        keys = []
        for row_id in row_ids:
            keys += [LEASE_KEY.format(row_id), JOB_KEY.format(row_id)]
        try:
            pipeline = self.redis.pipeline(transaction=False)
            self._release(keys=keys, args=[self.holder], client=pipeline)
            if recorded:
                pipeline.delete(*(SENT_KEY.format(row_id) for row_id in recorded))
            pipeline.execute()
        except RedisError as exc:
            logger.warning(
                "Releasing leases failed rows=%d error=%s", len(keys) // 2, exc
            )

    def _reject(self, exc, delivery_id):
        with self.lock:
            if self.rejected is None:
                self.rejected = exc
                self.rejected_batch = self.batches[delivery_id]
        self.stop.set()


def _take(work):
    try:
        return work.get_nowait()
    except queue.Empty:
        return None


def _text(value):
    return value.decode() if isinstance(value, bytes) else value


def _job_alive(redis, job_id):
    """Return True when the rq job ``job_id`` will still run or is running.

    A worker that dies after taking a job off its queue and before starting
    it leaves the job "queued" but in no queue, and rq fails it only in its
    10-minute maintenance. So a queued job counts as alive only while it is
    in its queue. If the worker was alive after all, the rows are sent by
    one chunk and the other finds their leases held or the rows sent.
    """
    if job_id.startswith("inline-"):
        return True
    try:
        job = Job.fetch(job_id, connection=redis)
    except NoSuchJobError:
        return False
    status = job.get_status()
    if status == JobStatus.QUEUED:
        origin = Queue(job.origin, connection=redis)
        return origin.get_job_position(job.id) is not None
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
