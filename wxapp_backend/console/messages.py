"""Message and job status for admins: the delivery log, the schedule, rq.

The delivery log is the outbox table itself: one row per template message
with its status, WeChat's errcode and the final status WeChat pushed back.
The schedule shows the next slots in Shanghai time, the latest runs and the
slots skipped while the scheduler was down. "Send today's digest now"
claims today's 09:00 digest slot like the scheduler does, so the digest is
sent at most once a day, however often the button is pressed.
"""

import logging

from flask import flash, g, redirect, render_template, request, url_for
from sqlalchemy import or_

from jobs import status
from jobs.runs import NoSlotThatDay, send_slot_now
from jobs.slots import DIGEST, local_date
from models import Delivery, User, db, utcnow
from models.account import ROLE_ADMIN
from models.audit import record
from models.delivery import DELIVERY_STATUS_LABELS, DELIVERY_STATUSES
from wxapp_backend.console import console_blueprint
from wxapp_backend.console.access import console_login_required
from wxapp_backend.console.pages import paginate

logger = logging.getLogger(__name__)

KIND_LABELS = {
    "digest": "每日进度通知",
    "reminder": "待复核提醒",
    "return_notice": "退回通知",
    "deadline_reminder": "截止前填报提醒",
    "return_reminder": "退回未修改提醒",
    "staff_reminder": "填报提醒",
    "notice": "工作通知",
}
SCHEDULE_ROWS = 20


@console_blueprint.get("/messages")
@console_login_required(ROLE_ADMIN)
def message_log():
    query = _filtered_deliveries()
    page = paginate(query, (Delivery.created_at.desc(), Delivery.id.desc()))
    kinds = [
        row[0]
        for row in db.session.query(Delivery.kind).distinct().order_by(Delivery.kind)
    ]
    args = {
        key: value for key, value in request.args.items() if key != "page" and value
    }
    return render_template(
        "console/messages.html",
        page=page,
        kinds=[(kind, KIND_LABELS.get(kind, kind)) for kind in kinds],
        kind_labels=KIND_LABELS,
        statuses=[(key, DELIVERY_STATUS_LABELS[key]) for key in DELIVERY_STATUSES],
        args=args,
    )


def _filtered_deliveries():
    query = Delivery.query.outerjoin(User, Delivery.user_id == User.id)
    kind = request.args.get("kind")
    if kind:
        query = query.filter(Delivery.kind == kind[:32])
    state = request.args.get("status")
    if state in DELIVERY_STATUSES:
        query = query.filter(Delivery.status == state)
    errcode = (request.args.get("errcode") or "").strip()
    if errcode.lstrip("-").isdigit():
        query = query.filter(Delivery.last_errcode == int(errcode))
    recipient = (request.args.get("recipient") or "").strip()[:40]
    if recipient:
        pattern = f"%{recipient}%"
        query = query.filter(or_(User.name.like(pattern), User.username.like(pattern)))
    return query


@console_blueprint.get("/schedule")
@console_login_required(ROLE_ADMIN)
def schedule():
    now = utcnow()
    return render_template(
        "console/schedule.html",
        next_slots=status.next_slots(now, 8),
        runs=status.recent_runs(SCHEDULE_ROWS),
        skipped=status.skipped_runs(SCHEDULE_ROWS),
        status_labels=DELIVERY_STATUS_LABELS,
        today=local_date(now),
    )


@console_blueprint.post("/schedule/digest")
@console_login_required(ROLE_ADMIN)
def send_digest_now():
    now = utcnow()
    day = local_date(now)
    try:
        result = send_slot_now(DIGEST, day, now)
    except NoSlotThatDay:
        flash(f"{day.isoformat()} 不在采集期内，没有每日进度通知", "error")
        return redirect(url_for("console.schedule"))
    record(
        g.console_user,
        "slot_run",
        result.run.id,
        "send_digest_now",
        detail={"date": day.isoformat(), "created": result.created},
    )
    db.session.commit()
    if result.created:
        logger.info(
            "digest sent on request user_id=%s run_id=%s",
            g.console_user.id,
            result.run.id,
        )
        count = result.run.recipients
        flash(f"已开始发送 {day.isoformat()} 的每日进度通知，共 {count} 条")
    else:
        label = result.run.status_label
        flash(f"{day.isoformat()} 的每日进度通知已发送过（{label}），未重复发送")
    return redirect(url_for("console.schedule"))
