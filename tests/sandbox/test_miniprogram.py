"""Mini-program login: codes from the control API, exchanged at jscode2session."""

import base64

import pytest

from tests.sandbox.conftest import MINI_APP_ID, MINI_SECRET, SERVICE_APP_ID


def mint(client, **body):
    return client.post("/sandbox/miniprogram/codes", json=body).get_json()


def exchange(client, code, **change):
    params = {
        "appid": MINI_APP_ID,
        "secret": MINI_SECRET,
        "js_code": code,
        "grant_type": "authorization_code",
    }
    params.update(change)
    return client.get("/sns/jscode2session", query_string=params).get_json()


def test_code_exchanges_for_openid_and_session_key(client):
    minted = mint(client)

    body = exchange(client, minted["code"])

    assert body["openid"] == minted["openid"]
    assert len(base64.b64decode(body["session_key"])) == 16
    assert "errcode" not in body
    assert "unionid" not in body


def test_code_for_given_openid_and_unionid(client):
    minted = mint(client, openid="oMiniUser000000000000000001", unionid="oUnion0001")

    body = exchange(client, minted["code"])

    assert minted["openid"] == "oMiniUser000000000000000001"
    assert body["openid"] == "oMiniUser000000000000000001"
    assert body["unionid"] == "oUnion0001"


def test_new_codes_get_distinct_openids(client):
    first = mint(client)
    second = mint(client)

    assert first["openid"] != second["openid"]
    assert first["openid"].startswith("o")
    assert len(first["openid"]) == 28


def test_code_is_single_use(client):
    code = mint(client)["code"]

    exchange(client, code)
    again = exchange(client, code)

    assert again["errcode"] == 40163
    assert again["errmsg"].startswith("code been used rid: ")


def test_unknown_code_answers_40029(client):
    body = exchange(client, "0" * 32)

    assert body["errcode"] == 40029
    assert body["errmsg"].startswith("invalid code")


def test_code_expires_after_five_minutes(client):
    fresh = mint(client)["code"]
    stale = mint(client)["code"]

    client.post("/sandbox/clock", json={"advance_seconds": 299})
    assert "openid" in exchange(client, fresh)
    client.post("/sandbox/clock", json={"advance_seconds": 2})

    assert exchange(client, stale)["errcode"] == 40029


@pytest.mark.parametrize(
    ("change", "errcode"),
    [
        ({"appid": SERVICE_APP_ID}, 40013),
        ({"appid": "wxunknown0000000001"}, 40013),
        ({"secret": "wrong"}, 40125),
        ({"grant_type": "client_credential"}, 40002),
        ({"js_code": ""}, 41008),
    ],
)
def test_exchange_rejects_bad_request(client, change, errcode):
    code = mint(client)["code"]

    assert exchange(client, code, **change)["errcode"] == errcode


def test_rejected_request_leaves_code_usable(client):
    minted = mint(client)

    exchange(client, minted["code"], secret="wrong")

    assert exchange(client, minted["code"])["openid"] == minted["openid"]


@pytest.mark.parametrize("errcode", [45011, 40226, -1])
def test_fail_rule_forces_login_error(client, errcode):
    minted = mint(client)
    client.post(
        "/sandbox/fail", json={"endpoint": "jscode2session", "errcode": errcode}
    )

    failed = exchange(client, minted["code"])
    retried = exchange(client, minted["code"])

    assert failed["errcode"] == errcode
    assert retried["openid"] == minted["openid"]


def test_fail_rule_for_openid_blocks_only_that_user(client):
    blocked = mint(client)
    other = mint(client)
    client.post(
        "/sandbox/fail",
        json={
            "endpoint": "jscode2session",
            "errcode": 40226,
            "count": -1,
            "openid": blocked["openid"],
        },
    )

    first = exchange(client, blocked["code"])
    second = exchange(client, blocked["code"])

    assert first["errcode"] == 40226
    assert first["errmsg"].startswith("code blocked")
    assert second["errcode"] == 40226
    assert exchange(client, other["code"])["openid"] == other["openid"]
