"""Event pushes to a real callback server: formats, signatures, safe mode, replies."""

import hashlib
import time

import pytest
from defusedxml import ElementTree

from tests.sandbox.conftest import (
    AES_KEY,
    CALLBACK_TOKEN,
    SERVICE_APP_ID,
    create_follower,
    return_notice,
    send,
    service_token,
)
from wechat_sandbox import create_sandbox_app
from wechat_sandbox.push import CallbackRejected

ORIGINAL_ID = "gh_3f9a1c2b7d4e"


@pytest.fixture()
def pushing_client(make_app, callback_server):
    return make_app(SANDBOX_CALLBACK_URL=callback_server.url).test_client()


def create_ticket(client, scene="bind:abc", expire_seconds=600):
    response = client.post(
        "/cgi-bin/qrcode/create",
        query_string={"access_token": service_token(client)},
        json={
            "expire_seconds": expire_seconds,
            "action_name": "QR_STR_SCENE",
            "action_info": {"scene": {"scene_str": scene}},
        },
    )
    return response.get_json()["ticket"]


def elements(xml):
    """Return the (tag, text) pairs of the XML root's children, in order."""
    return [(child.tag, child.text) for child in ElementTree.fromstring(xml)]


def sha1_sorted(*parts):
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def test_scan_by_new_user_pushes_subscribe_with_qrscene(
    pushing_client, callback_server
):
    ticket = create_ticket(pushing_client)

    result = pushing_client.post("/sandbox/scan", json={"ticket": ticket}).get_json()

    pushed = callback_server.wait_for(1)[0]
    plain = callback_server.decrypt(pushed)
    tags = elements(plain)
    assert [tag for tag, _ in tags] == [
        "ToUserName",
        "FromUserName",
        "CreateTime",
        "MsgType",
        "Event",
        "EventKey",
        "Ticket",
    ]
    values = dict(tags)
    assert values["ToUserName"] == ORIGINAL_ID
    assert values["FromUserName"] == result["openid"]
    assert values["CreateTime"].isdigit()
    assert values["MsgType"] == "event"
    assert values["Event"] == "subscribe"
    assert values["EventKey"] == "qrscene_bind:abc"
    assert values["Ticket"] == ticket
    assert "<![CDATA[subscribe]]>" in plain
    assert result["event"] == "subscribe"
    assert result["status"] == 200


def test_scan_by_follower_pushes_scan_with_bare_scene(pushing_client, callback_server):
    ticket = create_ticket(pushing_client)
    openid = create_follower(pushing_client)

    result = pushing_client.post(
        "/sandbox/scan", json={"ticket": ticket, "openid": openid}
    ).get_json()

    values = dict(elements(callback_server.decrypt(callback_server.wait_for(1)[0])))
    assert result["event"] == "SCAN"
    assert values["Event"] == "SCAN"
    assert values["EventKey"] == "bind:abc"
    assert values["Ticket"] == ticket
    assert values["FromUserName"] == openid


def test_second_scan_by_same_user_is_scan(pushing_client, callback_server):
    ticket = create_ticket(pushing_client)
    first = pushing_client.post("/sandbox/scan", json={"ticket": ticket}).get_json()

    second = pushing_client.post(
        "/sandbox/scan", json={"scene": "bind:abc", "openid": first["openid"]}
    ).get_json()

    assert first["event"] == "subscribe"
    assert second["event"] == "SCAN"
    users = pushing_client.get("/sandbox/users").get_json()["users"]
    assert len(users) == 1
    assert users[0]["openid"] == first["openid"]
    assert users[0]["following"] is True


def test_scan_with_following_flag_on_new_user(pushing_client, callback_server):
    ticket = create_ticket(pushing_client)

    result = pushing_client.post(
        "/sandbox/scan", json={"ticket": ticket, "following": True}
    ).get_json()

    assert result["event"] == "SCAN"


def test_safe_mode_push_is_signed_and_encrypted(pushing_client, callback_server):
    ticket = create_ticket(pushing_client)

    result = pushing_client.post("/sandbox/scan", json={"ticket": ticket}).get_json()

    pushed = callback_server.wait_for(1)[0]
    query = pushed["query"]
    assert pushed["path"] == "/wechat/callback"
    assert pushed["content_type"] == "text/xml"
    assert query["signature"] == sha1_sorted(
        CALLBACK_TOKEN, query["timestamp"], query["nonce"]
    )
    assert query["encrypt_type"] == "aes"
    assert query["openid"] == result["openid"]
    body = dict(elements(pushed["body"]))
    assert list(body) == ["ToUserName", "Encrypt"]
    assert body["ToUserName"] == ORIGINAL_ID
    assert query["msg_signature"] == sha1_sorted(
        CALLBACK_TOKEN, query["timestamp"], query["nonce"], body["Encrypt"]
    )


def test_safe_mode_reply_is_decrypted(pushing_client, callback_server):
    ticket = create_ticket(pushing_client)

    result = pushing_client.post("/sandbox/scan", json={"ticket": ticket}).get_json()

    assert result["reply_encrypted"] is True
    assert result["error"] is None
    assert result["reply"]["MsgType"] == "text"
    assert result["reply"]["Content"] == "已收到"
    assert result["reply"]["ToUserName"] == result["openid"]


def test_plaintext_mode_push_and_reply(make_app, callback_server):
    client = make_app(
        SANDBOX_CALLBACK_URL=callback_server.url, SANDBOX_SAFE_MODE=False
    ).test_client()
    ticket = create_ticket(client)

    result = client.post("/sandbox/scan", json={"ticket": ticket}).get_json()

    pushed = callback_server.wait_for(1)[0]
    assert "encrypt_type" not in pushed["query"]
    assert "msg_signature" not in pushed["query"]
    assert dict(elements(pushed["body"]))["EventKey"] == "qrscene_bind:abc"
    assert result["reply_encrypted"] is False
    assert result["reply"]["Content"] == "已收到"


def test_success_reply_means_no_reply(pushing_client, callback_server):
    callback_server.reply = lambda pushed: (200, "success")
    ticket = create_ticket(pushing_client)

    result = pushing_client.post("/sandbox/scan", json={"ticket": ticket}).get_json()

    assert result["status"] == 200
    assert result["reply"] is None
    assert result["error"] is None


def test_rejecting_callback_status_is_reported(pushing_client, callback_server):
    callback_server.reply = lambda pushed: (403, "invalid signature")
    ticket = create_ticket(pushing_client)

    result = pushing_client.post("/sandbox/scan", json={"ticket": ticket}).get_json()

    assert result["status"] == 403
    assert result["reply"] is None
    stats = pushing_client.get("/sandbox/stats").get_json()
    assert stats["pushes"] == {"delivered": 0, "failed": 1}


def test_reply_with_wrong_msg_signature_is_reported(pushing_client, callback_server):
    def forged(pushed):
        status, xml = callback_server.reply_with_text(pushed)
        return status, xml.replace(
            "<MsgSignature><![CDATA[", "<MsgSignature><![CDATA[0"
        )

    callback_server.reply = forged
    ticket = create_ticket(pushing_client)

    result = pushing_client.post("/sandbox/scan", json={"ticket": ticket}).get_json()

    assert result["reply"] is None
    assert result["error"] == "reply MsgSignature does not match"


def test_unreachable_callback_is_reported(client):
    ticket = create_ticket(client)

    result = client.post("/sandbox/scan", json={"ticket": ticket}).get_json()

    assert result["status"] is None
    assert result["error"].startswith("request failed")
    assert result["event"] == "subscribe"


def test_expired_ticket_still_pushes_unless_expiry_respected(
    pushing_client, callback_server
):
    ticket = create_ticket(pushing_client, expire_seconds=60)
    pushing_client.post("/sandbox/clock", json={"advance_seconds": 61})

    rejected = pushing_client.post(
        "/sandbox/scan", json={"ticket": ticket, "respect_expiry": True}
    )
    pushed = pushing_client.post("/sandbox/scan", json={"ticket": ticket})

    assert rejected.status_code == 410
    assert rejected.get_json()["error"] == "二维码已过期，微信不会展示该二维码"
    assert pushed.get_json()["status"] == 200
    assert len(callback_server.wait_for(1)) == 1


def test_scan_of_unknown_ticket_is_404(pushing_client):
    response = pushing_client.post("/sandbox/scan", json={"ticket": "nope"})

    assert response.status_code == 404
    assert response.get_json()["error"].startswith("二维码不存在")


def test_plain_subscribe_and_unsubscribe(pushing_client, callback_server):
    subscribed = pushing_client.post(
        "/sandbox/subscribe", json={"event_key": "last_trade_no_4200001"}
    ).get_json()
    pushing_client.post("/sandbox/unsubscribe", json={"openid": subscribed["openid"]})

    first, second = callback_server.wait_for(2)
    subscribe_values = dict(elements(callback_server.decrypt(first)))
    unsubscribe_values = dict(elements(callback_server.decrypt(second)))
    assert subscribe_values["Event"] == "subscribe"
    assert subscribe_values["EventKey"] == "last_trade_no_4200001"
    assert "Ticket" not in subscribe_values
    assert unsubscribe_values["Event"] == "unsubscribe"
    assert unsubscribe_values["FromUserName"] == subscribed["openid"]
    users = pushing_client.get("/sandbox/users").get_json()["users"]
    assert users[0]["following"] is False


def test_unsubscribe_of_unknown_user_is_404(pushing_client):
    response = pushing_client.post("/sandbox/unsubscribe", json={"openid": "oNobody"})

    assert response.status_code == 404


def test_raw_push_is_sent_as_is_repeatedly(pushing_client, callback_server):
    xml = (
        "<xml><ToUserName><![CDATA[gh_3f9a1c2b7d4e]]></ToUserName>"
        "<FromUserName><![CDATA[oRawUser]]></FromUserName>"
        "<CreateTime>1796000000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        "<Content><![CDATA[你好]]></Content><MsgId>24000000001</MsgId></xml>"
    )

    result = pushing_client.post(
        "/sandbox/push", json={"xml": xml, "deliveries": 3}
    ).get_json()

    pushes = callback_server.wait_for(3)
    assert [callback_server.decrypt(push) for push in pushes] == [xml, xml, xml]
    assert pushes[0]["query"] == pushes[2]["query"]
    assert pushes[0]["query"]["openid"] == "oRawUser"
    assert result["statuses"] == [200, 200, 200]


def test_push_with_bad_signature_and_old_timestamp(pushing_client, callback_server):
    xml = "<xml><FromUserName><![CDATA[oRawUser]]></FromUserName></xml>"

    pushing_client.post(
        "/sandbox/push",
        json={"xml": xml, "bad_signature": True, "timestamp": 1409735669},
    )

    query = callback_server.wait_for(1)[0]["query"]
    assert query["signature"] == "0" * 40
    assert query["msg_signature"] == "0" * 40
    assert query["timestamp"] == "1409735669"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({}, "需要 xml 字符串"),
        ({"xml": "<xml>", "deliveries": 1}, "xml 无法解析"),
        ({"xml": "<xml/>", "openid": "o1", "deliveries": 5}, "deliveries 必须是"),
    ],
)
def test_raw_push_rejects_bad_request(pushing_client, body, error):
    response = pushing_client.post("/sandbox/push", json=body)

    assert response.status_code == 400
    assert response.get_json()["error"].startswith(error)


def test_manual_jobfinish_pushes_status(pushing_client, callback_server):
    openid = create_follower(pushing_client)
    token = service_token(pushing_client)
    msgid = send(pushing_client, token, return_notice(openid))["msgid"]

    result = pushing_client.post(
        "/sandbox/jobfinish", json={"msgid": msgid, "status": "failed:user block"}
    ).get_json()

    plain = callback_server.decrypt(callback_server.wait_for(1)[0])
    values = dict(elements(plain))
    assert values["Event"] == "TEMPLATESENDJOBFINISH"
    assert values["MsgID"] == str(msgid)
    assert values["Status"] == "failed:user block"
    assert values["FromUserName"] == openid
    assert f"<MsgID>{msgid}</MsgID>" in plain
    assert result["status_pushed"] == "failed:user block"
    recorded = pushing_client.get("/sandbox/messages").get_json()["messages"]
    assert recorded[0]["jobfinish_status"] == "failed:user block"


def test_jobfinish_rejects_unknown_msgid_and_status(pushing_client):
    unknown = pushing_client.post("/sandbox/jobfinish", json={"msgid": 1})
    bad_status = pushing_client.post(
        "/sandbox/jobfinish", json={"msgid": 1, "status": "failed"}
    )

    assert unknown.status_code == 404
    assert bad_status.status_code == 400


def test_auto_jobfinish_pushes_configured_status(make_app, callback_server):
    client = make_app(
        SANDBOX_CALLBACK_URL=callback_server.url, SANDBOX_AUTO_JOBFINISH=True
    ).test_client()
    token = service_token(client)
    happy = create_follower(client)
    failing = create_follower(client, jobfinish_status="failed: system failed")

    first = send(client, token, return_notice(happy))["msgid"]
    second = send(client, token, return_notice(failing))["msgid"]

    pushes = callback_server.wait_for(2)
    statuses = {}
    for push in pushes:
        values = dict(elements(callback_server.decrypt(push)))
        statuses[int(values["MsgID"])] = values["Status"]
    assert statuses == {first: "success", second: "failed: system failed"}


def test_auto_jobfinish_skips_dropped_repeat(make_app, callback_server):
    client = make_app(
        SANDBOX_CALLBACK_URL=callback_server.url, SANDBOX_AUTO_JOBFINISH=True
    ).test_client()
    token = service_token(client)
    openid = create_follower(client)
    payload = return_notice(openid, client_msg_id="once")

    send(client, token, payload)
    send(client, token, payload)

    callback_server.wait_for(1)
    time.sleep(0.3)  # six times the push delay, so a second push would be here
    assert len(callback_server.requests) == 1


def test_non_loopback_callback_is_rejected():
    with pytest.raises(CallbackRejected):
        create_sandbox_app({"SANDBOX_CALLBACK_URL": "http://example.com/callback"})


def test_callback_crypto_settings_match_product_defaults(app):
    assert app.config["WECHAT_TOKEN"] == CALLBACK_TOKEN
    assert app.config["WECHAT_AES_KEY"] == AES_KEY
    assert app.config["WECHAT_APP_ID"] == SERVICE_APP_ID
