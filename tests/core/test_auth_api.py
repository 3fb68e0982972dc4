"""Login by wx.login code, registration, password login, throttling."""

import io

from models import User
from models.account import ROLE_REVIEWER
from tests.factories import PASSWORD, make_account, password_login, png_bytes, register_staff


def test_wx_login_unknown_user_needs_registration(client, sandbox):
    code = sandbox.wx_login_code()["code"]
    body = client.post("/api/auth/wx-login", json={"code": code}).get_json()
    assert body["registered"] is False
    assert body["user"] is None
    assert "session_key" not in str(body)


def test_wx_login_reused_code_rejected(client, sandbox):
    code = sandbox.wx_login_code()["code"]
    client.post("/api/auth/wx-login", json={"code": code})
    response = client.post("/api/auth/wx-login", json={"code": code})
    assert response.status_code == 401
    assert response.get_json()["error"]["errcode"] == 40163


def test_wx_login_unknown_code_rejected(client, sandbox):
    response = client.post("/api/auth/wx-login", json={"code": "no-such-code"})
    assert response.status_code == 401
    assert response.get_json()["error"]["errcode"] == 40029


def test_register_then_wx_login_finds_user(app, client, sandbox):
    staff = register_staff(client, sandbox, openid="openid-staff-1")
    assert staff.user["role"] == "staff"
    code = sandbox.wx_login_code("openid-staff-1")["code"]
    body = client.post("/api/auth/wx-login", json={"code": code}).get_json()
    assert body["registered"] is True
    assert body["user"]["id"] == staff.user["id"]


def test_register_field_errors_named(client, sandbox):
    code = sandbox.wx_login_code()["code"]
    token = client.post("/api/auth/wx-login", json={"code": code}).get_json()["token"]
    response = client.post("/api/auth/register", headers={"Authorization": f"Bearer {token}"},
                           content_type="multipart/form-data", data={
        "name": "王五", "mobile": "12345", "id_number": "36042619910102009X",
        "company_name": "佛山某物业有限公司", "credit_code": "9111000060003IOZSV",
        "id_proof": (io.BytesIO(png_bytes()), "a.png")})
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert set(fields) == {"mobile", "id_number", "credit_code"}
    assert fields["id_number"] == "居民身份证号码校验位不正确，请核对号码，特别是最后一位"


def test_register_rejects_non_image_proof(client, sandbox):
    code = sandbox.wx_login_code()["code"]
    token = client.post("/api/auth/wx-login", json={"code": code}).get_json()["token"]
    response = client.post("/api/auth/register", headers={"Authorization": f"Bearer {token}"},
                           content_type="multipart/form-data", data={
        "name": "王五", "mobile": "13800138000", "id_number": "11010519491231002X",
        "company_name": "佛山某物业有限公司", "credit_code": "91110000600037341L",
        "id_proof": (io.BytesIO(b"MZ\x90\x00 not an image"), "a.png")})
    assert response.status_code == 422
    assert "id_proof" in response.get_json()["error"]["fields"]


def test_password_login_links_miniprogram(app, client, sandbox):
    with app.app_context():
        make_account(ROLE_REVIEWER, "rev1", "shishan")
    code = sandbox.wx_login_code("openid-rev-1")["code"]
    response = client.post("/api/auth/password-login", json={
        "username": "rev1", "password": PASSWORD, "code": code})
    assert response.status_code == 200
    later = sandbox.wx_login_code("openid-rev-1")["code"]
    body = client.post("/api/auth/wx-login", json={"code": later}).get_json()
    assert body["user"]["username"] == "rev1"


def test_failed_logins_lock_account(app, client):
    with app.app_context():
        make_account(ROLE_REVIEWER, "rev2", "dali")
    for _ in range(5):
        response = client.post("/api/auth/password-login",
                               json={"username": "rev2", "password": "wrong"})
        assert response.status_code == 401
    response = client.post("/api/auth/password-login",
                           json={"username": "rev2", "password": PASSWORD})
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "login_locked"


def test_first_login_requires_password_change(app, client):
    with app.app_context():
        make_account(ROLE_REVIEWER, "rev3", "dali", must_change=True)
    api = password_login(client, "rev3")
    response = api.get("/api/review/projects")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "password_change_required"
    weak = api.post("/api/auth/change-password",
                    json={"old_password": PASSWORD, "new_password": "short"})
    assert weak.status_code == 422
    ok = api.post("/api/auth/change-password",
                  json={"old_password": PASSWORD, "new_password": "NewPass2026"})
    assert ok.status_code == 200
    assert api.get("/api/review/projects").status_code == 200
    with app.app_context():
        user = User.query.filter_by(username="rev3").one()
        assert user.must_change_password is False
        assert user.check_password("NewPass2026") is True


def test_logout_ends_session(app, client):
    with app.app_context():
        make_account(ROLE_REVIEWER, "rev4", "dali")
    api = password_login(client, "rev4")
    assert api.post("/api/auth/logout").status_code == 200
    assert api.get("/api/me").status_code == 401


def test_two_sessions_on_one_account(app, client):
    with app.app_context():
        make_account(ROLE_REVIEWER, "rev5", "dali")
    first = password_login(client, "rev5")
    second = password_login(client, "rev5")
    assert first.get("/api/me").status_code == 200
    assert second.get("/api/me").status_code == 200
