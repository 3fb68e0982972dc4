"""HTML pages: the sandbox overview and each user's phone as WeChat would show it.

The phone page renders a category template message the way WeChat does. A
card shows the template title and the send date, then one "label: value" row
per field with the Chinese labels from the templates file. A "进入小程序查看"
line follows when the message opens the mini-program. Category templates
have no first/remark lines and no colours, so none are drawn.
"""

import math
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, redirect, render_template, request, url_for

from . import events
from .api import current_state
from .control import app_object
from .push import CallbackRejected
from .qrcodes import is_expired
from .template_messages import registered_templates

bp = Blueprint("sandbox_phone", __name__, url_prefix="/sandbox", template_folder="html")

SHANGHAI = ZoneInfo("Asia/Shanghai")

STATUS_LABELS = {
    None: "发送中",
    "success": "已送达",
    "failed:user block": "未送达：用户拒收",
    "failed: system failed": "未送达：系统原因",
}


@bp.get("/")
def index():
    state = current_state()
    with state.lock:
        users = [_user_row(state, user) for user in state.users.values()]
        qrcodes = [_qrcode_row(state, code) for code in state.qrcodes.values()]
        pushes = list(reversed(state.pushes[-20:]))
    qrcodes.sort(key=lambda row: row["created_at"], reverse=True)
    return render_template(
        "sandbox_index.html",
        status_labels=STATUS_LABELS,
        users=users,
        qrcodes=qrcodes,
        pushes=pushes,
        notice=request.args.get("notice"),
    )


@bp.get("/phone/<openid>")
def phone(openid):
    state = current_state()
    with state.lock:
        user = state.users.get(openid)
        messages = [m for m in state.messages if m.touser == openid]
    if user is None:
        abort(404, description=f"用户 {openid} 不存在")

    templates = registered_templates()
    cards = [_card(message, templates[message.template_id]) for message in messages]
    return render_template("sandbox_phone.html", user=user, cards=cards)


@bp.post("/ui/scan")
def scan_from_page():
    """Scan a QR code from the overview page, then show the outcome there."""
    ticket = request.form.get("ticket", "")
    openid = request.form.get("openid", "").strip() or None
    try:
        result = events.scan(app_object(), ticket=ticket, openid=openid)
    except (events.EventRejected, CallbackRejected) as exc:
        return redirect(url_for(".index", notice=f"扫码失败：{exc}"))
    notice = (
        f"用户 {result['openid']} 扫码，推送 {result['event']} 事件，"
        f"回调状态 {result['status']}"
    )
    return redirect(url_for(".index", notice=notice))


def _user_row(state, user):
    count = sum(1 for message in state.messages if message.touser == user.openid)
    return {"user": user, "message_count": count}


def _qrcode_row(state, code):
    remaining = None
    if code.expire_seconds is not None:
        left = code.created_at + code.expire_seconds - state.now()
        remaining = max(0, math.ceil(left))
    return {
        "code": code,
        "created_at": code.created_at,
        "remaining": remaining,
        "expired": is_expired(state, code),
    }


def _card(message, template):
    rows = []
    for key, label in template["fields"].items():
        item = message.data.get(key) or {}
        rows.append({"label": label, "value": item.get("value", "")})
    sent_at = datetime.fromtimestamp(message.created_at, SHANGHAI)
    return {
        "title": template["title"],
        "date": f"{sent_at.month}月{sent_at.day}日 {sent_at:%H:%M}",
        "rows": rows,
        "miniprogram": message.miniprogram,
        "url": message.url,
        "status": STATUS_LABELS.get(message.jobfinish_status, message.jobfinish_status),
        "status_class": _status_class(message.jobfinish_status),
        "delivered": message.jobfinish_status in (None, "success"),
        "msgid": message.msgid,
    }


def _status_class(status):
    if status is None:
        return "muted"
    return "ok" if status == "success" else "bad"
