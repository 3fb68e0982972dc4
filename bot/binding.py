"""Bind a user's service-account openid by QR scan, and the binding API.

A logged-in user asks for a binding QR code. The server creates a temporary
``QR_STR_SCENE`` code whose scene is a one-time random string, and stores
the scene with its owner. Scanning it makes WeChat push ``subscribe`` (new
follower, EventKey ``qrscene_<scene>``) or ``SCAN`` (existing follower,
bare scene) to the callback, which calls ``bind_scene`` with the pushing
openid. The mini-program polls the scene's status.
https://developers.weixin.qq.com/doc/offiaccount/Account_Management/Generating_a_Parametric_QR_Code.html
"""

import io
import logging
import secrets
from datetime import timedelta

import qrcode
from flask import Blueprint, current_app, g, jsonify
from sqlalchemy import func, update

from bot.errors import AccessTokenError, WeChatAPIError, WeChatNetworkError
from bot.sender import TOKEN_ERRCODES
from bot.web import wechat_services
from models import BindingScene, User, db, utcnow
from models.audit import record
from wxapp_backend.api.session import login_required
from wxapp_backend.errors import ApiError

logger = logging.getLogger(__name__)

STATUS_PENDING = "pending"
STATUS_BOUND = "bound"
STATUS_EXPIRED = "expired"

# QR codes one user may request per hour. Each one is a qrcode/create call
# against the account's daily API quota.
MAX_BINDINGS_PER_HOUR = 20

# 24 random bytes give a 32-character URL-safe scene, within WeChat's 64.
SCENE_BYTES = 24

REPLY_BOUND = "绑定成功：{name}（{role}）。之后的通知和提醒将通过本服务号发送。"
REPLY_UNKNOWN = "该二维码无效，未完成绑定。请重新获取绑定二维码后再扫码。"
REPLY_USED = "该绑定二维码已使用过，本次未绑定。如需重新绑定，请重新获取二维码。"
REPLY_EXPIRED = "该绑定二维码已过期，未完成绑定。请重新获取绑定二维码后再扫码。"
REPLY_DISABLED = "该账号已停用，未完成绑定。请联系所在镇街房管所。"


class BindingError(Exception):
    """A binding QR code could not be created.

    ``status`` and ``code`` are for the API response, ``user_message`` is
    Chinese text to show as is.
    """

    def __init__(self, status, code, user_message):
        super().__init__(f"{code}: {user_message}")
        self.status = status
        self.code = code
        self.user_message = user_message


def create_binding(user, now=None):
    """Create a one-time binding QR code for ``user`` and return its ``BindingScene``.

    The expiry is always set (``BINDING_QR_TTL_SECONDS``) because WeChat's
    default is only 60 seconds. Commits the new row. Raises
    ``BindingError`` when the user asked too often or WeChat failed.
    """
    now = now or utcnow()
    _check_rate(user, now)
    scene = secrets.token_urlsafe(SCENE_BYTES)
    ttl = current_app.config["BINDING_QR_TTL_SECONDS"]
    qr = _create_qrcode(scene, ttl)

    binding = BindingScene(
        scene=scene,
        user_id=user.id,
        ticket=qr["ticket"],
        url=qr["url"],
        created_at=now,
        expires_at=now + timedelta(seconds=min(ttl, qr["expire_seconds"])),
    )
    db.session.add(binding)
    db.session.commit()
    logger.info("Binding QR created user_id=%s binding_id=%s", user.id, binding.id)
    return binding


def binding_status(binding, now=None):
    """Return ``"bound"``, ``"expired"`` or ``"pending"`` for ``binding``."""
    if binding.used_at is not None:
        return STATUS_BOUND
    if (now or utcnow()) >= binding.expires_at:
        return STATUS_EXPIRED
    return STATUS_PENDING


def qr_png(binding):
    """Render the binding's QR code (the ``url`` WeChat returned) as PNG bytes."""
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=2
    )
    code.add_data(binding.url)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer, format="PNG")
    return buffer.getvalue()


def _check_rate(user, now):
    since = now - timedelta(hours=1)
    count = db.session.scalar(
        db.select(func.count(BindingScene.id)).where(
            BindingScene.user_id == user.id, BindingScene.created_at >= since
        )
    )
    if count >= MAX_BINDINGS_PER_HOUR:
        logger.warning("Binding QR rate limit reached user_id=%s", user.id)
        raise BindingError(
            429, "too_many_bindings", "获取绑定二维码过于频繁，请一小时后再试"
        )


def _create_qrcode(scene, ttl):
    """Call qrcode/create, refreshing the shared token once if WeChat rejects it."""
    services = wechat_services()
    try:
        token = services.token_store.get()
        try:
            return services.client.create_temp_qrcode(scene, ttl, access_token=token)
        except WeChatAPIError as exc:
            if exc.errcode not in TOKEN_ERRCODES:
                raise
        token = services.token_store.force_refresh(token)
        return services.client.create_temp_qrcode(scene, ttl, access_token=token)
    except (AccessTokenError, WeChatAPIError, WeChatNetworkError) as exc:
        logger.error("Binding QR creation failed error=%s", exc)
        raise BindingError(
            503, "wechat_unavailable", "暂时无法生成绑定二维码，请稍后再试"
        ) from None


def bind_scene(scene, openid, now=None):
    """Bind ``openid`` to the owner of ``scene`` and return the reply text.

    An unknown, used or expired scene, or a disabled owner, binds nothing
    and returns the reply text that explains why. The caller commits.
    """
    now = now or utcnow()
    binding = BindingScene.query.filter_by(scene=scene).one_or_none()
    reason = _rejection_reason(binding, now)
    if reason is not None:
        logger.info(
            "Binding rejected reason=%s binding_id=%s openid=%s",
            reason,
            binding.id if binding else None,
            mask_openid(openid),
        )
        return _REJECTION_REPLIES[reason]
    if not _claim(binding, openid, now):
        logger.info("Binding rejected reason=used binding_id=%s", binding.id)
        return REPLY_USED

    user = binding.user
    attach_openid(user, openid, now, binding_id=binding.id)
    return REPLY_BOUND.format(name=user.name, role=user.role_label)


_REJECTION_REPLIES = {
    "unknown": REPLY_UNKNOWN,
    "used": REPLY_USED,
    "expired": REPLY_EXPIRED,
    "disabled": REPLY_DISABLED,
}


def _rejection_reason(binding, now):
    if binding is None:
        return "unknown"
    if binding.used_at is not None:
        return "used"
    if now >= binding.expires_at:
        return "expired"
    if binding.user.disabled:
        return "disabled"
    return None


def _claim(binding, openid, now):
    """Mark the scene used unless another push claimed it first."""
    result = db.session.execute(
        update(BindingScene)
        .where(BindingScene.id == binding.id, BindingScene.used_at.is_(None))
        .values(used_at=now, bound_openid=openid)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(binding)
    return result.rowcount == 1


def attach_openid(user, openid, now, binding_id=None):
    """Make ``openid`` the service-account openid of ``user`` and record it.

    One openid belongs to one user, so a user who held it loses it. Both
    changes are audit events. The caller commits.
    """
    previous = User.query.filter(
        User.service_openid == openid, User.id != user.id
    ).one_or_none()
    if previous is not None:
        previous.service_openid = None
        previous.reachable = False
        previous.bound_at = None
        record(
            user,
            "user",
            previous.id,
            "wechat_unbound",
            detail={"openid": openid, "moved_to_user_id": user.id},
        )
        # The unique openid column must be cleared before the new owner's
        # row is written, and the flush order of two users is not ours.
        db.session.flush()
        logger.info(
            "Service openid moved from_user_id=%s to_user_id=%s",
            previous.id,
            user.id,
        )

    replaced_openid = user.service_openid
    user.service_openid = openid
    user.reachable = True
    user.bound_at = now
    detail = {"openid": openid, "binding_id": binding_id}
    if replaced_openid and replaced_openid != openid:
        detail["replaced_openid"] = replaced_openid
    if previous is not None:
        detail["moved_from_user_id"] = previous.id
    record(user, "user", user.id, "wechat_bound", detail=detail)
    logger.info("Service openid bound user_id=%s binding_id=%s", user.id, binding_id)


def set_following(openid, following):
    """Set ``reachable`` of the user bound to ``openid``, and return that user.

    ``unsubscribe`` makes the user unreachable, so later template messages
    skip them. A new ``subscribe`` makes them reachable again. Returns None
    when no user has this openid. The caller commits.
    """
    user = User.query.filter_by(service_openid=openid).one_or_none()
    if user is None:
        return None
    if user.reachable != following:
        user.reachable = following
        logger.info(
            "Service account follow changed user_id=%s following=%s", user.id, following
        )
    return user


def mask_openid(openid):
    """Return the openid with all but its last four characters hidden, for logs."""
    text = str(openid or "")
    return "*" * max(len(text) - 4, 0) + text[-4:]


# ---------------------------------------------------------------------------
# The binding API of the mini-program.

blueprint = Blueprint("wechat_binding", __name__, url_prefix="/api/wechat")


@blueprint.post("/binding")
@login_required()
def create_binding_view():
    try:
        binding = create_binding(g.user)
    except BindingError as exc:
        raise ApiError(exc.status, exc.user_message, code=exc.code) from None
    return jsonify(_binding_body(binding, g.user)), 201


@blueprint.get("/binding/<scene>")
@login_required()
def binding_status_view(scene):
    binding = _owned_binding(scene)
    return jsonify(_binding_body(binding, g.user))


@blueprint.get("/binding/<scene>/qr.png")
@login_required()
def binding_qr_view(scene):
    binding = _owned_binding(scene)
    if binding_status(binding) == STATUS_EXPIRED:
        raise ApiError(410, "绑定二维码已过期，请重新获取", code="binding_expired")
    response = current_app.response_class(qr_png(binding), mimetype="image/png")
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _owned_binding(scene):
    binding = BindingScene.query.filter_by(scene=scene[:64]).one_or_none()
    # Another user's scene gets the same 404 as a missing one, so scenes
    # cannot be probed.
    if binding is None or binding.user_id != g.user.id:
        raise ApiError(404, "绑定二维码不存在", code="binding_not_found")
    return binding


def _binding_body(binding, user):
    return {
        "binding": {
            "scene": binding.scene,
            "status": binding_status(binding),
            "expires_at": binding.expires_at.isoformat(),
            "qr_image_url": f"/api/wechat/binding/{binding.scene}/qr.png",
        },
        "wechat_bound": user.is_bound,
    }
