"""Shared parts of every console page: request hooks, filters, errors, paging."""

import math
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import current_app, g, render_template, request
from flask_wtf.csrf import CSRFError

from models.account import ROLE_ADMIN, ROLE_OFFICIAL, ROLE_REVIEWER
from wxapp_backend.console import console_blueprint, csrf
from wxapp_backend.console.access import load_user

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Everything the console loads comes from this server: no CDN, and no
# inline script, so an injected <script> in user data cannot run.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'"
)

ERROR_MESSAGES = {
    400: "请求无效，请返回上一页重试",
    403: "没有权限查看此页面",
    404: "页面不存在或无权查看",
    405: "不支持该请求方法",
    409: "数据已被他人修改，请刷新后重试",
}


@console_blueprint.before_request
def load_console_user():
    if request.endpoint == "console.static":
        return
    g.console_user = load_user()
    csrf.protect()


@console_blueprint.after_request
def add_security_headers(response):
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if g.get("console_user") is not None:
        # Pages show personal data: keep them out of shared caches.
        response.headers.setdefault("Cache-Control", "private, no-store")
    return response


@console_blueprint.context_processor
def console_context():
    user = g.get("console_user")
    return {
        "current_user": user,
        "is_admin": user is not None and user.role == ROLE_ADMIN,
        "is_reviewer": user is not None and user.role == ROLE_REVIEWER,
        "is_official": user is not None and user.role == ROLE_OFFICIAL,
    }


def render_error(status, message=None):
    body = render_template(
        "console/error.html",
        status=status,
        message=message or ERROR_MESSAGES.get(status, "请求失败"),
    )
    return body, status


@console_blueprint.errorhandler(CSRFError)
def handle_csrf_error(exc):
    return render_error(400, "页面已过期或来源无效，请刷新页面后重新提交")


for _status in ERROR_MESSAGES:
    console_blueprint.register_error_handler(
        _status, lambda exc, status=_status: render_error(status)
    )


def to_shanghai(value, pattern="%Y-%m-%d %H:%M"):
    """Format an aware UTC datetime as Shanghai wall-clock time."""
    if value is None:
        return "—"
    return value.astimezone(SHANGHAI).strftime(pattern)


def display_value(spec, value):
    """Format one form value for reading, with its unit; files by their number."""
    if value is None or value == "":
        return "—"
    if spec.get("type") == "file":
        return f"已上传（文件编号 {value}）"
    unit = spec.get("unit")
    return f"{value} {unit}" if unit else str(value)


def register_filters(app):
    app.add_template_filter(to_shanghai, "shanghai")
    app.add_template_global(display_value, "display_value")


@dataclass
class Page:
    """One page of rows and the numbers the pager shows."""

    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self):
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_previous(self):
        return self.page > 1

    @property
    def has_next(self):
        return self.page < self.pages


def paginate(query, order_by):
    """Return the requested ``Page`` of ``query``; a bad page number shows page 1."""
    per_page = current_app.config["CONSOLE_PAGE_SIZE"]
    page = request.args.get("page", 1, type=int)
    if page is None or page < 1:
        page = 1
    total = query.order_by(None).count()
    rows = query.order_by(*order_by).limit(per_page).offset((page - 1) * per_page)
    return Page(rows.all(), page, per_page, total)
