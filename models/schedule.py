"""Scheduled slot runs and the daily progress snapshots the digest compares.

A ``SlotRun`` row is the claim on one scheduled slot, such as the 09:00
digest of 2026-12-04. Its unique key (kind, slot_date, slot) makes the claim
atomic: two schedulers, a restarted scheduler or a late tick that reach the
same slot all try to insert the same row, and only one insert succeeds.
"""

from models.base import UTCDateTime, db, utcnow

# Life of a slot run: planning (claimed, outbox rows being written) ->
# planned (every row written, sends enqueued) -> done (no row left to
# send). skipped: the slot was missed by more than the grace window.
# failed: WeChat rejected the template, so the batch was stopped.
RUN_PLANNING = "planning"
RUN_PLANNED = "planned"
RUN_DONE = "done"
RUN_SKIPPED = "skipped"
RUN_FAILED = "failed"
RUN_STATUSES = (RUN_PLANNING, RUN_PLANNED, RUN_DONE, RUN_SKIPPED, RUN_FAILED)
RUN_STATUS_LABELS = {
    RUN_PLANNING: "准备发送",
    RUN_PLANNED: "发送中",
    RUN_DONE: "已完成",
    RUN_SKIPPED: "已跳过",
    RUN_FAILED: "发送失败",
}

# Who started a run: the periodic tick, or a person (command or console).
TRIGGER_SCHEDULE = "schedule"
TRIGGER_MANUAL = "manual"

PROGRESS_FIELDS = (
    "projects",
    "submitted",
    "reviewed",
    "pending",
    "approved",
    "returned",
)


class SlotRun(db.Model):
    __tablename__ = "slot_runs"
    __table_args__ = (db.UniqueConstraint("kind", "slot_date", "slot"),)

    id = db.Column(db.Integer, primary_key=True)
    # digest, reminder, deadline_reminder, return_reminder
    kind = db.Column(db.String(32), nullable=False)
    # Asia/Shanghai calendar date and wall-clock time ("0900") of the slot.
    slot_date = db.Column(db.Date, nullable=False, index=True)
    slot = db.Column(db.String(8), nullable=False)
    due_at = db.Column(UTCDateTime, nullable=False, index=True)
    status = db.Column(db.String(16), nullable=False, default=RUN_PLANNING, index=True)
    trigger = db.Column(db.String(16), nullable=False, default=TRIGGER_SCHEDULE)
    claimed_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    # A run still in planning after this moment lost its planner (a killed
    # worker); the next tick plans it again, which the outbox keys make safe.
    lease_until = db.Column(UTCDateTime)
    planned_at = db.Column(UTCDateTime)
    finished_at = db.Column(UTCDateTime)
    recipients = db.Column(db.Integer, nullable=False, default=0)
    note = db.Column(db.String(200))

    @property
    def status_label(self):
        return RUN_STATUS_LABELS[self.status]

    @property
    def key_prefix(self):
        """Prefix of the ``Delivery.dedupe_key`` of every message of this run."""
        return f"{self.kind}:{self.slot_date.isoformat()}:{self.slot}:"


class ProgressSnapshot(db.Model):
    """One town's progress numbers as the 09:00 digest of a day sent them."""

    __tablename__ = "progress_snapshots"
    __table_args__ = (db.UniqueConstraint("snapshot_date", "town_id"),)

    id = db.Column(db.Integer, primary_key=True)
    snapshot_date = db.Column(db.Date, nullable=False, index=True)
    town_id = db.Column(db.ForeignKey("towns.id"), nullable=False, index=True)
    projects = db.Column(db.Integer, nullable=False, default=0)
    submitted = db.Column(db.Integer, nullable=False, default=0)
    reviewed = db.Column(db.Integer, nullable=False, default=0)
    pending = db.Column(db.Integer, nullable=False, default=0)
    approved = db.Column(db.Integer, nullable=False, default=0)
    returned = db.Column(db.Integer, nullable=False, default=0)
    taken_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    town = db.relationship("Town")

    def as_dict(self):
        numbers = {name: getattr(self, name) for name in PROGRESS_FIELDS}
        return {
            "date": self.snapshot_date.isoformat(),
            "town_id": self.town_id,
            **numbers,
        }
