"""Work notices (工作通知): a short text to every bound staff member of a town.

A town official writes to the staff owning projects in their town. An admin
or a district official writes to one chosen town or to every town. The
notice is a ``notice`` template message, and its content field is a WeChat
``thing`` of at most 20 characters. Each recipient gets an outbox row keyed
``notice:<notice id>:user-<user id>``, so a retried send never repeats,
and the rows appear in the delivery log like every other message.
"""

import logging

from flask import (
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import func

from bot.delivery import queue_delivery
from bot.template_fields import check_field
from jobs.fanout import SENDABLE, enqueue_sends_quietly
from jobs.texts import local_time
from models import Delivery, Notice, Project, Town, User, db, utcnow
from models.account import ROLE_ADMIN, ROLE_OFFICIAL, ROLE_STAFF
from models.audit import record
from models.delivery import DELIVERY_STATUS_LABELS
from wxapp_backend.console import console_blueprint
from wxapp_backend.console.access import console_login_required, town_scope

logger = logging.getLogger(__name__)

NOTICE_KIND = "notice"
NOTICE_PAGE = "pages/project-list/index"
TEXT_MAX_LENGTH = 20
RECENT_NOTICES = 20


def notice_key(notice_id, user_id):
    return f"notice:{notice_id}:user-{user_id}"


def default_publisher(user):
    town = user.town
    if town is not None:
        return f"{town.name}房管所"
    first = Town.query.order_by(Town.sort_order).first()
    return f"{first.district_name if first else ''}物业信息采集工作组"


def recipients(town_id):
    """Return the bound, enabled staff owning a project in ``town_id`` (None: all)."""
    owners = db.session.query(Project.owner_id).filter(
        Project.duplicate_of_id.is_(None)
    )
    if town_id is not None:
        owners = owners.filter(Project.town_id == town_id)
    return (
        User.query.filter(
            User.role == ROLE_STAFF,
            User.disabled.is_(False),
            User.service_openid.isnot(None),
            User.id.in_(owners),
        )
        .order_by(User.id)
        .all()
    )


@console_blueprint.get("/notices")
@console_login_required(ROLE_OFFICIAL, ROLE_ADMIN)
def notice_list():
    return _render_page({}, {})


def _render_page(form, errors, status=200):
    user = g.console_user
    scope = town_scope(user)
    notices = Notice.query
    towns = Town.query.filter_by(active=True).order_by(Town.sort_order)
    if scope is not None:
        notices = notices.filter(Notice.town_id == scope)
        towns = towns.filter(Town.id == scope)
    notices = notices.order_by(Notice.id.desc()).limit(RECENT_NOTICES).all()
    return render_template(
        "console/notices.html",
        notices=notices,
        counts=_delivery_counts([notice.id for notice in notices]),
        status_labels=DELIVERY_STATUS_LABELS,
        towns=towns.all(),
        district=scope is None,
        form={"publisher": default_publisher(user), **form},
        errors=errors,
        max_length=TEXT_MAX_LENGTH,
    ), status


def _delivery_counts(notice_ids):
    """Return ``{notice id: {status: count}}`` from the notices' outbox rows."""
    counts = {notice_id: {} for notice_id in notice_ids}
    for notice_id in notice_ids:
        rows = (
            db.session.query(Delivery.status, func.count(Delivery.id))
            .filter(
                Delivery.dedupe_key.startswith(f"notice:{notice_id}:", autoescape=True)
            )
            .group_by(Delivery.status)
        )
        counts[notice_id] = dict(rows.all())
    return counts


@console_blueprint.post("/notices")
@console_login_required(ROLE_OFFICIAL, ROLE_ADMIN)
def notice_send():
    user = g.console_user
    form = {
        key: " ".join((request.form.get(key) or "").split())
        for key in ("publisher", "content", "town")
    }
    town_id = _chosen_town(user, form["town"])
    errors = _text_errors(form)
    if errors:
        return _render_page(form, errors, 422)

    notice = Notice(
        author_id=user.id,
        town_id=town_id,
        publisher=form["publisher"],
        content=form["content"],
    )
    db.session.add(notice)
    db.session.flush()
    sendable = _queue_all(notice)
    record(
        user,
        "notice",
        notice.id,
        "send",
        detail={"town_id": town_id, "recipients": notice.recipients},
    )
    db.session.commit()
    enqueue_sends_quietly(sendable)
    logger.info(
        "notice queued notice_id=%s town_id=%s recipients=%s",
        notice.id,
        town_id,
        notice.recipients,
    )
    flash(f"工作通知已发出，共 {notice.recipients} 位已绑定微信的物业项目用户")
    return redirect(url_for("console.notice_list"))


def _chosen_town(user, town_text):
    scope = town_scope(user)
    town_id = int(town_text) if town_text.isdigit() else None
    if scope is not None and town_id != scope:
        abort(403)
    if town_id is not None and db.session.get(Town, town_id) is None:
        abort(400)
    return town_id


def _text_errors(form):
    errors = {}
    for key, label in (("publisher", "发布单位"), ("content", "通知内容")):
        if not form[key]:
            errors[key] = f"请填写{label}"
        elif check_field("thing", form[key]) is not None:
            errors[key] = (
                f"{label}不能超过{TEXT_MAX_LENGTH}个字，当前{len(form[key])}个字"
            )
    return errors


def _queue_all(notice):
    """Write one outbox row per recipient; return the ids to send."""
    values = {
        "thing1": notice.publisher,
        "thing2": notice.content,
        "time3": local_time(notice.created_at or utcnow()),
    }
    sendable = []
    people = recipients(notice.town_id)
    for person in people:
        delivery = queue_delivery(
            NOTICE_KIND,
            person,
            NOTICE_KIND,
            values,
            NOTICE_PAGE,
            notice_key(notice.id, person.id),
        )
        if delivery.status in SENDABLE:
            sendable.append(delivery.id)
    notice.recipients = len(people)
    return sendable
