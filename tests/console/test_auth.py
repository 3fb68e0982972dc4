"""Console login, lockout, the forced first password change and logout."""

from models import AuditEvent, User, db
from tests.console.conftest import ConsoleClient, console_as, text_of
from tests.factories import PASSWORD, make_account

NEW_PASSWORD = "Console2026new"


def _user(app, username):
    with app.app_context():
        user = User.query.filter_by(username=username).one()
        db.session.expunge(user)
        return user


def test_login_opens_dashboard(app, world):
    console = ConsoleClient(app)

    response = console.login("admin")

    assert response.status_code == 302
    assert response.headers["Location"] == "/console/dashboard"
    assert "进度总览" in text_of(console.get("/console/dashboard"))


def test_wrong_password_is_rejected(app, world):
    console = ConsoleClient(app)

    response = console.login("admin", "Wrong2026pass")

    assert response.status_code == 401
    assert "用户名或密码错误" in text_of(response)
    assert _user(app, "admin").failed_logins == 1


def test_unknown_username_is_rejected_like_a_wrong_password(app, world):
    response = ConsoleClient(app).login("nobody", "Wrong2026pass")

    assert response.status_code == 401
    assert "用户名或密码错误" in text_of(response)


def test_repeated_failures_lock_the_account(app, world):
    console = ConsoleClient(app)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        console.login("admin", "Wrong2026pass")

    response = console.login("admin", PASSWORD)

    assert response.status_code == 401
    assert "密码错误次数过多，请15分钟后再试" in text_of(response)
    assert _user(app, "admin").locked_until is not None


def test_disabled_account_is_refused(app, world):
    with app.app_context():
        db.session.get(User, world.users["off_gc"]).disabled = True
        db.session.commit()

    response = ConsoleClient(app).login("off_gc")

    assert response.status_code == 401
    assert "账号已停用" in text_of(response)


def test_first_login_must_change_password(app, world):
    with app.app_context():
        make_account("admin", "fresh_admin", must_change=True)
    console = ConsoleClient(app)

    login = console.login("fresh_admin")
    blocked = console.get("/console/dashboard")

    assert login.headers["Location"] == "/console/password"
    assert blocked.status_code == 302
    assert blocked.headers["Location"] == "/console/password"
    assert "首次登录请先修改初始密码" in text_of(console.get("/console/password"))


def test_weak_new_password_is_rejected(app, world):
    with app.app_context():
        make_account("admin", "fresh_admin", must_change=True)
    console = ConsoleClient(app)
    console.login("fresh_admin")

    response = console.post(
        "/console/password",
        {
            "old_password": PASSWORD,
            "new_password": "onlyletters",
            "confirm_password": "onlyletters",
        },
    )

    assert response.status_code == 422
    assert "新密码应同时包含字母和数字" in text_of(response)
    assert _user(app, "fresh_admin").must_change_password is True


def test_mismatched_confirmation_is_rejected(app, world):
    console = console_as(app, "admin")

    response = console.post(
        "/console/password",
        {
            "old_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD + "x",
        },
    )

    assert response.status_code == 422
    assert "两次输入的新密码不一致" in text_of(response)


def test_password_change_unlocks_the_console(app, world):
    with app.app_context():
        make_account("admin", "fresh_admin", must_change=True)
    console = ConsoleClient(app)
    console.login("fresh_admin")

    response = console.post(
        "/console/password",
        {
            "old_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/console/dashboard"
    assert console.get("/console/dashboard").status_code == 200
    user = _user(app, "fresh_admin")
    assert user.must_change_password is False
    assert user.check_password(NEW_PASSWORD)
    with app.app_context():
        actions = [e.action for e in AuditEvent.query.filter_by(object_id=user.id)]
    assert "change_password" in actions


def test_unbound_reviewer_is_shown_binding_after_login(app, world):
    response = ConsoleClient(app).login("rev_gc")

    assert response.headers["Location"] == "/console/binding"


def test_logout_ends_the_session(app, world):
    console = console_as(app, "admin")

    response = console.post("/console/logout")

    assert response.headers["Location"] == "/console/login"
    assert console.get("/console/dashboard").status_code == 302


def test_password_reset_ends_other_sessions(app, world):
    reviewer = console_as(app, "off_gc")
    admin = console_as(app, "admin")

    admin.post(f"/console/accounts/{world.users['off_gc']}/reset-password")

    response = reviewer.get("/console/dashboard")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/console/login")


def test_next_parameter_stays_on_the_console(app, world):
    inside = ConsoleClient(app)
    outside = ConsoleClient(app)

    followed = inside.post(
        "/console/login?next=/console/projects?status=pending",
        {"username": "admin", "password": PASSWORD},
    )
    dropped = outside.post(
        "/console/login?next=https://example.com/console/x",
        {"username": "admin", "password": PASSWORD},
    )

    assert followed.headers["Location"] == "/console/projects?status=pending"
    assert dropped.headers["Location"] == "/console/dashboard"
