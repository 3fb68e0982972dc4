"""Who may open which console page: every page for every role.

The roles are anonymous, a staff account, the reviewer of the project's
town, a reviewer of another town, the town's official, a district official
and an admin. A staff account's login is rejected, and a session forged for
it is ignored. Each test compares the whole table of status codes, so a
failure names the page.
"""

from datetime import datetime, timedelta

import pytest

from models import User, db, utcnow
from tests.console.conftest import ConsoleClient, bind_user, console_as, text_of

OK, REDIRECT, FORBIDDEN, MISSING = 200, 302, 403, 404

# GET pages and the status each role gets; {pid}/{gc} are filled in.
GET_TABLE = {
    "/console/dashboard": dict(
        rev_gc=OK, rev_jj=OK, off_gc=OK, off_district=OK, admin=OK
    ),
    "/console/projects": dict(
        rev_gc=OK, rev_jj=OK, off_gc=OK, off_district=OK, admin=OK
    ),
    "/console/projects/{pid}": dict(
        rev_gc=OK, rev_jj=MISSING, off_gc=OK, off_district=OK, admin=OK
    ),
    "/console/duplicates": dict(
        rev_gc=OK, rev_jj=OK, off_gc=OK, off_district=OK, admin=OK
    ),
    "/console/exports": dict(
        rev_gc=OK, rev_jj=OK, off_gc=OK, off_district=OK, admin=OK
    ),
    "/console/review/bulk": dict(
        rev_gc=OK, rev_jj=OK, off_gc=FORBIDDEN, off_district=FORBIDDEN, admin=FORBIDDEN
    ),
    "/console/notices": dict(
        rev_gc=FORBIDDEN, rev_jj=FORBIDDEN, off_gc=OK, off_district=OK, admin=OK
    ),
    "/console/binding": dict(
        rev_gc=OK, rev_jj=OK, off_gc=OK, off_district=OK, admin=FORBIDDEN
    ),
    "/console/password": dict(
        rev_gc=OK, rev_jj=OK, off_gc=OK, off_district=OK, admin=OK
    ),
}
ADMIN_ONLY = (
    "/console/towns",
    "/console/towns/{gc}",
    "/console/accounts",
    "/console/companies",
    "/console/staff",
    "/console/messages",
    "/console/schedule",
    "/console/rq/",
)
for _path in ADMIN_ONLY:
    GET_TABLE[_path] = dict(
        rev_gc=FORBIDDEN,
        rev_jj=FORBIDDEN,
        off_gc=FORBIDDEN,
        off_district=FORBIDDEN,
        admin=OK,
    )
CONSOLE_ROLES = ("rev_gc", "rev_jj", "off_gc", "off_district", "admin")


def _paths(world):
    return {
        template: template.format(pid=world.project_id, gc=world.guicheng_id)
        for template in GET_TABLE
    }


def _statuses(console, world):
    return {
        template: console.get(path).status_code
        for template, path in _paths(world).items()
    }


@pytest.mark.parametrize("username", CONSOLE_ROLES)
def test_get_pages_by_role(app, world, username):
    bind_user(app, world.users[username], f"openid-{username}")
    console = console_as(app, username)

    statuses = _statuses(console, world)

    expected = {template: row[username] for template, row in GET_TABLE.items()}
    assert statuses == expected


def test_anonymous_is_sent_to_login(app, world):
    console = ConsoleClient(app)

    for template, path in _paths(world).items():
        response = console.get(path)
        assert response.status_code == REDIRECT, template
        assert response.headers["Location"].startswith("/console/login"), template


def test_staff_login_is_refused(app, world):
    console = ConsoleClient(app)

    response = console.login("staff_pw")

    assert response.status_code == 401
    assert "物业项目用户请在微信小程序中填报" in text_of(response)
    assert console.get("/console/dashboard").status_code == REDIRECT


def test_forged_staff_session_is_ignored(app, world):
    from wxapp_backend.console.access import password_stamp

    console = ConsoleClient(app)
    with app.app_context():
        staff = db.session.get(User, world.staff_id)
        stamp = password_stamp(staff)
    with console.client.session_transaction() as session:
        session["console_user_id"] = world.staff_id
        session["console_stamp"] = stamp
        session["console_login_at"] = utcnow().isoformat()

    statuses = set(_statuses(console, world).values())

    assert statuses == {REDIRECT}


def test_expired_session_is_sent_to_login(app, world):
    console = console_as(app, "admin")
    with console.client.session_transaction() as session:
        old = datetime.fromisoformat(session["console_login_at"]) - timedelta(hours=13)
        session["console_login_at"] = old.isoformat()

    response = console.get("/console/dashboard")

    assert response.status_code == REDIRECT
    assert response.headers["Location"].startswith("/console/login")


def _post_statuses(app, world, username):
    """POST each form once as ``username``; return ``{name: status}``."""
    console = console_as(app, username)
    gc = world.guicheng_id
    forms = {
        "town_edit": (f"/console/towns/{gc}", {"name": "桂城街道", "active": "1"}),
        "account_create": (
            "/console/accounts",
            {
                "role": "reviewer",
                "town": str(gc),
                "username": f"new_{username}",
                "name": "新复核员",
            },
        ),
        "company_disable": ("/console/companies/1/disabled", {"disabled": "0"}),
        "staff_disable": (
            f"/console/staff/{world.staff_id}/disabled",
            {"disabled": "0"},
        ),
        "digest_now": ("/console/schedule/digest", {}),
        "notice": (
            "/console/notices",
            {
                "town": str(gc),
                "publisher": "桂城街道房管所",
                "content": "请尽快完成填报",
            },
        ),
        "export": (
            "/console/exports",
            {"town": str(gc), "format": "csv", "category": "basic"},
        ),
        "bulk": ("/console/review/bulk", {"item": "999999:1"}),
        "duplicate": (
            "/console/duplicates/decide",
            {
                "first_id": str(world.project_id),
                "second_id": "999999",
                "decision": "distinct",
            },
        ),
    }
    return {
        name: console.post(path, data).status_code
        for name, (path, data) in forms.items()
    }


POST_TABLE = {
    # bulk=200 for reviewers: the form names only an entry that does not
    # exist, so it passes the role check and the result page reports it.
    "rev_gc": dict(
        town_edit=403,
        account_create=403,
        company_disable=403,
        staff_disable=403,
        digest_now=403,
        notice=403,
        export=302,
        bulk=200,
        duplicate=404,
    ),
    "rev_jj": dict(
        town_edit=403,
        account_create=403,
        company_disable=403,
        staff_disable=403,
        digest_now=403,
        notice=403,
        export=403,
        bulk=200,
        duplicate=404,
    ),
    "off_gc": dict(
        town_edit=403,
        account_create=403,
        company_disable=403,
        staff_disable=403,
        digest_now=403,
        notice=302,
        export=302,
        bulk=403,
        duplicate=403,
    ),
    "off_district": dict(
        town_edit=403,
        account_create=403,
        company_disable=403,
        staff_disable=403,
        digest_now=403,
        notice=302,
        export=302,
        bulk=403,
        duplicate=403,
    ),
    "admin": dict(
        town_edit=302,
        account_create=201,
        company_disable=302,
        staff_disable=302,
        digest_now=302,
        notice=302,
        export=302,
        bulk=403,
        duplicate=404,
    ),
}


@pytest.mark.parametrize("username", CONSOLE_ROLES)
def test_post_forms_by_role(app, world, username):
    bind_user(app, world.users[username], f"openid-{username}")

    statuses = _post_statuses(app, world, username)

    assert statuses == POST_TABLE[username]


def test_post_without_csrf_token_is_rejected(app, world):
    console = console_as(app, "admin")

    response = console.post(
        f"/console/towns/{world.guicheng_id}", {"name": "改名"}, csrf=False
    )

    assert response.status_code == 400
    assert "页面已过期或来源无效" in text_of(response)
    with app.app_context():
        from models import Town

        assert db.session.get(Town, world.guicheng_id).name == "桂城街道"


def test_console_pages_send_security_headers(app, world):
    console = console_as(app, "admin")

    response = console.get("/console/dashboard")

    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert response.headers["Cache-Control"] == "private, no-store"
    cookie = console.client.get_cookie("session")
    assert cookie.http_only is True
    assert cookie.same_site == "Lax"
