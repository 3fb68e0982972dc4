"""Preset accounts of reviewers and officials: create, reset, disable.

An admin creates each account with a generated initial password. The page
returned by the form shows it once, and it is never stored in clear or logged. The
owner must change it at first login. Resetting a password does the same.
"""

import logging
import re
import secrets

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import or_

from models import Town, User, db
from models.account import ROLE_ADMIN, ROLE_LABELS, ROLE_OFFICIAL, ROLE_REVIEWER
from models.audit import record
from wxapp_backend.console import console_blueprint
from wxapp_backend.console.access import console_login_required
from wxapp_backend.console.pages import paginate

logger = logging.getLogger(__name__)

MANAGED_ROLES = (ROLE_REVIEWER, ROLE_OFFICIAL)
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{3,40}$")
# Letters and digits without the look-alikes 0/O, 1/l/I, so a password read
# off the screen is typed right the first time.
PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
PASSWORD_LENGTH = 12


def generate_password():
    """Return a random initial password that passes the password rule."""
    while True:
        password = "".join(
            secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH)
        )
        if re.search(r"[A-Za-z]", password) and re.search(r"\d", password):
            return password


@console_blueprint.get("/accounts")
@console_login_required(ROLE_ADMIN)
def account_list():
    query = User.query.filter(User.role.in_(MANAGED_ROLES))
    town_id = request.args.get("town", type=int)
    if town_id:
        query = query.filter(User.town_id == town_id)
    role = request.args.get("role")
    if role in MANAGED_ROLES:
        query = query.filter(User.role == role)
    text = (request.args.get("q") or "").strip()[:40]
    if text:
        pattern = f"%{text}%"
        query = query.filter(or_(User.username.like(pattern), User.name.like(pattern)))
    page = paginate(query, (User.town_id, User.role, User.id))
    args = {
        key: value for key, value in request.args.items() if key != "page" and value
    }
    return render_template(
        "console/accounts.html",
        page=page,
        towns=_towns(),
        roles=_role_choices(),
        args=args,
        errors={},
        form={},
    )


def _towns():
    return Town.query.filter_by(active=True).order_by(Town.sort_order).all()


def _role_choices():
    return [(role, ROLE_LABELS[role]) for role in MANAGED_ROLES]


@console_blueprint.post("/accounts")
@console_login_required(ROLE_ADMIN)
def account_create():
    form = {
        key: (request.form.get(key) or "").strip()
        for key in ("role", "town", "username", "name")
    }
    errors, town = _account_errors(form)
    if errors:
        page = paginate(User.query.filter(User.role.in_(MANAGED_ROLES)), (User.id,))
        return render_template(
            "console/accounts.html",
            page=page,
            towns=_towns(),
            roles=_role_choices(),
            args={},
            errors=errors,
            form=form,
        ), 422

    password = generate_password()
    user = User(
        role=form["role"],
        name=form["name"],
        username=form["username"],
        town=town,
        must_change_password=True,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record(
        g.console_user,
        "user",
        user.id,
        "create_account",
        detail={"role": user.role, "town_id": town.id if town else None},
    )
    db.session.commit()
    logger.info("console account created user_id=%s role=%s", user.id, user.role)
    return _show_password(user, password, created=True)


def _account_errors(form):
    """Check the new-account form; return ``(errors, town)``."""
    errors, town = {}, None
    if form["role"] not in MANAGED_ROLES:
        errors["role"] = "请选择账号类型：镇街复核人员或领导"
    if form["town"]:
        town = (
            db.session.get(Town, int(form["town"])) if form["town"].isdigit() else None
        )
        if town is None or not town.active:
            errors["town"] = "请选择有效的镇街"
    elif form["role"] == ROLE_REVIEWER:
        errors["town"] = "复核人员必须选择所属镇街"
    if not USERNAME_PATTERN.match(form["username"]):
        errors["username"] = "用户名应为3至40位英文字母、数字或 _ . -"
    elif User.query.filter_by(username=form["username"]).first() is not None:
        errors["username"] = f"用户名“{form['username']}”已被使用，请换一个"
    if not 2 <= len(form["name"]) <= 30:
        errors["name"] = "姓名应为2至30个字"
    return errors, town


def _show_password(user, password, created):
    """Render the one page that shows ``password``; it is not kept anywhere."""
    response = render_template(
        "console/account_password.html",
        account=user,
        password=password,
        created=created,
    )
    return response, 201 if created else 200


def _managed_account(user_id):
    user = db.session.get(User, user_id)
    if user is None or user.role not in MANAGED_ROLES:
        abort(404)
    return user


@console_blueprint.post("/accounts/<int:user_id>/reset-password")
@console_login_required(ROLE_ADMIN)
def account_reset_password(user_id):
    user = _managed_account(user_id)
    password = generate_password()
    user.set_password(password)
    user.must_change_password = True
    user.failed_logins = 0
    user.locked_until = None
    record(g.console_user, "user", user.id, "reset_password")
    db.session.commit()
    logger.info("console password reset user_id=%s", user.id)
    return _show_password(user, password, created=False)


@console_blueprint.post("/accounts/<int:user_id>/disabled")
@console_login_required(ROLE_ADMIN)
def account_set_disabled(user_id):
    user = _managed_account(user_id)
    user.disabled = request.form.get("disabled") == "1"
    record(g.console_user, "user", user.id, "disable" if user.disabled else "enable")
    db.session.commit()
    flash(f"已{'停用' if user.disabled else '启用'}账号 {user.username}")
    return redirect(url_for("console.account_list"))
