"""Control API: users, clock, reset, stats and request validation."""

import pytest

from tests.sandbox.conftest import (
    create_follower,
    return_notice,
    send,
    service_token,
)


def test_create_user_defaults_to_following(client):
    response = client.post("/sandbox/users", json={})

    body = response.get_json()
    assert response.status_code == 201
    assert body["following"] is True
    assert body["jobfinish_status"] == "success"
    assert body["openid"].startswith("o")
    assert len(body["openid"]) == 28


def test_update_user_changes_flags(client):
    openid = create_follower(client)

    body = client.post(
        "/sandbox/users",
        json={
            "openid": openid,
            "following": False,
            "jobfinish_status": "failed:user block",
        },
    ).get_json()

    assert body["openid"] == openid
    assert body["following"] is False
    assert body["jobfinish_status"] == "failed:user block"
    assert len(client.get("/sandbox/users").get_json()["users"]) == 1


def test_user_with_unknown_jobfinish_status_is_rejected(client):
    response = client.post("/sandbox/users", json={"jobfinish_status": "blocked"})

    assert response.status_code == 400
    assert response.get_json()["error"].startswith("jobfinish_status 只能是")


def test_control_rejects_non_object_body(client):
    response = client.post("/sandbox/users", data="[1, 2]")

    assert response.status_code == 400
    assert response.get_json()["error"] == "请求体必须是 JSON 对象"


@pytest.mark.parametrize("seconds", [-1, "60", True, None])
def test_clock_rejects_bad_advance(client, seconds):
    response = client.post("/sandbox/clock", json={"advance_seconds": seconds})

    assert response.status_code == 400


def test_clock_advances_cumulatively(client):
    client.post("/sandbox/clock", json={"advance_seconds": 30})

    body = client.post("/sandbox/clock", json={"advance_seconds": 12.5}).get_json()

    assert body == {"offset": 42.5}


def test_reset_clears_everything(client):
    token = service_token(client)
    openid = create_follower(client)
    send(client, token, return_notice(openid))
    client.post("/sandbox/fail", json={"endpoint": "token", "errcode": -1})
    client.post("/sandbox/clock", json={"advance_seconds": 10})

    client.post("/sandbox/reset")

    assert client.get("/sandbox/users").get_json() == {"users": []}
    assert client.get("/sandbox/messages").get_json() == {"messages": []}
    assert client.get("/sandbox/fail").get_json() == {"rules": []}
    stats = client.get("/sandbox/stats").get_json()
    assert stats["endpoints"]["token"] == {"calls": 0, "ok": 0, "errors": 0}
    assert stats["template_messages"] == 0
    assert send(client, token, return_notice(openid))["errcode"] == 40001


def test_stats_count_template_sends(client):
    token = service_token(client)
    openid = create_follower(client)
    send(client, token, return_notice(openid))
    send(client, token, return_notice(openid, template_id="unknown"))

    stats = client.get("/sandbox/stats").get_json()

    assert stats["endpoints"]["template_send"] == {"calls": 2, "ok": 1, "errors": 1}
    assert stats["template_messages"] == 1
    assert stats["endpoints"]["qrcode_create"] == {"calls": 0, "ok": 0, "errors": 0}


def test_end_tokens_rejects_unknown_token_and_mode(client):
    unknown = client.post("/sandbox/tokens/end", json={"access_token": "nope"})
    bad_mode = client.post("/sandbox/tokens/end", json={"mode": "delete"})

    assert unknown.status_code == 404
    assert bad_mode.status_code == 400


def test_qrcodes_are_listed_with_scene(client):
    client.post(
        "/cgi-bin/qrcode/create",
        query_string={"access_token": service_token(client)},
        json={
            "action_name": "QR_STR_SCENE",
            "action_info": {"scene": {"scene_str": "b1"}},
        },
    )

    codes = client.get("/sandbox/qrcodes").get_json()["qrcodes"]

    assert len(codes) == 1
    assert codes[0]["scene"] == "b1"
    assert codes[0]["expire_seconds"] == 60
    assert codes[0]["action_name"] == "QR_STR_SCENE"


def test_scan_needs_ticket_or_scene(client):
    response = client.post("/sandbox/scan", json={"openid": "o1"})

    assert response.status_code == 400
    assert response.get_json()["error"] == "需要 ticket 或 scene"
