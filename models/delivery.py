"""Template messages to send and their delivery log, in one table.

A row is written before anything is sent (the outbox), under a unique
``dedupe_key`` such as ``digest:2026-12-04:0900:user-17``, so that a
restarted scheduler, a second scheduler or a retried job can never create a
second message for the same (kind, date, slot, recipient). The sender then
updates the same row: attempts, WeChat's errcode, msgid and final status.
"""

from models.base import UTCDateTime, db, utcnow

# Life of a row: queued -> sent, or -> retry (later attempt) -> sent/failed;
# unreachable (43004/40003) and failed (template errors, retries exhausted)
# are final. skipped: the recipient was known unreachable before sending.
DELIVERY_QUEUED = "queued"
DELIVERY_RETRY = "retry"
DELIVERY_SENT = "sent"
DELIVERY_FAILED = "failed"
DELIVERY_UNREACHABLE = "unreachable"
DELIVERY_SKIPPED = "skipped"
DELIVERY_STATUSES = (
    DELIVERY_QUEUED,
    DELIVERY_RETRY,
    DELIVERY_SENT,
    DELIVERY_FAILED,
    DELIVERY_UNREACHABLE,
    DELIVERY_SKIPPED,
)
DELIVERY_STATUS_LABELS = {
    DELIVERY_QUEUED: "待发送",
    DELIVERY_RETRY: "等待重试",
    DELIVERY_SENT: "已发送",
    DELIVERY_FAILED: "发送失败",
    DELIVERY_UNREACHABLE: "用户不可达",
    DELIVERY_SKIPPED: "已跳过",
}


class Delivery(db.Model):
    __tablename__ = "deliveries"

    id = db.Column(db.Integer, primary_key=True)
    dedupe_key = db.Column(db.String(160), nullable=False, unique=True)
    # digest, reminder, return_notice, staff_reminder, notice
    kind = db.Column(db.String(32), nullable=False, index=True)
    user_id = db.Column(db.ForeignKey("users.id"), index=True)
    openid = db.Column(db.String(64))
    template_kind = db.Column(db.String(32), nullable=False)
    template_id = db.Column(db.String(64))
    payload = db.Column(db.JSON, nullable=False)
    pagepath = db.Column(db.String(200))
    client_msg_id = db.Column(db.String(64), nullable=False, unique=True)
    status = db.Column(
        db.String(16), nullable=False, default=DELIVERY_QUEUED, index=True
    )
    attempts = db.Column(db.Integer, nullable=False, default=0)
    last_errcode = db.Column(db.Integer, index=True)
    last_error = db.Column(db.String(200))
    wechat_msgid = db.Column(db.String(32), index=True)
    # TEMPLATESENDJOBFINISH Status as WeChat sent it, e.g. "success" or
    # "failed:user block".
    final_status = db.Column(db.String(64))
    next_attempt_at = db.Column(UTCDateTime, index=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    updated_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    sent_at = db.Column(UTCDateTime)

    user = db.relationship("User")

    @property
    def status_label(self):
        return DELIVERY_STATUS_LABELS[self.status]
