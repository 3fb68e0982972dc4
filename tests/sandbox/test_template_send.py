"""Template message sends: WeChat's checks, recording and client_msg_id repeats."""

import pytest

from tests.sandbox.conftest import (
    DIGEST_ID,
    RETURN_NOTICE_ID,
    create_follower,
    return_notice,
    send,
    service_token,
)


def messages(client, **filters):
    return client.get("/sandbox/messages", query_string=filters).get_json()["messages"]


def test_send_accepts_valid_message_and_records_it(client):
    token = service_token(client)
    openid = create_follower(client)

    body = send(client, token, return_notice(openid, client_msg_id="return-7-1"))

    assert body["errcode"] == 0
    assert body["errmsg"] == "ok"
    assert body["msgid"] >= 10**18
    recorded = messages(client, openid=openid)
    assert len(recorded) == 1
    assert recorded[0]["msgid"] == body["msgid"]
    assert recorded[0]["template_id"] == RETURN_NOTICE_ID
    assert recorded[0]["data"]["thing3"]["value"] == "建筑面积与证件不一致"
    assert recorded[0]["miniprogram"]["pagepath"] == "pages/project/detail?id=7"
    assert recorded[0]["client_msg_id"] == "return-7-1"


def test_msgids_increase_per_message(client):
    token = service_token(client)
    openid = create_follower(client)

    first = send(client, token, return_notice(openid))["msgid"]
    second = send(client, token, return_notice(openid))["msgid"]

    assert second == first + 1


def test_unregistered_template_answers_40037(client):
    token = service_token(client)
    openid = create_follower(client)

    body = send(client, token, return_notice(openid, template_id="unknown-template"))

    assert body["errcode"] == 40037
    assert body["errmsg"].startswith("invalid template_id")
    assert messages(client) == []


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("thing1", "碧桂园翡翠湾花园二期东区南门物业服务中心站"),
        ("phrase2", "基本信息分类"),
        ("phrase2", "basic"),
        ("time4", "2026年12月04日"),
        ("time4", "today"),
    ],
)
def test_invalid_field_answers_47003_naming_field(client, key, value):
    token = service_token(client)
    openid = create_follower(client)
    payload = return_notice(openid)
    payload["data"][key] = {"value": value}

    body = send(client, token, payload)

    assert body["errcode"] == 47003
    assert body["errmsg"].startswith(f"argument invalid! data.{key}.value invalid")
    assert messages(client) == []


def test_missing_field_answers_47003(client):
    token = service_token(client)
    openid = create_follower(client)
    payload = return_notice(openid)
    del payload["data"]["time4"]

    body = send(client, token, payload)

    assert body["errcode"] == 47003
    assert body["errmsg"].startswith("argument invalid! data.time4.value is empty")


def test_digest_number_and_time_fields_are_checked(client):
    token = service_token(client)
    openid = create_follower(client)
    data = {
        "thing1": {"value": "全区"},
        "number2": {"value": "128"},
        "thing3": {"value": "已提交96 已复核80"},
        "thing4": {"value": "16项待复核"},
        "thing5": {"value": "2026年12月31日"},
        "time6": {"value": "2026-12-04 09:00"},
    }
    valid = {"touser": openid, "template_id": DIGEST_ID, "data": data}

    accepted = send(client, token, valid)
    data["number2"] = {"value": "128项"}
    rejected = send(client, token, valid)

    assert accepted["errcode"] == 0
    assert rejected["errcode"] == 47003
    assert "data.number2.value" in rejected["errmsg"]


def test_miniprogram_of_other_app_answers_40013(client):
    token = service_token(client)
    openid = create_follower(client)
    payload = return_notice(openid, miniprogram={"appid": "wxother", "pagepath": "x"})

    assert send(client, token, payload)["errcode"] == 40013


def test_miniprogram_openid_answers_40003(client):
    token = service_token(client)
    mini_openid = client.post("/sandbox/miniprogram/codes", json={}).get_json()[
        "openid"
    ]

    body = send(client, token, return_notice(mini_openid))

    assert body["errcode"] == 40003
    assert body["errmsg"].startswith("invalid openid")


def test_user_not_following_answers_43004(client):
    token = service_token(client)
    openid = create_follower(client, following=False)

    body = send(client, token, return_notice(openid))

    assert body["errcode"] == 43004
    assert body["errmsg"].startswith("require subscribe")


def test_send_rejects_bad_tokens(client):
    token = service_token(client)
    openid = create_follower(client)
    client.post("/sandbox/tokens/end", json={"access_token": token})

    assert send(client, "bogus", return_notice(openid))["errcode"] == 40001
    assert send(client, token, return_notice(openid))["errcode"] == 42001


def test_repeated_client_msg_id_returns_first_msgid(client):
    token = service_token(client)
    openid = create_follower(client)
    payload = return_notice(openid, client_msg_id="digest-2026-12-04-0900")

    first = send(client, token, payload)
    repeat = send(client, token, payload)

    assert repeat == {"errcode": 0, "errmsg": "ok", "msgid": first["msgid"]}
    assert len(messages(client)) == 1
    stats = client.get("/sandbox/stats").get_json()
    assert stats["template_duplicates_dropped"] == 1
    assert stats["endpoints"]["template_send"]["ok"] == 2


def test_client_msg_id_is_per_user(client):
    token = service_token(client)
    first_user = create_follower(client)
    second_user = create_follower(client)

    first = send(client, token, return_notice(first_user, client_msg_id="same"))
    second = send(client, token, return_notice(second_user, client_msg_id="same"))

    assert first["msgid"] != second["msgid"]
    assert len(messages(client)) == 2


def test_client_msg_id_repeat_after_window(client):
    token = service_token(client)
    openid = create_follower(client)
    payload = return_notice(openid, client_msg_id="late-repeat")

    first = send(client, token, payload)
    client.post("/sandbox/clock", json={"advance_seconds": 601})
    later = send(client, token, payload)

    assert later["msgid"] != first["msgid"]
    assert len(messages(client)) == 2


def test_messages_filter_by_template(client):
    token = service_token(client)
    openid = create_follower(client)
    send(client, token, return_notice(openid))

    assert len(messages(client, template_id=RETURN_NOTICE_ID)) == 1
    assert messages(client, template_id=DIGEST_ID) == []
    assert messages(client, openid="oSomeoneElse") == []


def test_non_string_client_msg_id_rejected(client):
    token = service_token(client)
    openid = create_follower(client)

    body = send(client, token, return_notice(openid, client_msg_id={"id": 1}))

    assert body["errcode"] == 47001
    assert body["errmsg"].startswith("data format error")
    assert messages(client) == []
