"""Bearer-token sessions of the API and the request helpers every view uses."""

import functools
import logging

from flask import current_app, g, request
from sqlalchemy.orm import joinedload

from models import ApiSession, db, utcnow
from wxapp_backend.errors import ApiError

logger = logging.getLogger(__name__)


def _load_session():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    # The user comes in the same query: every authenticated request needs it.
    session = (
        ApiSession.query.options(joinedload(ApiSession.user))
        .filter_by(token_hash=ApiSession.hash_token(token.strip()))
        .one_or_none()
    )
    if session is None or session.expires_at <= utcnow():
        return None
    if session.user is not None and session.user.disabled:
        return None
    return session


def login_required(*roles, allow_unregistered=False, allow_password_change=False):
    """Require a valid session, and one of ``roles`` when any are given.

    A session without a user (``wx.login`` before registration) passes only
    where ``allow_unregistered`` is set. Accounts that must change their
    first password reach only the routes that set ``allow_password_change``.
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            session = _load_session()
            if session is None:
                raise ApiError(401, "登录已失效，请重新登录")
            g.api_session = session
            g.user = session.user
            if g.user is None:
                if not allow_unregistered:
                    raise ApiError(403, "请先完成注册", code="registration_required")
            else:
                _check_role(g.user, roles, allow_password_change)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def _check_role(user, roles, allow_password_change):
    if user.must_change_password and not allow_password_change:
        raise ApiError(403, "首次登录请先修改密码", code="password_change_required")
    if roles and user.role not in roles:
        raise ApiError(403)


def json_body(required=(), optional=()):
    """Return the request's JSON object with only the named keys.

    Raises a 400 for a body that is not a JSON object, a 413 for one over
    ``API_JSON_MAX_BYTES`` and a 400 naming each missing key.
    """
    limit = current_app.config["API_JSON_MAX_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413)
    raw = request.get_data(cache=True)
    if len(raw) > limit:
        raise ApiError(413)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ApiError(400, "请求内容应为JSON对象", code="invalid_json")
    missing = {key: "缺少该字段" for key in required if key not in payload}
    if missing:
        raise ApiError(400, "请求缺少必填字段", code="missing_fields", fields=missing)
    return {key: payload[key] for key in (*required, *optional) if key in payload}


def require_string(body, key, label, max_length=200):
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(
            400,
            f"{label}不能为空",
            code="invalid_field",
            fields={key: f"请填写{label}"},
        )
    if len(value) > max_length:
        raise ApiError(
            400,
            f"{label}过长",
            code="invalid_field",
            fields={key: f"{label}不能超过{max_length}个字符"},
        )
    return value.strip()


# Far beyond any real list, and small enough that the row offset fits the
# databases' integer types.
MAX_PAGE = 1_000_000


def page_arguments(default_size=20, max_size=100):
    try:
        page = int(request.args.get("page", 1))
        size = int(request.args.get("per_page", default_size))
    except ValueError:
        raise ApiError(
            400, "分页参数应为整数", code="invalid_query", fields={"page": "应为正整数"}
        ) from None
    if not 1 <= page <= MAX_PAGE:
        raise ApiError(
            400,
            "页码超出范围",
            code="invalid_query",
            fields={"page": f"应为1到{MAX_PAGE}之间的整数"},
        )
    if size < 1 or size > max_size:
        raise ApiError(
            400,
            "分页参数超出范围",
            code="invalid_query",
            fields={"per_page": f"应为1到{max_size}之间的整数"},
        )
    return page, size


# Integer primary keys are 32-bit on PostgreSQL, so a larger id names no row;
# SQLite's driver would even raise OverflowError on one past 64 bits.
MAX_ROW_ID = 2**31 - 1


def get_row(model, row_id):
    """Return the ``model`` row with ``row_id``, or None for a missing or bad id."""
    if not isinstance(row_id, int) or isinstance(row_id, bool):
        return None
    if not 0 < row_id <= MAX_ROW_ID:
        return None
    return db.session.get(model, row_id)


def open_session(user=None, openid=None, session_key=None):
    ttl = current_app.config["SESSION_TTL_HOURS"]
    session, token = ApiSession.open(
        ttl, user=user, openid=openid, session_key=session_key
    )
    db.session.flush()
    return session, token
