"""Login, registration, password change and logout."""

import logging
import re
from datetime import timedelta

from flask import current_app, g, jsonify, request
from sqlalchemy.exc import IntegrityError

from bot.miniprogram import MiniProgramLoginError, code_to_session
from models import Company, User, db, utcnow
from models.account import ROLE_STAFF
from models.audit import record
from models.validators import (
    FieldInvalid,
    validate_credit_code,
    validate_id_number,
    validate_mobile,
)
from wxapp_backend.api import api_blueprint
from wxapp_backend.api.session import (
    json_body,
    login_required,
    open_session,
    require_string,
)
from wxapp_backend.errors import ApiError
from wxapp_backend.uploads import store_upload

logger = logging.getLogger(__name__)

# A real hash to compare against when the username is unknown, so that the
# response time does not reveal which usernames exist.
_DUMMY_USER = User(name="", role="admin")
_DUMMY_USER.set_password("not-a-real-password")


def _exchange_code(code):
    config = current_app.config
    try:
        return code_to_session(
            config["WECHAT_API_BASE_URL"],
            config["MINIPROGRAM_APP_ID"],
            config["MINIPROGRAM_APP_SECRET"],
            code,
            config["WECHAT_HTTP_TIMEOUT"],
        )
    except MiniProgramLoginError as exc:
        logger.info("wx.login code rejected errcode=%s", exc.errcode)
        if exc.errcode is None:
            raise ApiError(503, exc.user_message, code="wechat_unavailable") from None
        raise ApiError(
            401,
            exc.user_message,
            code="wechat_login_failed",
            fields={"code": exc.user_message},
            errcode=exc.errcode,
        ) from None


def _login_response(user, token):
    return jsonify(
        {
            "token": token,
            "registered": user is not None,
            "user": user.to_dict() if user is not None else None,
        }
    )


@api_blueprint.post("/auth/wx-login")
def wx_login():
    body = json_body(required=("code",))
    code = require_string(body, "code", "登录凭证", max_length=128)
    wechat = _exchange_code(code)
    user = User.query.filter_by(miniprogram_openid=wechat["openid"]).one_or_none()
    if user is not None and user.disabled:
        raise ApiError(403, "账号已停用，请联系所在镇街房管所", code="account_disabled")
    _, token = open_session(
        user=user, openid=wechat["openid"], session_key=wechat.get("session_key")
    )
    db.session.commit()
    return _login_response(user, token)


@api_blueprint.post("/auth/password-login")
def password_login():
    """Log in reviewers, officials and admins with username and password.

    With a ``code`` from ``wx.login`` the mini-program openid is linked to
    the account, so later mini-program logins need only the code.
    """
    body = json_body(required=("username", "password"), optional=("code",))
    username = require_string(body, "username", "用户名", max_length=40)
    password = body["password"] if isinstance(body["password"], str) else ""
    user = User.query.filter_by(username=username).one_or_none()
    _check_lock(user)
    if user is None or not user.check_password(password):
        if user is None:
            _DUMMY_USER.check_password(password)
        _count_failure(user)
        raise ApiError(401, "用户名或密码错误", code="bad_credentials")
    if user.disabled:
        raise ApiError(403, "账号已停用，请联系管理员", code="account_disabled")

    user.failed_logins = 0
    user.locked_until = None
    openid, session_key = None, None
    if isinstance(body.get("code"), str) and body["code"].strip():
        wechat = _exchange_code(body["code"].strip())
        openid, session_key = wechat["openid"], wechat.get("session_key")
        _link_miniprogram(user, openid)
    _, token = open_session(user=user, openid=openid, session_key=session_key)
    db.session.commit()
    return _login_response(user, token)


def _check_lock(user):
    if user is not None and user.locked_until and user.locked_until > utcnow():
        minutes = max(1, int((user.locked_until - utcnow()).total_seconds() // 60) + 1)
        raise ApiError(
            429, f"密码错误次数过多，请{minutes}分钟后再试", code="login_locked"
        )


def _count_failure(user):
    if user is None:
        return
    user.failed_logins += 1
    config = current_app.config
    if user.failed_logins >= config["LOGIN_MAX_FAILURES"]:
        user.locked_until = utcnow() + timedelta(minutes=config["LOGIN_LOCK_MINUTES"])
        user.failed_logins = 0
        logger.warning("login locked user_id=%s", user.id)
    db.session.commit()


def _link_miniprogram(user, openid):
    other = User.query.filter_by(miniprogram_openid=openid).one_or_none()
    if other is not None and other.id != user.id:
        raise ApiError(
            409, "该微信已绑定其他账号，请使用原账号登录", code="openid_taken"
        )
    if user.miniprogram_openid != openid:
        user.miniprogram_openid = openid
        record(user, "user", user.id, "link_miniprogram")


@api_blueprint.post("/auth/register")
@login_required(allow_unregistered=True)
def register():
    """Register a staff account: multipart form fields plus the ``id_proof`` file."""
    if g.user is not None:
        raise ApiError(409, "该微信已注册，无需重复注册", code="already_registered")
    if not g.api_session.miniprogram_openid:
        raise ApiError(
            403, "请在小程序中完成微信登录后再注册", code="wechat_login_required"
        )

    fields = _registration_fields(request.form)
    upload = request.files.get("id_proof")
    if upload is None:
        raise ApiError(
            422,
            "请上传身份证明",
            code="validation_failed",
            fields={"id_proof": "请拍照或从相册选择身份证明（JPG、PNG或PDF）"},
        )
    company = _find_or_create_company(fields["company_name"], fields["credit_code"])
    user = User(
        role=ROLE_STAFF,
        name=fields["name"],
        mobile=fields["mobile"],
        id_number=fields["id_number"],
        company=company,
        miniprogram_openid=g.api_session.miniprogram_openid,
    )
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise ApiError(
            409, "该微信已注册，无需重复注册", code="already_registered"
        ) from None
    stored = store_upload(upload, owner=user, field="id_proof")
    user.id_proof_file_id = stored.id
    g.api_session.user = user
    record(user, "user", user.id, "register", detail={"company_id": company.id})
    db.session.commit()
    return jsonify({"user": user.to_dict()}), 201


def _registration_fields(form):
    errors, values = {}, {}
    name = (form.get("name") or "").strip()
    if not 2 <= len(name) <= 30:
        errors["name"] = "姓名应为2至30个字，请填写真实姓名"
    values["name"] = name
    company_name = re.sub(r"\s+", " ", form.get("company_name") or "").strip()
    if not 2 <= len(company_name) <= 80:
        errors["company_name"] = "企业名称应为2至80个字，请按营业执照填写"
    values["company_name"] = company_name
    checks = {
        "mobile": ("手机号码", validate_mobile),
        "id_number": ("居民身份证号码", validate_id_number),
        "credit_code": ("统一社会信用代码", validate_credit_code),
    }
    for key, (label, check) in checks.items():
        raw = form.get(key) or ""
        if not raw.strip():
            errors[key] = f"请填写{label}"
            continue
        try:
            values[key] = check(raw)
        except FieldInvalid as exc:
            errors[key] = f"{label}{exc}"
    if errors:
        raise ApiError(
            422, "注册信息有误，请按提示修改", code="validation_failed", fields=errors
        )
    return values


def _find_or_create_company(name, credit_code):
    company = Company.query.filter_by(credit_code=credit_code).one_or_none()
    if company is None:
        company = Company(name=name, credit_code=credit_code)
        db.session.add(company)
        return company
    if company.disabled:
        raise ApiError(
            403, "该企业已被停用，请联系所在镇街房管所", code="company_disabled"
        )
    if company.name != name:
        message = f"该统一社会信用代码已登记为“{company.name}”，请核对企业名称"
        raise ApiError(
            422, message, code="validation_failed", fields={"company_name": message}
        )
    return company


@api_blueprint.post("/auth/change-password")
@login_required(allow_password_change=True)
def change_password():
    body = json_body(required=("old_password", "new_password"))
    old, new = body["old_password"], body["new_password"]
    if not isinstance(old, str) or not g.user.check_password(old):
        raise ApiError(
            422,
            "原密码不正确",
            code="validation_failed",
            fields={"old_password": "原密码不正确，请重新输入"},
        )
    problem = password_problem(new, old)
    if problem:
        raise ApiError(
            422, problem, code="validation_failed", fields={"new_password": problem}
        )
    g.user.set_password(new)
    g.user.must_change_password = False
    record(g.user, "user", g.user.id, "change_password")
    db.session.commit()
    return jsonify({"user": g.user.to_dict()})


def password_problem(new, old=None):
    """Return why ``new`` is not an acceptable password, or None."""
    if not isinstance(new, str) or not 8 <= len(new) <= 64:
        return "新密码应为8至64位"
    if not (re.search(r"[A-Za-z]", new) and re.search(r"\d", new)):
        return "新密码应同时包含字母和数字"
    if old is not None and new == old:
        return "新密码不能与原密码相同"
    return None


@api_blueprint.post("/auth/logout")
@login_required(allow_unregistered=True, allow_password_change=True)
def logout():
    db.session.delete(g.api_session)
    db.session.commit()
    return jsonify({"ok": True})


@api_blueprint.get("/me")
@login_required(allow_unregistered=True, allow_password_change=True)
def me():
    user = g.user
    return jsonify(
        {
            "registered": user is not None,
            "user": user.to_dict() if user is not None else None,
        }
    )
