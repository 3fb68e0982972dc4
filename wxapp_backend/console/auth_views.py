"""Console login, logout and the forced first-login password change.

Login uses the same accounts and the same lockout rule as the API's
password login: ``LOGIN_MAX_FAILURES`` wrong passwords in a row lock the
account for ``LOGIN_LOCK_MINUTES``.
"""

import functools
import logging
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, render_template, request, url_for

from models import User, db, utcnow
from models.account import ROLE_ADMIN, ROLE_REVIEWER, ROLE_STAFF
from models.audit import record
from wxapp_backend.api.auth_views import password_problem
from wxapp_backend.console import console_blueprint
from wxapp_backend.console.access import (
    console_login_required,
    login_user,
    logout_user,
    refresh_stamp,
)
from wxapp_backend.console.binding_views import needs_binding

logger = logging.getLogger(__name__)


@functools.cache
def _unknown_user():
    """Return a user with a real hash, checked when the username is unknown.

    Checking a password either way keeps the response time from revealing
    which usernames exist.
    """
    user = User(name="", role=ROLE_ADMIN)
    user.set_password("console-timing-placeholder")
    return user


@console_blueprint.get("/")
def index():
    if g.console_user is None:
        return redirect(url_for("console.login"))
    return redirect(url_for("console.dashboard"))


@console_blueprint.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("console/login.html", username="")

    username = (request.form.get("username") or "").strip()[:40]
    password = request.form.get("password") or ""
    user = User.query.filter_by(username=username).one_or_none() if username else None
    problem = _login_problem(user, password)
    if problem:
        return render_template(
            "console/login.html", username=username, error=problem
        ), 401

    user.failed_logins = 0
    user.locked_until = None
    record(user, "user", user.id, "console_login")
    db.session.commit()
    login_user(user)
    logger.info("console login user_id=%s role=%s", user.id, user.role)
    return redirect(_after_login(user))


def _login_problem(user, password):
    """Return the Chinese reason the login fails, or None; counts failures."""
    if user is not None and user.locked_until and user.locked_until > utcnow():
        minutes = int((user.locked_until - utcnow()).total_seconds() // 60) + 1
        return f"密码错误次数过多，请{minutes}分钟后再试"
    if user is None or not user.check_password(password):
        if user is None:
            _unknown_user().check_password(password)
        else:
            logger.info("console login failed user_id=%s", user.id)
        _count_failure(user)
        return "用户名或密码错误"
    if user.disabled:
        return "账号已停用，请联系管理员"
    if user.role == ROLE_STAFF:
        return "物业项目用户请在微信小程序中填报，管理后台仅供镇街和管理人员使用"
    if user.role == ROLE_REVIEWER and user.town_id is None:
        return "账号未设置所属镇街，请联系管理员"
    return None


def _count_failure(user):
    if user is None:
        return
    user.failed_logins += 1
    config = current_app.config
    if user.failed_logins >= config["LOGIN_MAX_FAILURES"]:
        user.locked_until = utcnow() + timedelta(minutes=config["LOGIN_LOCK_MINUTES"])
        user.failed_logins = 0
        logger.warning("console login locked user_id=%s", user.id)
    db.session.commit()


def _after_login(user):
    """Send the user on: first the password change, then the WeChat binding."""
    if user.must_change_password:
        return url_for("console.change_password")
    if needs_binding(user):
        return url_for("console.binding")
    return _safe_next(request.args.get("next"))


def _safe_next(target):
    """Follow ``next`` only to a console path on this site, never elsewhere."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and parts.path.startswith("/console/"):
            return target
    return url_for("console.dashboard")


@console_blueprint.post("/logout")
def logout():
    if g.console_user is not None:
        logger.info("console logout user_id=%s", g.console_user.id)
    logout_user()
    flash("已退出登录")
    return redirect(url_for("console.login"))


@console_blueprint.route("/password", methods=["GET", "POST"])
@console_login_required(allow_password_change=True)
def change_password():
    user = g.console_user
    if request.method == "GET":
        return render_template("console/password.html")

    old = request.form.get("old_password") or ""
    new = request.form.get("new_password") or ""
    errors = _password_errors(user, old, new, request.form.get("confirm_password"))
    if errors:
        return render_template("console/password.html", errors=errors), 422

    user.set_password(new)
    user.must_change_password = False
    record(user, "user", user.id, "change_password")
    db.session.commit()
    refresh_stamp(user)
    flash("密码已修改")
    if needs_binding(user):
        return redirect(url_for("console.binding"))
    return redirect(url_for("console.dashboard"))


def _password_errors(user, old, new, confirm):
    errors = {}
    if not user.check_password(old):
        errors["old_password"] = "原密码不正确，请重新输入"
    problem = password_problem(new, old)
    if problem:
        errors["new_password"] = problem
    elif new != confirm:
        errors["confirm_password"] = "两次输入的新密码不一致"
    return errors
