"""Parametric QR codes: qrcode/create rules and showqrcode images."""

import io

import pytest
from PIL import Image

from tests.sandbox.conftest import service_token


def create(client, token, body):
    response = client.post(
        "/cgi-bin/qrcode/create", query_string={"access_token": token}, json=body
    )
    return response.get_json()


def str_scene(scene, **extra):
    return {
        "action_name": "QR_STR_SCENE",
        "action_info": {"scene": {"scene_str": scene}},
        **extra,
    }


def test_create_returns_ticket_expiry_and_url(client):
    body = create(
        client, service_token(client), str_scene("bind:abc", expire_seconds=600)
    )

    assert body["expire_seconds"] == 600
    assert body["url"].startswith("http://weixin.qq.com/q/")
    assert body["ticket"].endswith("==")
    assert "errcode" not in body


def test_expiry_defaults_to_60_seconds(client):
    body = create(client, service_token(client), str_scene("bind:abc"))

    assert body["expire_seconds"] == 60


def test_expiry_is_capped_at_30_days(client):
    body = create(client, service_token(client), str_scene("x", expire_seconds=9999999))

    assert body["expire_seconds"] == 2592000


def test_permanent_code_has_no_expiry(client):
    body = create(
        client,
        service_token(client),
        {"action_name": "QR_LIMIT_SCENE", "action_info": {"scene": {"scene_id": 7}}},
    )

    assert "expire_seconds" not in body
    assert body["ticket"]


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        (str_scene(""), 40053),
        (str_scene("x" * 65), 40053),
        ({"action_name": "QR_STR_SCENE", "action_info": {}}, 40053),
        ({"action_name": "QR_SCENE", "action_info": {"scene": {"scene_id": 0}}}, 40053),
        (
            {
                "action_name": "QR_LIMIT_SCENE",
                "action_info": {"scene": {"scene_id": 100001}},
            },
            40053,
        ),
        (
            {"action_name": "QR_TEMP", "action_info": {"scene": {"scene_str": "x"}}},
            40052,
        ),
        (str_scene("x", expire_seconds="600"), 47001),
        (str_scene("x", expire_seconds=0), 47001),
    ],
)
def test_create_rejects_bad_request(client, body, errcode):
    assert create(client, service_token(client), body)["errcode"] == errcode


def test_scene_of_64_characters_is_accepted(client):
    body = create(client, service_token(client), str_scene("s" * 64))

    assert "ticket" in body


def test_create_rejects_bad_tokens(client):
    token = service_token(client)

    assert create(client, "bogus", str_scene("x"))["errcode"] == 40001
    client.post("/sandbox/tokens/end", json={"access_token": token})
    expired = create(client, token, str_scene("x"))
    assert expired["errcode"] == 42001
    assert expired["errmsg"].startswith("access_token expired")


def test_showqrcode_renders_png(client):
    ticket = create(client, service_token(client), str_scene("bind:abc"))["ticket"]

    response = client.get("/cgi-bin/showqrcode", query_string={"ticket": ticket})

    assert response.status_code == 200
    assert response.mimetype == "image/png"
    image = Image.open(io.BytesIO(response.data))
    assert image.format == "PNG"
    assert image.size[0] > 100


def test_showqrcode_unknown_or_expired_ticket_is_404(client):
    ticket = create(client, service_token(client), str_scene("x", expire_seconds=60))[
        "ticket"
    ]

    unknown = client.get("/cgi-bin/showqrcode", query_string={"ticket": "nope"})
    client.post("/sandbox/clock", json={"advance_seconds": 61})
    expired = client.get("/cgi-bin/showqrcode", query_string={"ticket": ticket})

    assert unknown.status_code == 404
    assert expired.status_code == 404


def test_fail_rule_forces_qrcode_error(client):
    token = service_token(client)
    client.post("/sandbox/fail", json={"endpoint": "qrcode_create", "errcode": -1})

    failed = create(client, token, str_scene("x"))

    assert failed["errcode"] == -1
    assert failed["errmsg"].startswith("system error")
    assert "ticket" in create(client, token, str_scene("x"))
