"""HTML pages: the overview and a user's phone showing template messages."""

from tests.sandbox.conftest import (
    create_follower,
    return_notice,
    send,
    service_token,
)


def test_phone_shows_message_as_wechat_card(client):
    token = service_token(client)
    openid = create_follower(client)
    msgid = send(client, token, return_notice(openid))["msgid"]

    response = client.get(f"/sandbox/phone/{openid}")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert f'data-msgid="{msgid}"' in page
    assert "信息退回通知" in page
    for label, value in [
        ("项目名称", "碧桂园翡翠湾"),
        ("信息分类", "基本信息"),
        ("退回意见", "建筑面积与证件不一致"),
        ("退回时间", "2026年12月04日 09:00"),
    ]:
        row = f'<span class="label">{label}</span><span class="value">{value}</span>'
        assert row in page
    assert "进入小程序查看" in page
    assert "pages/project/detail?id=7" in page
    assert "发送中" in page


def test_phone_marks_blocked_message_undelivered(client):
    token = service_token(client)
    openid = create_follower(client)
    msgid = send(client, token, return_notice(openid))["msgid"]
    client.application.extensions["wechat_sandbox"].messages[
        0
    ].jobfinish_status = "failed:user block"

    page = client.get(f"/sandbox/phone/{openid}").get_data(as_text=True)

    assert f'class="card undelivered" data-msgid="{msgid}"' in page
    assert "未送达：用户拒收" in page


def test_phone_without_messages_says_so(client):
    openid = create_follower(client)

    page = client.get(f"/sandbox/phone/{openid}").get_data(as_text=True)

    assert "这位用户还没有收到模板消息。" in page


def test_phone_of_unknown_user_is_404(client):
    assert client.get("/sandbox/phone/oNobody").status_code == 404


def test_index_lists_users_and_qrcodes(client):
    token = service_token(client)
    openid = create_follower(client)
    client.post(
        "/cgi-bin/qrcode/create",
        query_string={"access_token": token},
        json={
            "expire_seconds": 600,
            "action_name": "QR_STR_SCENE",
            "action_info": {"scene": {"scene_str": "bind:demo"}},
        },
    )

    page = client.get("/sandbox/").get_data(as_text=True)

    assert openid in page
    assert f"/sandbox/phone/{openid}" in page
    assert "已关注" in page
    assert "<td>已送达</td>" in page
    assert "bind:demo" in page
    assert "剩余 600 秒" in page


def test_index_scan_form_pushes_and_reports(client):
    token = service_token(client)
    ticket = client.post(
        "/cgi-bin/qrcode/create",
        query_string={"access_token": token},
        json={
            "action_name": "QR_STR_SCENE",
            "action_info": {"scene": {"scene_str": "s"}},
        },
    ).get_json()["ticket"]

    response = client.post("/sandbox/ui/scan", data={"ticket": ticket, "openid": ""})

    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "推送 subscribe 事件" in page
    assert len(client.get("/sandbox/users").get_json()["users"]) == 1
