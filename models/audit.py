"""Audit events: who changed what, when, from which state to which."""

from models.base import UTCDateTime, db, utcnow


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id = db.Column(db.Integer, primary_key=True)
    actor_id = db.Column(db.ForeignKey("users.id"), index=True)
    at = db.Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    object_type = db.Column(db.String(32), nullable=False)
    object_id = db.Column(db.Integer, nullable=False)
    # Set for events about a project or one of its entries, so a project's
    # history is one indexed query.
    project_id = db.Column(db.ForeignKey("projects.id"), index=True)
    action = db.Column(db.String(32), nullable=False)
    from_state = db.Column(db.String(32))
    to_state = db.Column(db.String(32))
    opinion = db.Column(db.Text)
    detail = db.Column(db.JSON)

    actor = db.relationship("User")


def record(
    actor,
    object_type,
    object_id,
    action,
    *,
    project_id=None,
    from_state=None,
    to_state=None,
    opinion=None,
    detail=None,
):
    """Add an audit event to the current transaction; the caller commits."""
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        object_type=object_type,
        object_id=object_id,
        project_id=project_id,
        action=action,
        from_state=from_state,
        to_state=to_state,
        opinion=opinion,
        detail=detail,
    )
    db.session.add(event)
    return event
