"""The workflow rules for projects and their category entries.

Functions here add rows to the current session and leave committing to the
caller, so that one request is one transaction. They raise ``WorkflowError``
subclasses, which the API turns into its common error shape.
"""

import re
import unicodedata

from blinker import Namespace
from sqlalchemy import or_

from models import audit
from models.base import db, utcnow
from models.project import (
    DECISION_APPROVE,
    DECISION_RETURN,
    STATE_APPROVED,
    STATE_DRAFT,
    STATE_EMPTY,
    STATE_RETURNED,
    STATE_SUBMITTED,
    STATUS_APPROVED,
    STATUS_FILLING,
    STATUS_PENDING,
    STATUS_RETURNED,
    Entry,
    Project,
    Revision,
    Review,
)

signals = Namespace()
# Sent inside the transaction, before commit, so that receivers (the
# notification outbox) write their rows atomically with the change.
entry_returned = signals.signal("entry-returned")
entry_submitted = signals.signal("entry-submitted")
entry_approved = signals.signal("entry-approved")

OPINION_MAX_LENGTH = 500


class WorkflowError(Exception):
    status = 400
    code = "workflow_error"

    def __init__(self, message, fields=None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationFailed(WorkflowError):
    status = 422
    code = "validation_failed"


class VersionConflict(WorkflowError):
    status = 409
    code = "version_conflict"

    def __init__(self, message, entry):
        super().__init__(message)
        self.entry = entry


class StaleRevision(VersionConflict):
    code = "stale_revision"


class InvalidTransition(WorkflowError):
    status = 409
    code = "invalid_transition"


def fold_key(text):
    """Fold a name or address for duplicate detection.

    NFKC maps full-width forms to half-width; whitespace, punctuation and
    symbols are dropped and letters lower-cased, so 「桂城 花园（一期）」 and
    「桂城花园(一期)」 fold to the same key.
    """
    normal = unicodedata.normalize("NFKC", text or "").lower()
    return "".join(
        char
        for char in normal
        if not unicodedata.category(char).startswith(("P", "S", "Z", "C"))
    )


def derive_status(entries):
    """Derive the project status from its entries' states.

    已退回 wins because the staff must act; then 填报中 while any category
    is not yet submitted; then 待复核 while any is pending; else 已通过.
    """
    states = [entry.state for entry in entries]
    if STATE_RETURNED in states:
        return STATUS_RETURNED
    if any(state in (STATE_EMPTY, STATE_DRAFT) for state in states):
        return STATUS_FILLING
    if STATE_SUBMITTED in states:
        return STATUS_PENDING
    return STATUS_APPROVED


def refresh_status(project):
    project.status = derive_status(project.entries)
    project.updated_at = utcnow()


def create_project(schema, owner, town, name, address):
    """Create a project with one empty entry per category."""
    errors = {}
    name = re.sub(r"\s+", " ", name or "").strip()
    address = re.sub(r"\s+", " ", address or "").strip()
    if not name:
        errors["name"] = "项目名称不能为空，请填写"
    elif len(name) > 60:
        errors["name"] = "项目名称不能超过60个字，请删减"
    if not address:
        errors["address"] = "项目地址不能为空，请填写"
    elif len(address) > 120:
        errors["address"] = "项目地址不能超过120个字，请删减"
    if errors:
        raise ValidationFailed("项目信息有误，请按提示修改", errors)

    project = Project(
        town=town,
        owner=owner,
        company_id=owner.company_id,
        name=name,
        address=address,
        name_key=fold_key(name),
        address_key=fold_key(address),
    )
    project.entries = [Entry(category=key, data={}) for key in schema.category_keys]
    db.session.add(project)
    db.session.flush()
    basic = project.entry("basic")
    if basic is not None:
        # The project's name, address and town already fill three fields.
        basic.data = {"project_name": name, "address": address}
        result = schema.validate("basic", basic.data, town_name=town.name)
        basic.completeness = result.completeness
    audit.record(
        owner,
        "project",
        project.id,
        "create",
        project_id=project.id,
        to_state=STATUS_FILLING,
        detail={"name": name, "town": town.name},
    )
    return project


def find_duplicates(project):
    """Return other projects in the same town whose folded name or address match."""
    return (
        Project.query.filter(
            Project.town_id == project.town_id,
            Project.id != project.id,
            or_(
                Project.name_key == project.name_key,
                Project.address_key == project.address_key,
            ),
        )
        .order_by(Project.id)
        .all()
    )


def save_entry(schema, entry, raw, version, actor, file_exists=None):
    """Save a category and submit it automatically when complete.

    ``version`` is the version the client edited; a stale one raises
    ``VersionConflict`` and nothing changes. Invalid values raise
    ``ValidationFailed`` and nothing changes. Missing required values are
    allowed and keep the entry as a draft.
    """
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValidationFailed(
            "缺少版本号，请刷新后重试", {"version": "应为整数版本号"}
        )
    if version != entry.version:
        raise VersionConflict("该分类已被他人修改，请查看最新内容后再保存", entry)

    result = schema.validate(
        entry.category, raw, town_name=entry.project.town.name, file_exists=file_exists
    )
    if result.errors:
        raise ValidationFailed("填写内容有误，请按提示修改", result.errors)

    new_state = STATE_SUBMITTED if result.complete else STATE_DRAFT
    if result.data == entry.data and not _resubmits(entry, new_state):
        return entry

    old_state = entry.state
    entry.data = result.data
    entry.completeness = result.completeness
    entry.state = new_state
    entry.version = entry.version + 1
    entry.updated_at = utcnow()
    entry.updated_by_id = actor.id
    if new_state == STATE_SUBMITTED:
        _store_revision(entry, actor)
    _sync_project_fields(entry)
    refresh_status(entry.project)
    audit.record(
        actor,
        "entry",
        entry.id,
        "save",
        project_id=entry.project_id,
        from_state=old_state,
        to_state=new_state,
        detail={"category": entry.category, "version": entry.version},
    )
    if new_state == STATE_SUBMITTED:
        entry_submitted.send(entry, actor=actor)
    return entry


def _resubmits(entry, new_state):
    """Tell whether a returned entry saved unchanged but complete goes back."""
    return entry.state == STATE_RETURNED and new_state == STATE_SUBMITTED


def _store_revision(entry, actor):
    number = (
        db.session.query(db.func.max(Revision.number))
        .filter(Revision.entry_id == entry.id)
        .scalar()
        or 0
    ) + 1
    revision = Revision(
        entry_id=entry.id, number=number, data=dict(entry.data), created_by_id=actor.id
    )
    db.session.add(revision)
    db.session.flush()
    entry.current_revision_id = revision.id
    entry.submitted_at = utcnow()


def _sync_project_fields(entry):
    if entry.category != "basic":
        return
    project = entry.project
    if entry.data.get("project_name"):
        project.name = entry.data["project_name"]
        project.name_key = fold_key(project.name)
    if entry.data.get("address"):
        project.address = entry.data["address"]
        project.address_key = fold_key(project.address)


def review_entry(entry, revision_id, decision, opinion, reviewer):
    """Approve or return the revision ``revision_id`` of a submitted entry."""
    opinion = (opinion or "").strip()
    if decision not in (DECISION_APPROVE, DECISION_RETURN):
        raise ValidationFailed("复核结论无效", {"decision": "应为通过或退回"})
    if decision == DECISION_RETURN and not opinion:
        raise ValidationFailed(
            "退回时必须填写复核意见",
            {"opinion": "请填写退回原因，告诉填报人需要修改什么"},
        )
    if len(opinion) > OPINION_MAX_LENGTH:
        raise ValidationFailed(
            "复核意见过长", {"opinion": f"不能超过{OPINION_MAX_LENGTH}个字，请精简"}
        )
    if entry.state != STATE_SUBMITTED:
        raise InvalidTransition(
            f"该分类当前状态为“{entry.state_label}”，不是待复核，无法复核"
        )
    if revision_id != entry.current_revision_id:
        raise StaleRevision("填报人已更新该分类，请查看最新内容后再复核", entry)

    old_state = entry.state
    review = Review(
        entry_id=entry.id,
        revision_id=revision_id,
        decision=decision,
        opinion=opinion or None,
        reviewer_id=reviewer.id,
    )
    db.session.add(review)
    now = utcnow()
    if decision == DECISION_APPROVE:
        entry.state = STATE_APPROVED
        entry.approved_revision_id = revision_id
        entry.approved_at = now
    else:
        entry.state = STATE_RETURNED
        entry.returned_at = now
    # The version guards the data, which a review does not change; the
    # version column still makes this UPDATE fail if a save slipped in.
    entry.last_opinion = opinion or None
    entry.updated_at = now
    refresh_status(entry.project)
    db.session.flush()
    audit.record(
        reviewer,
        "entry",
        entry.id,
        decision,
        project_id=entry.project_id,
        from_state=old_state,
        to_state=entry.state,
        opinion=opinion or None,
        detail={
            "category": entry.category,
            "revision_id": revision_id,
            "review_id": review.id,
        },
    )
    signal = entry_approved if decision == DECISION_APPROVE else entry_returned
    signal.send(entry, review=review)
    return review
