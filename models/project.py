"""Projects, their category entries, revisions and reviews."""

from models.base import UTCDateTime, db, utcnow

STATE_EMPTY = "empty"
STATE_DRAFT = "draft"
STATE_SUBMITTED = "submitted"
STATE_APPROVED = "approved"
STATE_RETURNED = "returned"
ENTRY_STATES = (
    STATE_EMPTY,
    STATE_DRAFT,
    STATE_SUBMITTED,
    STATE_APPROVED,
    STATE_RETURNED,
)
STATE_LABELS = {
    STATE_EMPTY: "未填写",
    STATE_DRAFT: "草稿",
    STATE_SUBMITTED: "待复核",
    STATE_APPROVED: "已通过",
    STATE_RETURNED: "已退回",
}

STATUS_FILLING = "filling"
STATUS_PENDING = "pending"
STATUS_RETURNED = "returned"
STATUS_APPROVED = "approved"
PROJECT_STATUSES = (STATUS_FILLING, STATUS_PENDING, STATUS_RETURNED, STATUS_APPROVED)
STATUS_LABELS = {
    STATUS_FILLING: "填报中",
    STATUS_PENDING: "待复核",
    STATUS_RETURNED: "已退回",
    STATUS_APPROVED: "已通过",
}

DECISION_APPROVE = "approve"
DECISION_RETURN = "return"


class Project(db.Model):
    """A property-management project (物业项目) owned by one staff account."""

    __tablename__ = "projects"
    # A town's list, newest first, read page by page from the index.
    __table_args__ = (
        db.Index("ix_projects_town_updated", "town_id", "updated_at", "id"),
    )

    id = db.Column(db.Integer, primary_key=True)
    town_id = db.Column(db.ForeignKey("towns.id"), nullable=False, index=True)
    owner_id = db.Column(db.ForeignKey("users.id"), nullable=False, index=True)
    company_id = db.Column(db.ForeignKey("companies.id"), index=True)
    name = db.Column(db.String(60), nullable=False)
    address = db.Column(db.String(120), nullable=False)
    # Folded forms of name and address, used to flag likely duplicates.
    name_key = db.Column(db.String(120), nullable=False, index=True)
    address_key = db.Column(db.String(240), nullable=False, index=True)
    # Stored copy of the status derived from the entries; models.workflow
    # recomputes it in the same transaction as every entry change.
    status = db.Column(
        db.String(16), nullable=False, default=STATUS_FILLING, index=True
    )
    duplicate_of_id = db.Column(db.ForeignKey("projects.id"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    town = db.relationship("Town")
    owner = db.relationship("User")
    company = db.relationship("Company")
    entries = db.relationship(
        "Entry", back_populates="project", order_by="Entry.id", lazy="selectin"
    )

    @property
    def status_label(self):
        return STATUS_LABELS[self.status]

    def entry(self, category):
        for entry in self.entries:
            if entry.category == category:
                return entry
        return None


class Entry(db.Model):
    """One category of one project: its working data, state and version.

    SQLAlchemy's version counter makes every UPDATE carry
    ``WHERE version = <loaded version>``, so two concurrent saves of the
    same version cannot both succeed.
    """

    __tablename__ = "entries"
    __table_args__ = (
        db.UniqueConstraint("project_id", "category"),
        # "Projects with an entry in this state" without reading the form data.
        db.Index("ix_entries_state_project", "state", "project_id"),
    )

    id = db.Column(db.Integer, primary_key=True)
    project_id = db.Column(db.ForeignKey("projects.id"), nullable=False)
    category = db.Column(db.String(32), nullable=False)
    state = db.Column(db.String(16), nullable=False, default=STATE_EMPTY, index=True)
    version = db.Column(db.Integer, nullable=False, default=0)
    data = db.Column(db.JSON, nullable=False, default=dict)
    completeness = db.Column(db.Integer, nullable=False, default=0)
    # Plain integers, not foreign keys: revisions.entry_id already points
    # here, and a cycle of constraints cannot be created on SQLite.
    current_revision_id = db.Column(db.Integer)
    approved_revision_id = db.Column(db.Integer)
    last_opinion = db.Column(db.Text)
    submitted_at = db.Column(UTCDateTime, index=True)
    returned_at = db.Column(UTCDateTime)
    approved_at = db.Column(UTCDateTime)
    updated_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    updated_by_id = db.Column(db.ForeignKey("users.id"))

    project = db.relationship("Project", back_populates="entries")
    current_revision = db.relationship(
        "Revision",
        primaryjoin="foreign(Entry.current_revision_id) == Revision.id",
        viewonly=True,
    )
    approved_revision = db.relationship(
        "Revision",
        primaryjoin="foreign(Entry.approved_revision_id) == Revision.id",
        viewonly=True,
    )

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    @property
    def state_label(self):
        return STATE_LABELS[self.state]


class Revision(db.Model):
    """A snapshot of an entry's data, stored on every submit."""

    __tablename__ = "revisions"
    __table_args__ = (db.UniqueConstraint("entry_id", "number"),)

    id = db.Column(db.Integer, primary_key=True)
    entry_id = db.Column(db.ForeignKey("entries.id"), nullable=False, index=True)
    number = db.Column(db.Integer, nullable=False)
    data = db.Column(db.JSON, nullable=False)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    created_by_id = db.Column(db.ForeignKey("users.id"))

    created_by = db.relationship("User")


class Review(db.Model):
    """A reviewer's decision on one revision."""

    __tablename__ = "reviews"

    id = db.Column(db.Integer, primary_key=True)
    entry_id = db.Column(db.ForeignKey("entries.id"), nullable=False, index=True)
    revision_id = db.Column(db.ForeignKey("revisions.id"), nullable=False)
    decision = db.Column(db.String(16), nullable=False)
    opinion = db.Column(db.Text)
    reviewer_id = db.Column(db.ForeignKey("users.id"), nullable=False)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    reviewer = db.relationship("User")
    revision = db.relationship("Revision")
    entry = db.relationship("Entry")
