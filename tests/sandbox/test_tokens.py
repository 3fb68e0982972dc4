"""Access tokens: cgi-bin/token, cgi-bin/stable_token and how APIs check them."""

import pytest

from tests.sandbox.conftest import (
    MINI_APP_ID,
    MINI_SECRET,
    SERVICE_APP_ID,
    SERVICE_SECRET,
    service_token,
)

GOOD = {
    "grant_type": "client_credential",
    "appid": SERVICE_APP_ID,
    "secret": SERVICE_SECRET,
}


def qrcode_errcode(client, token):
    """Return the errcode of a qrcode/create call with ``token`` (0 on success)."""
    response = client.post(
        "/cgi-bin/qrcode/create",
        query_string={"access_token": token},
        json={
            "action_name": "QR_STR_SCENE",
            "action_info": {"scene": {"scene_str": "x"}},
        },
    )
    return response.get_json().get("errcode", 0)


def advance(client, seconds):
    client.post("/sandbox/clock", json={"advance_seconds": seconds})


def stable(client, **extra):
    return client.post("/cgi-bin/stable_token", json={**GOOD, **extra}).get_json()


def test_token_returns_token_and_expiry(client):
    response = client.get("/cgi-bin/token", query_string=GOOD)

    body = response.get_json()
    assert response.status_code == 200
    assert body["expires_in"] == 7200
    assert len(body["access_token"]) > 100
    assert "errcode" not in body


@pytest.mark.parametrize(
    ("change", "errcode", "errmsg_start"),
    [
        ({"appid": "wxunknown0000000001"}, 40013, "invalid appid rid: "),
        ({"secret": "wrong"}, 40125, "invalid appsecret rid: "),
        ({"grant_type": "password"}, 40002, "invalid grant_type rid: "),
        ({"appid": ""}, 41002, "appid missing rid: "),
        ({"secret": ""}, 41004, "appsecret missing rid: "),
    ],
)
def test_token_rejects_bad_credentials(client, change, errcode, errmsg_start):
    response = client.get("/cgi-bin/token", query_string={**GOOD, **change})

    body = response.get_json()
    assert response.status_code == 200
    assert body["errcode"] == errcode
    assert body["errmsg"].startswith(errmsg_start)
    assert "access_token" not in body


def test_token_issues_new_token_each_call(client):
    first = service_token(client)
    second = service_token(client)

    assert first != second
    assert qrcode_errcode(client, first) == 0
    assert qrcode_errcode(client, second) == 0


def test_previous_token_expires_five_minutes_after_refetch(client):
    first = service_token(client)
    second = service_token(client)

    advance(client, 299)
    assert qrcode_errcode(client, first) == 0
    advance(client, 2)
    assert qrcode_errcode(client, first) == 40001
    assert qrcode_errcode(client, second) == 0


def test_token_past_lifetime_answers_42001(client):
    token = service_token(client)

    advance(client, 7201)

    assert qrcode_errcode(client, token) == 42001


def test_unknown_or_missing_token_is_rejected(client):
    assert qrcode_errcode(client, "not-a-token") == 40001
    assert qrcode_errcode(client, "") == 41001


def test_miniprogram_token_cannot_call_service_api(client):
    body = client.get(
        "/cgi-bin/token",
        query_string={**GOOD, "appid": MINI_APP_ID, "secret": MINI_SECRET},
    ).get_json()

    assert qrcode_errcode(client, body["access_token"]) == 48001


def test_stable_token_repeats_same_token(client):
    first = stable(client)
    second = stable(client, force_refresh=False)

    assert first["access_token"] == second["access_token"]
    assert first["expires_in"] == 7200
    assert 7190 <= second["expires_in"] <= 7200


def test_stable_token_force_refresh_issues_new_token(client):
    first = stable(client)["access_token"]
    refreshed = stable(client, force_refresh=True)["access_token"]

    assert refreshed != first
    assert stable(client)["access_token"] == refreshed
    advance(client, 299)
    assert qrcode_errcode(client, first) == 0
    advance(client, 2)
    assert qrcode_errcode(client, first) == 40001
    assert qrcode_errcode(client, refreshed) == 0


def test_force_refresh_grace_is_configurable(make_app):
    client = make_app(SANDBOX_FORCE_REFRESH_GRACE=0).test_client()
    first = stable(client)["access_token"]

    stable(client, force_refresh=True)

    assert qrcode_errcode(client, first) == 40001


def test_stable_token_renews_in_last_five_minutes(client):
    first = stable(client)["access_token"]

    advance(client, 7200 - 299)
    renewed = stable(client)

    assert renewed["access_token"] != first
    assert renewed["expires_in"] == 7200
    assert qrcode_errcode(client, first) == 0
    advance(client, 300)
    assert qrcode_errcode(client, first) == 42001


def test_stable_and_basic_tokens_are_independent(client):
    stable_value = stable(client)["access_token"]

    service_token(client)
    service_token(client)
    advance(client, 600)

    assert qrcode_errcode(client, stable_value) == 0
    assert stable(client)["access_token"] == stable_value


@pytest.mark.parametrize(
    ("change", "errcode"),
    [
        ({"appid": "wxunknown0000000001"}, 40013),
        ({"secret": "wrong"}, 40125),
        ({"grant_type": "authorization_code"}, 40002),
        ({"force_refresh": "yes"}, 47001),
    ],
)
def test_stable_token_rejects_bad_request(client, change, errcode):
    assert stable(client, **change)["errcode"] == errcode


def test_stable_token_rejects_get_and_bad_body(client):
    assert client.get("/cgi-bin/stable_token").get_json()["errcode"] == 43002
    empty = client.post("/cgi-bin/stable_token", data="")
    assert empty.get_json()["errcode"] == 44002
    broken = client.post("/cgi-bin/stable_token", data="{not json")
    assert broken.get_json()["errcode"] == 47001


def test_stats_count_token_fetches_and_force_refreshes(client):
    service_token(client)
    stable(client)
    stable(client, force_refresh=True)
    stable(client, secret="wrong")

    stats = client.get("/sandbox/stats").get_json()

    assert stats["endpoints"]["token"] == {"calls": 1, "ok": 1, "errors": 0}
    assert stats["endpoints"]["stable_token"] == {"calls": 3, "ok": 2, "errors": 1}
    assert stats["stable_token_force_refreshes"] == 1


def test_end_tokens_expires_or_revokes(client):
    expired = service_token(client)
    revoked = stable(client)["access_token"]

    client.post("/sandbox/tokens/end", json={"access_token": expired})
    client.post("/sandbox/tokens/end", json={"access_token": revoked, "mode": "revoke"})

    assert qrcode_errcode(client, expired) == 42001
    assert qrcode_errcode(client, revoked) == 40001
