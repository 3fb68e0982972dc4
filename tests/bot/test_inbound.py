import time
import tracemalloc

import pytest

from bot import crypto
from bot.errors import BadPayload, InvalidSignature, TooLarge, WrongAppId
from bot.inbound import (
    CallbackCodec,
    binding_scene,
    build_text_reply,
    dedup_key,
    parse_xml,
)

from .tencent_sample import (
    AES_KEY,
    APPID,
    ENCRYPT,
    MSG_SIGNATURE,
    NONCE,
    SIGNATURE,
    TIMESTAMP,
    TOKEN,
)

KEY = crypto.decode_aes_key(AES_KEY)
SAMPLE_ENVELOPE = (
    "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>"
    f"<Encrypt><![CDATA[{ENCRYPT}]]></Encrypt></xml>"
)
SAMPLE_QUERY = {
    "signature": SIGNATURE,
    "timestamp": TIMESTAMP,
    "nonce": NONCE,
    "openid": "oyORnuP8q7ou2gfYjqLzSIWZf0rs",
    "encrypt_type": "aes",
    "msg_signature": MSG_SIGNATURE,
}
SAMPLE_TIME = int(TIMESTAMP)

SUBSCRIBE_EVENT = (
    "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>"
    "<FromUserName><![CDATA[oService_user1]]></FromUserName>"
    "<CreateTime>1409735669</CreateTime>"
    "<MsgType><![CDATA[event]]></MsgType>"
    "<Event><![CDATA[subscribe]]></Event>"
    "<EventKey><![CDATA[qrscene_bind:7f3a9c]]></EventKey>"
    "<Ticket><![CDATA[gQFT8DwAAAAAAAAAAS5odHRw]]></Ticket></xml>"
)

BILLION_LAUGHS = (
    '<?xml version="1.0"?>'
    "<!DOCTYPE lolz ["
    '<!ENTITY lol "lol">'
    '<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
    '<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">'
    '<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">'
    '<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">'
    '<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">'
    '<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">'
    '<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">'
    "]>"
    "<xml><Content>&lol9;</Content></xml>"
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?>'
    '<!DOCTYPE xml [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
    "<xml><Content>&secret;</Content></xml>"
)
PARAMETER_ENTITY = (
    '<?xml version="1.0"?>'
    '<!DOCTYPE xml [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/x.dtd"> %remote;]>'
    "<xml><Content>x</Content></xml>"
)


def plain_query(timestamp=TIMESTAMP, nonce=NONCE, token=TOKEN):
    return {
        "signature": crypto.compute_signature(token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
    }


def safe_push(xml, timestamp=TIMESTAMP, nonce=NONCE, appid=APPID):
    """Return the body and query WeChat would send for ``xml`` in safe mode."""
    encrypted = crypto.encrypt(xml.encode(), KEY, appid)
    query = dict(plain_query(timestamp, nonce), encrypt_type="aes")
    query["msg_signature"] = crypto.compute_signature(
        TOKEN, timestamp, nonce, encrypted
    )
    return f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>", query


@pytest.fixture()
def codec():
    return CallbackCodec(TOKEN, APPID, AES_KEY, max_bytes=64 * 1024, max_age=300)


def test_sample_safe_mode_push_parses(codec):
    message = codec.parse(SAMPLE_ENVELOPE.encode(), SAMPLE_QUERY, now=SAMPLE_TIME)

    assert message == {
        "ToUserName": "gh_10f6c3c3ac5a",
        "FromUserName": "oyORnuP8q7ou2gfYjqLzSIWZf0rs",
        "CreateTime": "1409735668",
        "MsgType": "text",
        "Content": "abcdteT",
        "MsgId": "6054768590064713728",
    }


def test_safe_mode_push_without_plain_signature_parses(codec):
    query = dict(SAMPLE_QUERY)
    del query["signature"]

    message = codec.parse(SAMPLE_ENVELOPE, query, now=SAMPLE_TIME)

    assert message["Content"] == "abcdteT"


def test_safe_mode_forged_msg_signature_rejected(codec):
    query = dict(SAMPLE_QUERY, msg_signature="0" * 40)

    with pytest.raises(InvalidSignature) as caught:
        codec.parse(SAMPLE_ENVELOPE, query, now=SAMPLE_TIME)

    assert caught.value.http_status == 403


def test_safe_mode_forged_plain_signature_rejected(codec):
    query = dict(SAMPLE_QUERY, signature="0" * 40)

    with pytest.raises(InvalidSignature):
        codec.parse(SAMPLE_ENVELOPE, query, now=SAMPLE_TIME)


def test_safe_mode_old_timestamp_rejected(codec):
    with pytest.raises(InvalidSignature):
        codec.parse(SAMPLE_ENVELOPE, SAMPLE_QUERY, now=SAMPLE_TIME + 301)


def test_safe_mode_without_key_rejected():
    codec = CallbackCodec(TOKEN, APPID, aes_key=None, max_age=0)

    with pytest.raises(BadPayload):
        codec.parse(SAMPLE_ENVELOPE, SAMPLE_QUERY)


def test_safe_mode_envelope_without_encrypt_rejected(codec):
    with pytest.raises(BadPayload):
        codec.parse(
            "<xml><ToUserName>gh_1</ToUserName></xml>", SAMPLE_QUERY, SAMPLE_TIME
        )


def test_safe_mode_other_appid_rejected(codec):
    body, query = safe_push(SUBSCRIBE_EVENT, appid="wx0000000000000000")

    with pytest.raises(WrongAppId) as caught:
        codec.parse(body, query, now=SAMPLE_TIME)

    assert str(caught.value) == "appid inside the payload is not this app's"


def test_safe_mode_truncated_ciphertext_rejected(codec):
    truncated = ENCRYPT[:-7]
    query = dict(
        SAMPLE_QUERY,
        msg_signature=crypto.compute_signature(TOKEN, TIMESTAMP, NONCE, truncated),
    )
    body = f"<xml><Encrypt><![CDATA[{truncated}]]></Encrypt></xml>"

    with pytest.raises(BadPayload) as caught:
        codec.parse(body, query, now=SAMPLE_TIME)

    assert caught.value.http_status == 400


def test_safe_mode_decrypted_doctype_rejected(codec):
    body, query = safe_push(BILLION_LAUGHS)

    with pytest.raises(BadPayload) as caught:
        codec.parse(body, query, now=SAMPLE_TIME)

    assert str(caught.value) == "XML rejected: DTDForbidden"


def test_safe_mode_event_parses(codec):
    body, query = safe_push(SUBSCRIBE_EVENT)

    message = codec.parse(body, query, now=SAMPLE_TIME)

    assert message["Event"] == "subscribe"
    assert message["EventKey"] == "qrscene_bind:7f3a9c"
    assert message["Ticket"] == "gQFT8DwAAAAAAAAAAS5odHRw"


def test_plain_push_parses(codec):
    message = codec.parse(SUBSCRIBE_EVENT, plain_query(), now=SAMPLE_TIME)

    assert message["FromUserName"] == "oService_user1"
    assert message["CreateTime"] == "1409735669"


def test_plain_push_forged_signature_rejected(codec):
    query = plain_query(token="not-our-token")

    with pytest.raises(InvalidSignature):
        codec.parse(SUBSCRIBE_EVENT, query, now=SAMPLE_TIME)


def test_plain_push_missing_signature_rejected(codec):
    query = {"timestamp": TIMESTAMP, "nonce": NONCE}

    with pytest.raises(InvalidSignature):
        codec.parse(SUBSCRIBE_EVENT, query, now=SAMPLE_TIME)


def test_plain_push_old_timestamp_rejected(codec):
    with pytest.raises(InvalidSignature):
        codec.parse(SUBSCRIBE_EVENT, plain_query(), now=SAMPLE_TIME + 3600)


def test_oversize_body_rejected_before_signature_check():
    codec = CallbackCodec(TOKEN, APPID, AES_KEY, max_bytes=1024, max_age=0)
    body = "<xml><Content>" + "a" * 2000 + "</Content></xml>"

    with pytest.raises(TooLarge) as caught:
        parse_xml(body, 1024)
    with pytest.raises(TooLarge):
        codec.parse(body, plain_query())

    assert caught.value.http_status == 413


def test_byte_limit_is_inclusive():
    body = b"<xml><Content>" + b"a" * 84 + b"</Content></xml>"

    assert parse_xml(body, len(body)) == {"Content": "a" * 84}
    with pytest.raises(TooLarge):
        parse_xml(body, len(body) - 1)


def test_billion_laughs_rejected_fast_without_expansion():
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(BadPayload) as caught:
        parse_xml(BILLION_LAUGHS, 64 * 1024)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert str(caught.value) == "XML rejected: DTDForbidden"
    assert elapsed < 0.5
    assert peak < 1024 * 1024


def test_external_entity_rejected():
    with pytest.raises(BadPayload) as caught:
        parse_xml(EXTERNAL_ENTITY, 64 * 1024)

    assert str(caught.value) == "XML rejected: DTDForbidden"
    assert "root:" not in str(caught.value)


def test_parameter_entity_rejected():
    with pytest.raises(BadPayload):
        parse_xml(PARAMETER_ENTITY, 64 * 1024)


def test_plain_push_with_doctype_rejected(codec):
    with pytest.raises(BadPayload):
        codec.parse(EXTERNAL_ENTITY, plain_query(), now=SAMPLE_TIME)


@pytest.mark.parametrize(
    "body",
    [
        "",
        "not xml",
        "<xml><Content>open",
        "<root><Content>x</Content></root>",
        "<xml>" + "<a>" * 20 + "</a>" * 20 + "</xml>",
    ],
)
def test_malformed_xml_rejected(body):
    with pytest.raises(BadPayload):
        parse_xml(body, 64 * 1024)


def test_nested_and_repeated_elements_parsed():
    body = (
        "<xml><SendPicsInfo><Count>2</Count><PicList>"
        "<item><PicMd5Sum>aaa</PicMd5Sum></item>"
        "<item><PicMd5Sum>bbb</PicMd5Sum></item>"
        "</PicList></SendPicsInfo></xml>"
    )

    assert parse_xml(body, 64 * 1024) == {
        "SendPicsInfo": {
            "Count": "2",
            "PicList": {"item": [{"PicMd5Sum": "aaa"}, {"PicMd5Sum": "bbb"}]},
        }
    }


def test_empty_element_parsed_as_empty_string():
    assert parse_xml("<xml><EventKey></EventKey></xml>", 1024) == {"EventKey": ""}


def test_template_finish_event_fields_parsed():
    body = (
        "<xml><ToUserName><![CDATA[gh_1]]></ToUserName>"
        "<FromUserName><![CDATA[oService_user1]]></FromUserName>"
        "<CreateTime>1395658920</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event>"
        "<MsgID>200163836</MsgID><Status><![CDATA[failed:user block]]></Status></xml>"
    )

    message = parse_xml(body, 1024)

    assert message["MsgID"] == "200163836"
    assert message["Status"] == "failed:user block"


def test_verify_url_returns_echostr(codec):
    query = dict(plain_query(), echostr="5837397749632380573")

    assert codec.verify_url(query, now=SAMPLE_TIME) == "5837397749632380573"


def test_verify_url_forged_signature_rejected(codec):
    query = dict(plain_query(), signature="f" * 40, echostr="1")

    with pytest.raises(InvalidSignature):
        codec.verify_url(query, now=SAMPLE_TIME)


def test_plain_reply_returned_unchanged(codec):
    reply = "<xml><Content>ok</Content></xml>"

    assert codec.render_reply(reply, plain_query()) == reply


def test_safe_mode_reply_decrypts_with_its_signature(codec):
    reply = build_text_reply(
        {"FromUserName": "oUser", "ToUserName": "gh_1"}, "绑定成功"
    )

    rendered = codec.render_reply(reply, SAMPLE_QUERY, now=SAMPLE_TIME)

    envelope = parse_xml(rendered, 64 * 1024)
    crypto.verify_msg_signature(
        TOKEN,
        envelope["MsgSignature"],
        envelope["TimeStamp"],
        envelope["Nonce"],
        envelope["Encrypt"],
    )
    assert envelope["TimeStamp"] == TIMESTAMP
    assert crypto.decrypt(envelope["Encrypt"], KEY, APPID).decode() == reply


def test_codec_rejects_invalid_aes_key():
    with pytest.raises(ValueError):
        CallbackCodec(TOKEN, APPID, "too-short")


def test_codec_repr_hides_token():
    assert TOKEN not in repr(CallbackCodec(TOKEN, APPID, AES_KEY))


@pytest.mark.parametrize(
    ("event", "event_key", "scene"),
    [
        ("subscribe", "qrscene_bind:7f3a9c", "bind:7f3a9c"),
        ("SCAN", "bind:7f3a9c", "bind:7f3a9c"),
        ("subscribe", "", None),
        ("subscribe", "last_trade_no_4200000123", None),
        ("subscribe", "qrscene_", None),
        ("SCAN", "", None),
        ("unsubscribe", "qrscene_bind:7f3a9c", None),
        ("CLICK", "bind:7f3a9c", None),
    ],
)
def test_binding_scene_from_events(event, event_key, scene):
    message = {"MsgType": "event", "Event": event, "EventKey": event_key}

    assert binding_scene(message) == scene


def test_binding_scene_ignores_text_messages():
    message = {"MsgType": "text", "Content": "qrscene_bind:1", "EventKey": "x"}

    assert binding_scene(message) is None


def test_binding_scene_ignores_missing_event_key():
    assert binding_scene({"MsgType": "event", "Event": "subscribe"}) is None


def test_dedup_key_of_message_uses_msgid():
    message = {"MsgId": "6054768590064713728", "FromUserName": "oUser"}

    assert dedup_key(message) == "msg:6054768590064713728"


def test_dedup_key_of_event_uses_sender_and_time():
    message = {"FromUserName": "oUser", "CreateTime": "1409735669", "Event": "SCAN"}

    assert dedup_key(message) == "event:oUser:1409735669:SCAN:"


def test_dedup_key_keeps_template_results_apart():
    first = {"FromUserName": "oUser", "CreateTime": "1", "MsgID": "200163836"}
    second = {"FromUserName": "oUser", "CreateTime": "1", "MsgID": "200163837"}

    assert dedup_key(first) != dedup_key(second)


def test_text_reply_swaps_sender_and_recipient():
    reply = build_text_reply(
        {"FromUserName": "oUser", "ToUserName": "gh_1"}, "绑定成功", now=1409735670
    )

    assert parse_xml(reply, 1024) == {
        "ToUserName": "oUser",
        "FromUserName": "gh_1",
        "CreateTime": "1409735670",
        "MsgType": "text",
        "Content": "绑定成功",
    }


def test_text_reply_keeps_cdata_terminator_in_content():
    reply = build_text_reply({"FromUserName": "o", "ToUserName": "g"}, "a]]>b<c>")

    assert parse_xml(reply, 1024)["Content"] == "a]]>b<c>"
