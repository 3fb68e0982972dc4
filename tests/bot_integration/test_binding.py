"""QR binding through the API, the sandbox's scans and the live callback."""

import io
from datetime import timedelta

from PIL import Image

from bot.binding import (
    MAX_BINDINGS_PER_HOUR,
    REPLY_DISABLED,
    REPLY_EXPIRED,
    REPLY_UNKNOWN,
    REPLY_USED,
    binding_status,
    create_binding,
    qr_png,
)
from bot.callback import REPLY_WELCOME, REPLY_WELCOME_BACK
from models import AuditEvent, BindingScene, User, db, utcnow
from tests.bot_integration.conftest import follow, load_user, sandbox_stats
from tests.factories import make_account

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def request_binding(api):
    response = api.post("/api/wechat/binding")
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def scan(sandbox, scene, openid=None, **options):
    body = {"scene": scene, **options}
    if openid:
        body["openid"] = openid
    return sandbox.control("post", "/sandbox/scan", json=body)


def expire(app, scene):
    with app.app_context():
        binding = BindingScene.query.filter_by(scene=scene).one()
        binding.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()


def audit_actions(app, user_id):
    with app.app_context():
        events = AuditEvent.query.filter_by(object_type="user", object_id=user_id)
        return [event.action for event in events.order_by(AuditEvent.id)]


def test_request_creates_temporary_string_scene_qr(app, staff, sandbox):
    before = utcnow()

    body = request_binding(staff)

    binding = body["binding"]
    assert body["wechat_bound"] is False
    assert binding["status"] == "pending"
    assert len(binding["scene"]) == 32
    assert binding["qr_image_url"] == f"/api/wechat/binding/{binding['scene']}/qr.png"
    qrcodes = sandbox.control("get", "/sandbox/qrcodes")["qrcodes"]
    assert len(qrcodes) == 1
    assert qrcodes[0]["action_name"] == "QR_STR_SCENE"
    assert qrcodes[0]["scene"] == binding["scene"]
    assert qrcodes[0]["expire_seconds"] == 600
    with app.app_context():
        row = BindingScene.query.filter_by(scene=binding["scene"]).one()
        assert row.user_id == staff.user["id"]
        assert row.ticket == qrcodes[0]["ticket"]
        assert row.url == qrcodes[0]["url"]
        assert row.used_at is None
        lifetime = row.expires_at - before
        assert timedelta(seconds=599) <= lifetime <= timedelta(seconds=602)
        assert binding["expires_at"] == row.expires_at.isoformat()


def test_scenes_are_one_time_random(staff):
    first = request_binding(staff)["binding"]["scene"]
    second = request_binding(staff)["binding"]["scene"]

    assert first != second


def test_ttl_setting_sets_qr_expiry(app, staff, sandbox):
    app.config["BINDING_QR_TTL_SECONDS"] = 120

    request_binding(staff)

    assert (
        sandbox.control("get", "/sandbox/qrcodes")["qrcodes"][0]["expire_seconds"]
        == 120
    )


def test_qr_png_served_to_owner(app, staff):
    scene = request_binding(staff)["binding"]["scene"]

    response = staff.get(f"/api/wechat/binding/{scene}/qr.png")

    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.data.startswith(PNG_MAGIC)
    image = Image.open(io.BytesIO(response.data))
    assert image.size[0] == image.size[1]
    assert image.size[0] >= 200
    with app.app_context():
        binding = BindingScene.query.filter_by(scene=scene).one()
        assert response.data == qr_png(binding)


def test_other_users_scene_is_not_found(staff, reviewer):
    scene = request_binding(staff)["binding"]["scene"]

    status = reviewer.get(f"/api/wechat/binding/{scene}")
    image = reviewer.get(f"/api/wechat/binding/{scene}/qr.png")

    assert status.status_code == 404
    assert status.get_json()["error"]["code"] == "binding_not_found"
    assert image.status_code == 404


def test_binding_requires_login(client):
    assert client.post("/api/wechat/binding").status_code == 401
    assert client.get("/api/wechat/binding/abc").status_code == 401
    assert client.get("/api/wechat/binding/abc/qr.png").status_code == 401


def test_unregistered_session_cannot_bind(client, sandbox):
    code = sandbox.wx_login_code()["code"]
    token = client.post("/api/auth/wx-login", json={"code": code}).get_json()["token"]

    response = client.post(
        "/api/wechat/binding", headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "registration_required"


def test_reviewer_can_request_binding(reviewer):
    body = request_binding(reviewer)

    assert body["binding"]["status"] == "pending"


def test_new_follower_scan_binds(app, staff, sandbox, live_product):
    scene = request_binding(staff)["binding"]["scene"]

    result = scan(sandbox, scene)

    assert result["event"] == "subscribe"
    assert result["status"] == 200
    assert result["reply_encrypted"] is True
    assert result["reply"]["MsgType"] == "text"
    assert result["reply"]["ToUserName"] == result["openid"]
    assert result["reply"]["Content"].startswith("绑定成功：陈志强（物业项目用户）")
    user = load_user(app, staff.user["id"])
    assert user["service_openid"] == result["openid"]
    assert user["reachable"] is True
    assert user["bound_at"] is not None
    status = staff.get(f"/api/wechat/binding/{scene}").get_json()
    assert status["binding"]["status"] == "bound"
    assert status["wechat_bound"] is True
    assert audit_actions(app, staff.user["id"])[-1] == "wechat_bound"


def test_existing_follower_scan_binds(app, reviewer, sandbox, live_product):
    follow(sandbox, "oFollowerReviewer000000000001")
    scene = request_binding(reviewer)["binding"]["scene"]

    result = scan(sandbox, scene, openid="oFollowerReviewer000000000001")

    assert result["event"] == "SCAN"
    assert result["reply"]["Content"].startswith(
        "绑定成功：shishan_reviewer姓名（镇街复核人员）"
    )
    user = load_user(app, reviewer.user["id"])
    assert user["service_openid"] == "oFollowerReviewer000000000001"
    assert user["reachable"] is True


def test_plaintext_mode_scan_binds(app, staff, sandbox, live_product):
    scene = request_binding(staff)["binding"]["scene"]

    result = scan(sandbox, scene, safe_mode=False)

    assert result["reply_encrypted"] is False
    assert result["reply"]["Content"].startswith("绑定成功：陈志强")
    assert load_user(app, staff.user["id"])["service_openid"] == result["openid"]


def test_reused_scene_binds_nothing(app, staff, sandbox, live_product):
    scene = request_binding(staff)["binding"]["scene"]
    first = scan(sandbox, scene)

    second = scan(sandbox, scene)

    assert second["openid"] != first["openid"]
    assert second["reply"]["Content"] == REPLY_USED
    assert load_user(app, staff.user["id"])["service_openid"] == first["openid"]
    with app.app_context():
        bound = User.query.filter_by(service_openid=second["openid"]).count()
        assert bound == 0


def test_expired_scene_binds_nothing(app, staff, sandbox, live_product):
    scene = request_binding(staff)["binding"]["scene"]
    expire(app, scene)

    result = scan(sandbox, scene)

    assert result["reply"]["Content"] == REPLY_EXPIRED
    assert load_user(app, staff.user["id"])["service_openid"] is None
    status = staff.get(f"/api/wechat/binding/{scene}").get_json()
    assert status["binding"]["status"] == "expired"
    image = staff.get(f"/api/wechat/binding/{scene}/qr.png")
    assert image.status_code == 410
    assert image.get_json()["error"]["code"] == "binding_expired"


def test_unknown_scene_binds_nothing(app, sandbox, live_product):
    result = sandbox.control(
        "post", "/sandbox/subscribe", json={"event_key": "qrscene_nosuchscene"}
    )

    assert result["reply"]["Content"] == REPLY_UNKNOWN
    with app.app_context():
        assert User.query.filter_by(service_openid=result["openid"]).count() == 0


def test_disabled_user_scene_binds_nothing(app, staff, sandbox, live_product):
    scene = request_binding(staff)["binding"]["scene"]
    with app.app_context():
        db.session.get(User, staff.user["id"]).disabled = True
        db.session.commit()

    result = scan(sandbox, scene)

    assert result["reply"]["Content"] == REPLY_DISABLED
    assert load_user(app, staff.user["id"])["service_openid"] is None


def test_plain_subscribe_is_not_binding(app, staff, sandbox, live_product):
    request_binding(staff)

    for event_key in (None, "", "last_trade_no_4200001234202612040123456789"):
        result = sandbox.control(
            "post", "/sandbox/subscribe", json={"event_key": event_key}
        )
        assert result["reply"]["Content"] == REPLY_WELCOME
        with app.app_context():
            bound = User.query.filter_by(service_openid=result["openid"]).count()
            assert bound == 0
    assert load_user(app, staff.user["id"])["service_openid"] is None


def test_unsubscribe_then_subscribe_toggles_reachable(
    app, staff, sandbox, live_product
):
    # A follower's scan pushes SCAN. A subscribe push from the same openid
    # in the same second would share its dedupe key (sender + CreateTime).
    openid = "oFollowerStaff0000000000001"
    follow(sandbox, openid)
    scan(sandbox, request_binding(staff)["binding"]["scene"], openid=openid)

    left = sandbox.control("post", "/sandbox/unsubscribe", json={"openid": openid})
    after_leaving = load_user(app, staff.user["id"])
    back = sandbox.control("post", "/sandbox/subscribe", json={"openid": openid})
    after_return = load_user(app, staff.user["id"])

    assert left["status"] == 200
    assert left["reply"] is None
    assert after_leaving["reachable"] is False
    assert after_leaving["service_openid"] == openid
    assert after_return["reachable"] is True
    assert back["reply"]["Content"] == REPLY_WELCOME_BACK.format(name="陈志强")


def test_openid_moves_to_new_user(app, staff, reviewer, sandbox, live_product):
    openid = scan(sandbox, request_binding(staff)["binding"]["scene"])["openid"]

    result = scan(sandbox, request_binding(reviewer)["binding"]["scene"], openid)

    assert result["event"] == "SCAN"
    assert result["reply"]["Content"].startswith("绑定成功：shishan_reviewer姓名")
    assert load_user(app, staff.user["id"])["service_openid"] is None
    assert load_user(app, staff.user["id"])["reachable"] is False
    assert load_user(app, reviewer.user["id"])["service_openid"] == openid
    with app.app_context():
        moved = AuditEvent.query.filter_by(
            action="wechat_unbound", object_id=staff.user["id"]
        ).one()
        assert moved.actor_id == reviewer.user["id"]
        assert moved.detail == {
            "openid": openid,
            "moved_to_user_id": reviewer.user["id"],
        }
        bound = AuditEvent.query.filter_by(
            action="wechat_bound", object_id=reviewer.user["id"]
        ).one()
        assert bound.detail["moved_from_user_id"] == staff.user["id"]


def test_rebinding_replaces_users_openid(app, staff, sandbox, live_product):
    first = scan(sandbox, request_binding(staff)["binding"]["scene"])["openid"]

    second = scan(sandbox, request_binding(staff)["binding"]["scene"])["openid"]

    assert load_user(app, staff.user["id"])["service_openid"] == second
    with app.app_context():
        event = (
            AuditEvent.query.filter_by(action="wechat_bound")
            .order_by(AuditEvent.id.desc())
            .first()
        )
        assert event.detail["replaced_openid"] == first


def test_binding_rate_limited_per_hour(app, staff, sandbox):
    with app.app_context():
        for number in range(MAX_BINDINGS_PER_HOUR):
            db.session.add(
                BindingScene(
                    scene=f"scene{number}",
                    user_id=staff.user["id"],
                    ticket="t",
                    url="http://weixin.qq.com/q/x",
                    expires_at=utcnow(),
                )
            )
        db.session.commit()

    response = staff.post("/api/wechat/binding")

    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "too_many_bindings"
    assert sandbox.control("get", "/sandbox/qrcodes")["qrcodes"] == []


def test_wechat_failure_gives_503(staff, sandbox):
    sandbox.control(
        "post", "/sandbox/fail", json={"endpoint": "qrcode_create", "errcode": -1}
    )

    response = staff.post("/api/wechat/binding")

    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "wechat_unavailable"
    assert (
        response.get_json()["error"]["message"] == "暂时无法生成绑定二维码，请稍后再试"
    )


def test_rejected_token_refreshed_once_for_qr(staff, sandbox):
    sandbox.control(
        "post",
        "/sandbox/fail",
        json={"endpoint": "qrcode_create", "errcode": 40001, "count": 1},
    )

    response = staff.post("/api/wechat/binding")

    assert response.status_code == 201
    stats = sandbox_stats(sandbox)
    assert stats["endpoints"]["qrcode_create"] == {"calls": 2, "ok": 1, "errors": 1}
    assert stats["stable_token_force_refreshes"] == 1


def test_console_functions_create_and_render(app, sandbox):
    with app.app_context():
        user_id = make_account("official", "district_official")
        user = db.session.get(User, user_id)

        binding = create_binding(user)

        assert binding.id is not None
        assert binding.user_id == user_id
        assert binding_status(binding) == "pending"
        assert binding_status(binding, now=binding.expires_at) == "expired"
        assert qr_png(binding).startswith(PNG_MAGIC)
    assert len(sandbox.control("get", "/sandbox/qrcodes")["qrcodes"]) == 1
