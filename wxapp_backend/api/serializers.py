"""JSON shapes of projects, entries, revisions and reviews."""

from flask import current_app

from models import Review
from models.form_schema import load_schema
from models.masking import mask_id_number
from models.project import STATE_SUBMITTED


def schema():
    return load_schema(current_app.config["FORM_SCHEMA_FILE"])


def _iso(value):
    return value.isoformat() if value is not None else None


def mask_data(category, data, full_id_numbers):
    if full_id_numbers:
        return dict(data)
    masked = dict(data)
    for spec in schema().fields(category):
        if spec["type"] == "id_number" and masked.get(spec["key"]):
            masked[spec["key"]] = mask_id_number(masked[spec["key"]])
    return masked


def entry_summary(entry):
    return {
        "id": entry.id,
        "category": entry.category,
        "label": schema().label(entry.category),
        "state": entry.state,
        "state_label": entry.state_label,
        "completeness": entry.completeness,
        "version": entry.version,
        "pending": entry.state == STATE_SUBMITTED,
        "last_opinion": entry.last_opinion,
        "updated_at": _iso(entry.updated_at),
    }


def project_summary(project):
    return {
        "id": project.id,
        "name": project.name,
        "address": project.address,
        "town": project.town.to_dict(),
        "status": project.status,
        "status_label": project.status_label,
        "company": project.company.to_dict() if project.company else None,
        "pending_count": sum(
            1 for entry in project.entries if entry.state == STATE_SUBMITTED
        ),
        "categories": [entry_summary(entry) for entry in project.entries],
        "updated_at": _iso(project.updated_at),
    }


def entry_detail(entry, full_id_numbers=True):
    result = schema().validate(
        entry.category, entry.data, town_name=entry.project.town.name
    )
    detail = entry_summary(entry)
    detail.update(
        project_id=entry.project_id,
        data=mask_data(entry.category, entry.data, full_id_numbers),
        missing=result.missing,
        current_revision_id=entry.current_revision_id,
        approved_revision_id=entry.approved_revision_id,
        submitted_at=_iso(entry.submitted_at),
        returned_at=_iso(entry.returned_at),
    )
    return detail


def review_dict(review):
    return {
        "id": review.id,
        "category": review.entry.category,
        "decision": review.decision,
        "decision_label": "通过" if review.decision == "approve" else "退回",
        "opinion": review.opinion,
        "revision_id": review.revision_id,
        "reviewer": review.reviewer.name,
        "created_at": _iso(review.created_at),
    }


def reviews_of(entry_ids):
    return (
        Review.query.filter(Review.entry_id.in_(entry_ids))
        .order_by(Review.created_at.desc(), Review.id.desc())
        .all()
    )


def revision_diff(category, before, after):
    """List the fields whose value differs between two revisions' data."""
    changes = []
    for spec in schema().fields(category):
        key = spec["key"]
        old, new = (before or {}).get(key), (after or {}).get(key)
        if old != new:
            changes.append(
                {"key": key, "label": spec["label"], "before": old, "after": new}
            )
    return changes


def revision_dict(revision):
    if revision is None:
        return None
    return {
        "id": revision.id,
        "number": revision.number,
        "created_at": _iso(revision.created_at),
    }
