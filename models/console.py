"""Rows the admin console owns: duplicate decisions, export jobs and notices."""

from models.base import UTCDateTime, db, utcnow

DECISION_DISTINCT = "distinct"
DECISION_DUPLICATE = "duplicate"

EXPORT_QUEUED = "queued"
EXPORT_RUNNING = "running"
EXPORT_DONE = "done"
EXPORT_FAILED = "failed"
EXPORT_STATUS_LABELS = {
    EXPORT_QUEUED: "排队中",
    EXPORT_RUNNING: "导出中",
    EXPORT_DONE: "已完成",
    EXPORT_FAILED: "导出失败",
}
EXPORT_FORMATS = ("xlsx", "csv")


class DuplicateDecision(db.Model):
    """A reviewer's decision on one candidate pair of likely duplicate projects.

    The pair is stored with the lower project id first, so one pair has one
    row whichever way round it was shown. ``duplicate_id`` is the project
    marked as the duplicate, whose ``Project.duplicate_of_id`` points at the
    other one. It is NULL when the reviewer decided the two are distinct.
    """

    __tablename__ = "duplicate_decisions"
    __table_args__ = (db.UniqueConstraint("first_id", "second_id"),)

    id = db.Column(db.Integer, primary_key=True)
    first_id = db.Column(db.ForeignKey("projects.id"), nullable=False, index=True)
    second_id = db.Column(db.ForeignKey("projects.id"), nullable=False, index=True)
    decision = db.Column(db.String(16), nullable=False)
    duplicate_id = db.Column(db.Integer)
    decided_by_id = db.Column(db.ForeignKey("users.id"), nullable=False)
    decided_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    first = db.relationship("Project", foreign_keys=[first_id])
    second = db.relationship("Project", foreign_keys=[second_id])
    decided_by = db.relationship("User")


class ExportJob(db.Model):
    """One warehouse export: its scope, format, progress and result file.

    ``town_id`` NULL means the whole district. ``categories`` lists the
    category keys exported, in schema order. ``done`` counts the approved
    entries written so far out of ``total``, for the progress bar.
    """

    __tablename__ = "export_jobs"

    id = db.Column(db.Integer, primary_key=True)
    requested_by_id = db.Column(db.ForeignKey("users.id"), nullable=False, index=True)
    town_id = db.Column(db.ForeignKey("towns.id"))
    file_format = db.Column(db.String(8), nullable=False)
    categories = db.Column(db.JSON, nullable=False)
    full_id_numbers = db.Column(db.Boolean, nullable=False, default=False)
    status = db.Column(db.String(16), nullable=False, default=EXPORT_QUEUED)
    total = db.Column(db.Integer, nullable=False, default=0)
    done = db.Column(db.Integer, nullable=False, default=0)
    rq_job_id = db.Column(db.String(64))
    file_name = db.Column(db.String(120))
    file_size = db.Column(db.Integer)
    error = db.Column(db.String(200))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    started_at = db.Column(UTCDateTime)
    finished_at = db.Column(UTCDateTime)

    requested_by = db.relationship("User")
    town = db.relationship("Town")

    @property
    def status_label(self):
        return EXPORT_STATUS_LABELS[self.status]

    @property
    def percent(self):
        if self.status == EXPORT_DONE:
            return 100
        if not self.total:
            return 0
        return min(99, self.done * 100 // self.total)


class Notice(db.Model):
    """A short work notice (通知) sent as a template message to a town's staff.

    ``town_id`` NULL means every town. Each recipient gets a ``Delivery``
    row with the dedupe key ``notice:<id>:user-<user id>``.
    """

    __tablename__ = "notices"

    id = db.Column(db.Integer, primary_key=True)
    author_id = db.Column(db.ForeignKey("users.id"), nullable=False, index=True)
    town_id = db.Column(db.ForeignKey("towns.id"))
    publisher = db.Column(db.String(20), nullable=False)
    content = db.Column(db.String(20), nullable=False)
    recipients = db.Column(db.Integer, nullable=False, default=0)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow, index=True)

    author = db.relationship("User")
    town = db.relationship("Town")
