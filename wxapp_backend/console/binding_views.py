"""WeChat binding in the browser: the QR code right after login, and its polling.

Reviewers and officials receive the digest and reminders as service-account
template messages, so the console shows a binding QR code to one who is not
bound yet as soon as they log in. The page polls the binding until the scan reaches the
callback. An admin can also show a binding QR code for any of these
accounts, to scan at the admin's desk.
"""

import logging

from flask import abort, current_app, flash, g, jsonify, render_template, url_for

from bot.binding import BindingError, binding_status, create_binding, qr_png
from models import BindingScene, User, db
from models.account import ROLE_ADMIN, ROLE_OFFICIAL, ROLE_REVIEWER
from wxapp_backend.console import console_blueprint
from wxapp_backend.console.access import console_login_required

logger = logging.getLogger(__name__)

BINDING_ROLES = (ROLE_REVIEWER, ROLE_OFFICIAL)


def needs_binding(user):
    """Tell whether ``user`` should be shown the binding QR code after login."""
    return user.role in BINDING_ROLES and not user.is_bound


@console_blueprint.get("/binding")
@console_login_required(*BINDING_ROLES)
def binding():
    """Show the logged-in user's binding QR code, or that they are bound."""
    user = g.console_user
    if user.is_bound:
        return render_template("console/binding.html", target=user, scene=None)
    return _show_new_binding(user)


@console_blueprint.post("/accounts/<int:user_id>/binding")
@console_login_required(ROLE_ADMIN)
def account_binding(user_id):
    """Show a new binding QR code for a reviewer or official account."""
    target = db.session.get(User, user_id)
    if target is None or target.role not in BINDING_ROLES:
        abort(404)
    return _show_new_binding(target)


def _show_new_binding(target):
    try:
        scene = create_binding(target)
    except BindingError as exc:
        logger.warning(
            "console binding QR failed user_id=%s code=%s", target.id, exc.code
        )
        flash(exc.user_message, "error")
        return render_template("console/binding.html", target=target, scene=None), 503
    return render_template("console/binding.html", target=target, scene=scene)


def _visible_scene(scene_text):
    """Return the scene if the viewer owns it, or is an admin; else 404."""
    scene = BindingScene.query.filter_by(scene=scene_text[:64]).one_or_none()
    user = g.console_user
    if scene is None or (scene.user_id != user.id and user.role != ROLE_ADMIN):
        abort(404)
    return scene


@console_blueprint.get("/binding/<scene_text>/qr.png")
@console_login_required(allow_password_change=True)
def binding_qr(scene_text):
    scene = _visible_scene(scene_text)
    return current_app.response_class(qr_png(scene), mimetype="image/png")


@console_blueprint.get("/binding/<scene_text>/status")
@console_login_required(allow_password_change=True)
def binding_state(scene_text):
    """Return the scene's status for the page's polling script."""
    scene = _visible_scene(scene_text)
    db.session.refresh(scene.user)
    return jsonify(
        {
            "status": binding_status(scene),
            "bound": scene.user.is_bound,
            "next_url": url_for("console.dashboard"),
        }
    )
