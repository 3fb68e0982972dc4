"""Console sessions and who may open which page.

The console keeps the user id in Flask's signed session cookie (HttpOnly,
SameSite=Lax), together with a stamp derived from the password hash, so a
password change or reset ends every other session of that account. Staff
accounts never get a console session: they work in the mini-program.
"""

import functools
import hashlib
from datetime import datetime, timedelta

from flask import abort, current_app, g, redirect, request, session, url_for

from models import User, db, utcnow
from models.account import ROLE_ADMIN, ROLE_OFFICIAL, ROLE_REVIEWER

CONSOLE_ROLES = (ROLE_REVIEWER, ROLE_OFFICIAL, ROLE_ADMIN)


def password_stamp(user):
    """Return a short digest of the password hash; it changes with the password."""
    digest = hashlib.sha256((user.password_hash or "").encode("utf-8"))
    return digest.hexdigest()[:16]


def login_user(user):
    session.clear()
    session["console_user_id"] = user.id
    session["console_stamp"] = password_stamp(user)
    session["console_login_at"] = utcnow().isoformat()


def refresh_stamp(user):
    """Keep the current session valid after its own password change."""
    session["console_stamp"] = password_stamp(user)


def logout_user():
    session.clear()


def load_user():
    """Return the logged-in console user, or None when the session is not valid."""
    user_id = session.get("console_user_id")
    if not isinstance(user_id, int):
        return None
    user = db.session.get(User, user_id)
    if user is None or user.disabled or user.role not in CONSOLE_ROLES:
        return None
    if user.role == ROLE_REVIEWER and user.town_id is None:
        # A reviewer works for one town; without one the scope rules below
        # would read as "the whole district".
        return None
    if session.get("console_stamp") != password_stamp(user):
        return None
    if _session_expired():
        return None
    return user


def _session_expired():
    try:
        login_at = datetime.fromisoformat(session.get("console_login_at", ""))
    except ValueError:
        return True
    hours = current_app.config["CONSOLE_SESSION_HOURS"]
    return utcnow() - login_at > timedelta(hours=hours)


def console_login_required(*roles, allow_password_change=False):
    """Require a console login, and one of ``roles`` when any are given.

    Anonymous visitors are sent to the login page; a user of another role
    gets 403. An account that must change its first password reaches only
    the views that set ``allow_password_change``.
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            user = g.get("console_user")
            if user is None:
                return redirect(url_for("console.login", next=request.full_path))
            if user.must_change_password and not allow_password_change:
                return redirect(url_for("console.change_password"))
            if roles and user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def town_scope(user):
    """Return the town id ``user`` is limited to, or None for the whole district."""
    if user.role == ROLE_ADMIN:
        return None
    if user.role == ROLE_OFFICIAL and user.town_id is None:
        return None
    return user.town_id
