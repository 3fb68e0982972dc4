"""``/wechat/callback``: signatures, safe mode, bad input, retries and replies.

Test pushes are signed with hashlib and encrypted with wechatpy's
``WeChatCrypto``, an implementation independent of ``bot.crypto``.
"""

import base64
import hashlib
import logging
import time
from datetime import timedelta

import pytest
import redis
import requests
from defusedxml import ElementTree
from wechatpy.crypto import WeChatCrypto

from bot.callback import REPLY_HELP, prune_receipts
from models import AuditEvent, CallbackReceipt, User, db, utcnow
from tests.conftest import ThreadedServer
from wxapp_backend import create_app
from wxapp_backend.config import DEVELOPMENT_DEFAULTS

TOKEN = DEVELOPMENT_DEFAULTS["WECHAT_TOKEN"]
AES_KEY = DEVELOPMENT_DEFAULTS["WECHAT_AES_KEY"]
APPID = DEVELOPMENT_DEFAULTS["WECHAT_APP_ID"]
NONCE = "1320562132"

# Tencent's published safe-mode sample push (token "spamtest").
SAMPLE_TOKEN = "spamtest"
SAMPLE_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
SAMPLE_APPID = "wx2c2769f8efd9abc2"
SAMPLE_QUERY = {
    "signature": "16120ec1b8dbb870f510d87ce6bc2463eae6ca1a",
    "timestamp": "1409735669",
    "nonce": "1320562132",
    "encrypt_type": "aes",
    "msg_signature": "5d197aaffba7e9b25a30732f161a50dee96bd5fa",
}
SAMPLE_ENCRYPT = (
    "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1Q"
    "LvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS"
    "7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6N"
    "PhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSV"
    "O/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrc"
    "pCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
)
SAMPLE_BODY = (
    "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>"
    f"<Encrypt><![CDATA[{SAMPLE_ENCRYPT}]]></Encrypt></xml>"
)

SUBSCRIBE_WITH_SCENE = (
    "<xml><ToUserName><![CDATA[gh_3f9a1c2b7d4e]]></ToUserName>"
    "<FromUserName><![CDATA[oUserSubscribe00000000000001]]></FromUserName>"
    "<CreateTime>1764835200</CreateTime><MsgType><![CDATA[event]]></MsgType>"
    "<Event><![CDATA[subscribe]]></Event>"
    "<EventKey><![CDATA[qrscene_nosuchscene]]></EventKey>"
    "<Ticket><![CDATA[gQH47joAAAAAAAAAASxodHRwOi8vd2VpeGluLnFxLmNvbS9xLzAy]]></Ticket>"
    "</xml>"
)
TEXT_MESSAGE = (
    "<xml><ToUserName><![CDATA[gh_3f9a1c2b7d4e]]></ToUserName>"
    "<FromUserName><![CDATA[oUserText000000000000000001]]></FromUserName>"
    "<CreateTime>1764835201</CreateTime><MsgType><![CDATA[text]]></MsgType>"
    "<Content><![CDATA[你好]]></Content><MsgId>24340001234567890</MsgId></xml>"
)
CLICK_EVENT = (
    "<xml><ToUserName><![CDATA[gh_3f9a1c2b7d4e]]></ToUserName>"
    "<FromUserName><![CDATA[oUserClick00000000000000001]]></FromUserName>"
    "<CreateTime>1764835202</CreateTime><MsgType><![CDATA[event]]></MsgType>"
    "<Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[MENU_1]]></EventKey></xml>"
)
IMAGE_MESSAGE = (
    "<xml><ToUserName><![CDATA[gh_3f9a1c2b7d4e]]></ToUserName>"
    "<FromUserName><![CDATA[oUserImage00000000000000001]]></FromUserName>"
    "<CreateTime>1764835203</CreateTime><MsgType><![CDATA[image]]></MsgType>"
    "<PicUrl><![CDATA[http://mmbiz.qpic.cn/x]]></PicUrl>"
    "<MediaId><![CDATA[media_id]]></MediaId><MsgId>24340001234567891</MsgId></xml>"
)
BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
    '<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
    "<xml><Content>&d;</Content></xml>"
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    "<xml><Content>&x;</Content></xml>"
)


def sha1_signature(*parts):
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def plain_query(timestamp=None, token=TOKEN):
    timestamp = str(timestamp or int(time.time()))
    return {
        "signature": sha1_signature(token, timestamp, NONCE),
        "timestamp": timestamp,
        "nonce": NONCE,
    }


def safe_push(xml, appid=APPID, token=TOKEN, aes_key=AES_KEY):
    """Return (query, body) of ``xml`` encrypted as WeChat's safe mode sends it."""
    timestamp = str(int(time.time()))
    reply = WeChatCrypto(token, aes_key, appid).encrypt_message(xml, NONCE, timestamp)
    encrypted = ElementTree.fromstring(reply).find("Encrypt").text
    return encrypted_push(encrypted, timestamp, token)


def encrypted_push(encrypted, timestamp=None, token=TOKEN):
    timestamp = str(timestamp or int(time.time()))
    query = dict(plain_query(timestamp, token), encrypt_type="aes")
    query["msg_signature"] = sha1_signature(token, timestamp, NONCE, encrypted)
    body = (
        "<xml><ToUserName><![CDATA[gh_3f9a1c2b7d4e]]></ToUserName>"
        f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    )
    return query, body


def post(client, query, body):
    return client.post(
        "/wechat/callback", query_string=query, data=body, content_type="text/xml"
    )


def receipt_keys(app):
    with app.app_context():
        return [row.dedupe_key for row in CallbackReceipt.query.order_by("id")]


def xml_fields(text):
    return {child.tag: child.text for child in ElementTree.fromstring(text)}


@pytest.fixture()
def sample_app(app, app_config, sandbox):
    """An app configured with the account of Tencent's sample push.

    It depends on ``app`` so that a PostgreSQL test database starts empty.
    """
    return create_app(
        {
            **app_config,
            "WECHAT_API_BASE_URL": sandbox.url,
            "WECHAT_TOKEN": SAMPLE_TOKEN,
            "WECHAT_AES_KEY": SAMPLE_AES_KEY,
            "WECHAT_APP_ID": SAMPLE_APPID,
            "WECHAT_CALLBACK_MAX_AGE": 0,
        }
    )


@pytest.fixture()
def small_limit_app(app, app_config, sandbox):
    """An app whose callback accepts bodies of at most 1024 bytes."""
    return create_app(
        {
            **app_config,
            "WECHAT_API_BASE_URL": sandbox.url,
            "WECHAT_CALLBACK_MAX_BYTES": 1024,
        }
    )


def test_url_check_answers_echostr(client):
    query = dict(plain_query(), echostr="5927782475184385723")

    response = client.get("/wechat/callback", query_string=query)

    assert response.status_code == 200
    assert response.get_data(as_text=True) == "5927782475184385723"


def test_url_check_forged_signature_rejected(client):
    query = dict(plain_query(), echostr="5927782475184385723")
    query["signature"] = "0" * 40

    response = client.get("/wechat/callback", query_string=query)

    assert response.status_code == 403
    assert "5927782475184385723" not in response.get_data(as_text=True)


def test_url_check_without_signature_rejected(client):
    response = client.get("/wechat/callback", query_string={"echostr": "12345"})

    assert response.status_code == 403


def test_tencent_sample_push_accepted(sample_app):
    client = sample_app.test_client()

    response = post(client, SAMPLE_QUERY, SAMPLE_BODY)

    assert response.status_code == 200
    envelope = xml_fields(response.get_data(as_text=True))
    assert envelope["MsgSignature"] == sha1_signature(
        SAMPLE_TOKEN, envelope["TimeStamp"], envelope["Nonce"], envelope["Encrypt"]
    )
    crypto = WeChatCrypto(SAMPLE_TOKEN, SAMPLE_AES_KEY, SAMPLE_APPID)
    reply = xml_fields(
        crypto.decrypt_message(
            response.get_data(as_text=True),
            envelope["MsgSignature"],
            envelope["TimeStamp"],
            envelope["Nonce"],
        )
    )
    assert reply["ToUserName"] == "oyORnuP8q7ou2gfYjqLzSIWZf0rs"
    assert reply["FromUserName"] == "gh_10f6c3c3ac5a"
    assert reply["MsgType"] == "text"
    assert reply["Content"] == REPLY_HELP
    assert receipt_keys(sample_app) == ["msg:6054768590064713728"]


def test_tencent_sample_retry_handled_once(sample_app):
    client = sample_app.test_client()
    post(client, SAMPLE_QUERY, SAMPLE_BODY)

    retry = post(client, SAMPLE_QUERY, SAMPLE_BODY)

    assert retry.status_code == 200
    assert retry.get_data(as_text=True) == "success"
    assert receipt_keys(sample_app) == ["msg:6054768590064713728"]


def test_tencent_sample_forged_msg_signature_rejected(sample_app):
    query = dict(SAMPLE_QUERY, msg_signature="0" * 40)

    response = post(sample_app.test_client(), query, SAMPLE_BODY)

    assert response.status_code == 403
    assert receipt_keys(sample_app) == []


def test_plain_text_message_gets_help_reply(app, client):
    response = post(client, plain_query(), TEXT_MESSAGE)

    assert response.status_code == 200
    reply = xml_fields(response.get_data(as_text=True))
    assert reply["ToUserName"] == "oUserText000000000000000001"
    assert reply["FromUserName"] == "gh_3f9a1c2b7d4e"
    assert reply["MsgType"] == "text"
    assert reply["Content"] == REPLY_HELP
    assert receipt_keys(app) == ["msg:24340001234567890"]


def test_safe_mode_text_message_reply_encrypted(app, client):
    query, body = safe_push(TEXT_MESSAGE)

    response = post(client, query, body)

    envelope = xml_fields(response.get_data(as_text=True))
    crypto = WeChatCrypto(TOKEN, AES_KEY, APPID)
    reply = xml_fields(
        crypto.decrypt_message(
            response.get_data(as_text=True),
            envelope["MsgSignature"],
            envelope["TimeStamp"],
            envelope["Nonce"],
        )
    )
    assert reply["Content"] == REPLY_HELP
    assert reply["ToUserName"] == "oUserText000000000000000001"


def test_missing_signature_rejected_unprocessed(app, client):
    query = plain_query()
    del query["signature"]

    response = post(client, query, TEXT_MESSAGE)

    assert response.status_code == 403
    assert receipt_keys(app) == []


def test_forged_signature_rejected_unprocessed(app, client):
    query = dict(plain_query(), signature=sha1_signature("wrongtoken", "1", "2"))

    response = post(client, query, SUBSCRIBE_WITH_SCENE)

    assert response.status_code == 403
    assert receipt_keys(app) == []


def test_stale_timestamp_rejected(app, client):
    query = plain_query(timestamp=int(time.time()) - 3600)

    response = post(client, query, TEXT_MESSAGE)

    assert response.status_code == 403
    assert receipt_keys(app) == []


def test_sandbox_bad_signature_push_rejected(app, sandbox, live_product):
    result = sandbox.control("post", "/sandbox/subscribe", json={"bad_signature": True})

    assert result["status"] == 403
    assert receipt_keys(app) == []


def test_other_appid_payload_is_bad_request(app, client, caplog):
    query, body = safe_push(TEXT_MESSAGE, appid="wx0000000000000000")

    with caplog.at_level(logging.WARNING, logger="bot.callback"):
        response = post(client, query, body)

    assert response.status_code == 400
    assert receipt_keys(app) == []
    assert "Callback push rejected status=400" in caplog.text
    assert "appid inside the payload" in caplog.text


def test_broken_base64_is_bad_request(app, client, caplog):
    query, body = encrypted_push("hyzAe4Oz!!!not-base64***")

    with caplog.at_level(logging.WARNING, logger="bot.callback"):
        response = post(client, query, body)

    assert response.status_code == 400
    assert "Encrypt is not valid base64" in caplog.text
    assert receipt_keys(app) == []


def test_garbage_ciphertext_is_bad_request(app, client, caplog):
    garbage = base64.b64encode(bytes(range(64))).decode()
    query, body = encrypted_push(garbage)

    with caplog.at_level(logging.WARNING, logger="bot.callback"):
        response = post(client, query, body)

    assert response.status_code == 400
    assert "Callback push rejected status=400" in caplog.text
    assert receipt_keys(app) == []


def test_safe_mode_without_encrypt_is_bad_request(app, client):
    query, _ = encrypted_push("abc")

    response = post(client, query, "<xml><ToUserName>gh_1</ToUserName></xml>")

    assert response.status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not xml at all",
        b"<xml><Content>unclosed</xml>",
        b"<root><MsgType>text</MsgType></root>",
        b'<?xml version="1.0" encoding="no-such-encoding"?><xml/>',
        b"\xff\xfe\x00<\x00x",
        b"<xml>" + b"<a>" * 50 + b"</a>" * 50 + b"</xml>",
    ],
)
def test_malformed_body_is_bad_request(app, client, body):
    response = post(client, plain_query(), body)

    assert response.status_code == 400
    assert receipt_keys(app) == []


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_doctype_rejected_without_expansion(app, client, body):
    started = time.monotonic()

    response = post(client, plain_query(), body)

    assert response.status_code == 400
    assert time.monotonic() - started < 1
    assert receipt_keys(app) == []


def test_encrypted_doctype_rejected(app, client):
    query, body = safe_push(BILLION_LAUGHS)

    response = post(client, query, body)

    assert response.status_code == 400
    assert receipt_keys(app) == []


def test_oversize_body_rejected(small_limit_app):
    body = TEXT_MESSAGE.replace("你好", "好" * 400)
    client = small_limit_app.test_client()

    response = post(client, plain_query(), body)

    assert response.status_code == 413
    assert receipt_keys(small_limit_app) == []


def test_body_at_limit_accepted(small_limit_app):
    body = TEXT_MESSAGE.encode()
    body = body.replace("你好".encode(), b"x" * (1024 - len(body) + 6))
    client = small_limit_app.test_client()

    response = post(client, plain_query(), body)

    assert len(body) == 1024
    assert response.status_code == 200


def test_oversize_chunked_body_rejected(small_limit_app):
    live_product = ThreadedServer(small_limit_app)

    def chunks():
        yield b"<xml><Content><![CDATA["
        for _ in range(100):
            yield b"x" * 100
        yield b"]]></Content></xml>"

    response = requests.post(
        f"{live_product.url}/wechat/callback",
        params=plain_query(),
        data=chunks(),
        timeout=5,
    )
    live_product.stop()

    assert response.status_code == 413
    assert receipt_keys(small_limit_app) == []


def test_unknown_event_answered_success(app, client, caplog):
    with caplog.at_level(logging.INFO, logger="bot.callback"):
        response = post(client, plain_query(), CLICK_EVENT)

    assert response.status_code == 200
    assert response.get_data(as_text=True) == "success"
    assert "Callback push ignored msg_type=event event=CLICK" in caplog.text
    assert receipt_keys(app) == ["event:oUserClick00000000000000001:1764835202:CLICK:"]


def test_unknown_message_type_answered_success(app, client, caplog):
    with caplog.at_level(logging.INFO, logger="bot.callback"):
        response = post(client, plain_query(), IMAGE_MESSAGE)

    assert response.get_data(as_text=True) == "success"
    assert "Callback push ignored msg_type=image" in caplog.text
    assert receipt_keys(app) == ["msg:24340001234567891"]


def test_wechat_format_subscribe_with_scene(app, client):
    response = post(client, plain_query(), SUBSCRIBE_WITH_SCENE)

    reply = xml_fields(response.get_data(as_text=True))
    assert reply["Content"].startswith("该二维码无效")
    assert receipt_keys(app) == [
        "event:oUserSubscribe00000000000001:1764835200:subscribe:"
    ]


def test_event_retries_handled_once(app, staff, sandbox, live_product):
    scene = staff.post("/api/wechat/binding").get_json()["binding"]["scene"]

    result = sandbox.control(
        "post", "/sandbox/scan", json={"scene": scene, "deliveries": 4}
    )

    assert result["statuses"] == [200, 200, 200, 200]
    assert result["reply"] is None
    with app.app_context():
        bound = AuditEvent.query.filter_by(action="wechat_bound").count()
        assert bound == 1
        assert db.session.get(User, staff.user["id"]).service_openid == result["openid"]
    assert len(receipt_keys(app)) == 1


def test_binding_push_works_while_redis_down(app, staff, sandbox, live_product):
    scene = staff.post("/api/wechat/binding").get_json()["binding"]["scene"]
    app.extensions["redis"] = redis.Redis(
        host="127.0.0.1", port=9, socket_connect_timeout=0.2
    )

    result = sandbox.control("post", "/sandbox/scan", json={"scene": scene})

    assert result["status"] == 200
    assert result["reply"]["Content"].startswith("绑定成功：陈志强")
    with app.app_context():
        assert db.session.get(User, staff.user["id"]).service_openid == result["openid"]


def test_prune_receipts_keeps_recent(app, client):
    post(client, plain_query(), TEXT_MESSAGE)
    post(client, plain_query(), CLICK_EVENT)
    with app.app_context():
        old = CallbackReceipt.query.filter_by(dedupe_key="msg:24340001234567890").one()
        old.received_at = utcnow() - timedelta(days=2)
        db.session.commit()

        deleted = prune_receipts(utcnow() - timedelta(days=1))

    assert deleted == 1
    assert receipt_keys(app) == ["event:oUserClick00000000000000001:1764835202:CLICK:"]
