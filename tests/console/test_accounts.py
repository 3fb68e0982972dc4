"""Preset reviewer and official accounts: create, reset, disable; towns; staff."""

import logging
import re

from models import AuditEvent, Company, Town, User, db
from models.masking import mask_id_number
from tests.console.conftest import ConsoleClient, bind_user, console_as, text_of
from tests.factories import PASSWORD

SECRET = re.compile(r'id="new-password">([^<]+)<')


def _create(admin, town_id, username="gc_reviewer2", role="reviewer", name="黄复核"):
    return admin.post(
        "/console/accounts",
        {
            "role": role,
            "town": str(town_id) if town_id else "",
            "username": username,
            "name": name,
        },
    )


def test_created_account_shows_password_once(app, world, caplog):
    admin = console_as(app, "admin")

    with caplog.at_level(logging.DEBUG):
        response = _create(admin, world.guicheng_id)

    password = SECRET.search(text_of(response)).group(1)
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "private, no-store"
    assert password not in caplog.text
    with app.app_context():
        user = User.query.filter_by(username="gc_reviewer2").one()
        assert user.role == "reviewer"
        assert user.town_id == world.guicheng_id
        assert user.must_change_password is True
        assert user.check_password(password)
        event = AuditEvent.query.filter_by(action="create_account").one()
        assert event.actor_id == world.users["admin"]
    assert password not in text_of(admin.get("/console/accounts"))


def test_new_account_must_change_password(app, world):
    admin = console_as(app, "admin")
    password = SECRET.search(text_of(_create(admin, world.guicheng_id))).group(1)

    response = ConsoleClient(app).login("gc_reviewer2", password)

    assert response.headers["Location"] == "/console/password"


def test_generated_password_passes_the_rule():
    from wxapp_backend.api.auth_views import password_problem
    from wxapp_backend.console.accounts import generate_password

    passwords = {generate_password() for _ in range(50)}

    assert len(passwords) == 50
    assert all(password_problem(password) is None for password in passwords)


def test_duplicate_username_is_rejected(app, world):
    admin = console_as(app, "admin")

    response = _create(admin, world.guicheng_id, username="rev_gc")

    assert response.status_code == 422
    assert "用户名“rev_gc”已被使用" in text_of(response)


def test_reviewer_needs_a_town(app, world):
    admin = console_as(app, "admin")

    response = _create(admin, None)

    assert response.status_code == 422
    assert "复核人员必须选择所属镇街" in text_of(response)


def test_official_without_town_is_district_wide(app, world):
    admin = console_as(app, "admin")

    response = _create(admin, None, username="district2", role="official")

    assert response.status_code == 201
    with app.app_context():
        assert User.query.filter_by(username="district2").one().town_id is None


def test_reset_password_replaces_the_old_one(app, world):
    admin = console_as(app, "admin")

    response = admin.post(f"/console/accounts/{world.users['off_gc']}/reset-password")

    password = SECRET.search(text_of(response)).group(1)
    assert ConsoleClient(app).login("off_gc", PASSWORD).status_code == 401
    assert ConsoleClient(app).login("off_gc", password).headers["Location"] == (
        "/console/password"
    )


def test_disabled_account_cannot_log_in(app, world):
    admin = console_as(app, "admin")

    admin.post(f"/console/accounts/{world.users['rev_gc']}/disabled", {"disabled": "1"})

    response = ConsoleClient(app).login("rev_gc")
    assert "账号已停用" in text_of(response)
    admin.post(f"/console/accounts/{world.users['rev_gc']}/disabled", {"disabled": "0"})
    assert ConsoleClient(app).login("rev_gc").status_code == 302


def test_account_list_shows_wechat_binding(app, world):
    bind_user(app, world.users["off_gc"], "o-official")
    admin = console_as(app, "admin")

    page = text_of(admin.get("/console/accounts?role=official"))

    row = page.split('data-username="off_gc"')[1].split("</tr>")[0]
    assert "已绑定" in row
    assert 'data-username="rev_gc"' not in page


def test_town_edit_renames_and_deactivates(app, world):
    admin = console_as(app, "admin")

    response = admin.post(
        f"/console/towns/{world.jiujiang_id}", {"name": "九江镇（测试）"}
    )

    assert response.status_code == 302
    with app.app_context():
        town = db.session.get(Town, world.jiujiang_id)
        assert town.name == "九江镇（测试）"
        assert town.active is False
        event = AuditEvent.query.filter_by(object_type="town").one()
        assert event.detail["before"] == {"name": "九江镇", "active": True}
    dashboard = text_of(admin.get("/console/dashboard"))
    assert 'data-town="九江镇（测试）"' not in dashboard
    assert 'data-town="桂城街道"' in dashboard


def test_empty_town_name_is_rejected(app, world):
    admin = console_as(app, "admin")

    response = admin.post(
        f"/console/towns/{world.jiujiang_id}", {"name": " ", "active": "1"}
    )

    assert response.status_code == 422
    assert "镇街名称应为1至40个字" in text_of(response)


def test_staff_list_masks_id_numbers(app, world):
    with app.app_context():
        id_number = db.session.get(User, world.staff_id).id_number
    admin = console_as(app, "admin")

    page = text_of(admin.get("/console/staff"))

    assert mask_id_number(id_number) in page
    assert id_number not in page


def test_disabled_staff_loses_api_access(app, world, client):
    admin = console_as(app, "admin")
    bearer = {"Authorization": f"Bearer {world.staff_token}"}
    assert client.get("/api/me", headers=bearer).status_code == 200

    admin.post(f"/console/staff/{world.staff_id}/disabled", {"disabled": "1"})

    assert client.get("/api/me", headers=bearer).status_code == 401
    with app.app_context():
        assert db.session.get(User, world.staff_id).disabled is True
        actions = [
            event.action
            for event in AuditEvent.query.filter_by(
                object_type="user", object_id=world.staff_id
            )
        ]
    assert "disable" in actions


def test_company_search_and_disable(app, world):
    with app.app_context():
        company = Company.query.one()
        code, name, company_id = company.credit_code, company.name, company.id
    admin = console_as(app, "admin")

    found = text_of(admin.get(f"/console/companies?q={code}"))
    missing = text_of(admin.get("/console/companies?q=ZZZZ"))
    admin.post(f"/console/companies/{company_id}/disabled", {"disabled": "1"})

    assert name in found
    assert name not in missing
    with app.app_context():
        assert db.session.get(Company, company_id).disabled is True
