"""The binding QR code after login, its polling, and an admin's QR for an account."""

from models import BindingScene, User, db
from tests.console.conftest import console_as, text_of

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _latest_scene(app, user_id):
    with app.app_context():
        scene = (
            BindingScene.query.filter_by(user_id=user_id)
            .order_by(BindingScene.id.desc())
            .first()
        )
        return scene.scene


def test_binding_page_shows_qr_code(app, world):
    console = console_as(app, "rev_gc")

    page = console.get("/console/binding")

    scene = _latest_scene(app, world.users["rev_gc"])
    assert page.status_code == 200
    assert f"/console/binding/{scene}/qr.png" in text_of(page)
    image = console.get(f"/console/binding/{scene}/qr.png")
    assert image.mimetype == "image/png"
    assert image.data.startswith(PNG_MAGIC)


def test_scan_binds_and_polling_notices(app, world, sandbox, live_console):
    console = console_as(app, "rev_gc")
    console.get("/console/binding")
    scene = _latest_scene(app, world.users["rev_gc"])
    before = console.get(f"/console/binding/{scene}/status").get_json()

    sandbox.control(
        "post", "/sandbox/scan", json={"scene": scene, "openid": "o-rev-gc"}
    )

    after = console.get(f"/console/binding/{scene}/status").get_json()
    assert before == {
        "status": "pending",
        "bound": False,
        "next_url": "/console/dashboard",
    }
    assert after == {"status": "bound", "bound": True, "next_url": "/console/dashboard"}
    with app.app_context():
        assert db.session.get(User, world.users["rev_gc"]).service_openid == "o-rev-gc"
    assert "已绑定微信" in text_of(console.get("/console/binding"))


def test_bound_reviewer_goes_straight_to_dashboard(app, world, sandbox, live_console):
    console = console_as(app, "rev_gc")
    console.get("/console/binding")
    scene = _latest_scene(app, world.users["rev_gc"])
    sandbox.control(
        "post", "/sandbox/scan", json={"scene": scene, "openid": "o-rev-gc"}
    )
    console.post("/console/logout")

    response = console.login("rev_gc")

    assert response.headers["Location"] == "/console/dashboard"


def test_admin_shows_qr_for_an_account(app, world):
    admin = console_as(app, "admin")

    page = admin.post(f"/console/accounts/{world.users['off_gc']}/binding")

    scene = _latest_scene(app, world.users["off_gc"])
    assert page.status_code == 200
    assert "off_gc姓名" in text_of(page)
    assert (
        admin.get(f"/console/binding/{scene}/status").get_json()["status"] == "pending"
    )


def test_other_users_scene_is_not_found(app, world):
    console_as(app, "rev_gc").get("/console/binding")
    scene = _latest_scene(app, world.users["rev_gc"])
    other = console_as(app, "rev_jj")

    assert other.get(f"/console/binding/{scene}/status").status_code == 404
    assert other.get(f"/console/binding/{scene}/qr.png").status_code == 404


def test_admin_cannot_show_qr_for_staff(app, world):
    admin = console_as(app, "admin")

    response = admin.post(f"/console/accounts/{world.staff_id}/binding")

    assert response.status_code == 404
