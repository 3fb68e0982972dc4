"""rq-dashboard 0.9.0, mounted at ``/console/rq/`` for admins only.

rq-dashboard has no login of its own: its blueprint is registered on this
app, and a request hook lets only a logged-in admin reach it. Its pages send
their POST requests (requeue, delete) from its own scripts, which carry no
CSRF token, so those are accepted only when the Origin or Referer header
names this site; with the SameSite=Lax session cookie that stops a forged
cross-site request.
"""

from urllib.parse import urlsplit

from flask import g, redirect, request, url_for

from models.account import ROLE_ADMIN
from wxapp_backend.console.access import load_user

URL_PREFIX = "/console/rq"
BLUEPRINT_NAME = "rq_dashboard"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def init_app(app):
    import rq_dashboard
    from rq_dashboard.web import setup_rq_connection

    app.config.setdefault("RQ_DASHBOARD_REDIS_URL", app.config["REDIS_URL"])
    setup_rq_connection(app)
    app.register_blueprint(rq_dashboard.blueprint, url_prefix=URL_PREFIX)
    app.before_request(guard_dashboard)


def guard_dashboard():
    """Let only admins reach rq-dashboard, and only same-site POSTs."""
    if request.blueprint != BLUEPRINT_NAME:
        return None
    user = load_user()
    if user is None:
        return redirect(url_for("console.login", next=request.full_path))
    if user.role != ROLE_ADMIN or user.must_change_password:
        return "没有权限查看此页面", 403
    if request.method not in SAFE_METHODS and not _same_origin():
        return "请求来源无效，请从管理后台页面操作", 403
    g.console_user = user
    return None


def _same_origin():
    source = request.headers.get("Origin") or request.headers.get("Referer") or ""
    parts = urlsplit(source)
    return bool(parts.netloc) and parts.netloc == request.host
