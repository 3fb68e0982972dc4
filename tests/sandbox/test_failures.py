"""Injected failures: next-N rules, per-openid rules, clearing and validation."""

import pytest

from tests.sandbox.conftest import (
    SERVICE_APP_ID,
    SERVICE_SECRET,
    create_follower,
    return_notice,
    send,
)

TOKEN_QUERY = {
    "grant_type": "client_credential",
    "appid": SERVICE_APP_ID,
    "secret": SERVICE_SECRET,
}


def fail(client, **rule):
    return client.post("/sandbox/fail", json=rule)


def token_errcode(client):
    return (
        client.get("/cgi-bin/token", query_string=TOKEN_QUERY)
        .get_json()
        .get("errcode", 0)
    )


def test_rule_fails_next_n_calls_then_stops(client):
    fail(client, endpoint="token", errcode=-1, count=2)

    results = [token_errcode(client) for _ in range(3)]

    assert results == [-1, -1, 0]
    assert client.get("/sandbox/fail").get_json()["rules"] == []


def test_rule_answers_wechat_errmsg(client):
    fail(client, endpoint="template_send", errcode=45009)
    openid = create_follower(client)
    token = client.get("/cgi-bin/token", query_string=TOKEN_QUERY).get_json()

    body = send(client, token["access_token"], return_notice(openid))

    assert body["errcode"] == 45009
    assert body["errmsg"].startswith("reach max api daily quota limit rid: ")
    assert "msgid" not in body


def test_openid_rule_fails_only_that_recipient_until_cleared(client):
    token = client.get("/cgi-bin/token", query_string=TOKEN_QUERY).get_json()
    token = token["access_token"]
    blocked = create_follower(client)
    other = create_follower(client)
    fail(client, endpoint="template_send", errcode=45009, count=-1, openid=blocked)

    results = [send(client, token, return_notice(blocked))["errcode"] for _ in range(3)]
    other_result = send(client, token, return_notice(other))["errcode"]
    cleared = client.delete("/sandbox/fail").get_json()
    after = send(client, token, return_notice(blocked))["errcode"]

    assert results == [45009, 45009, 45009]
    assert other_result == 0
    assert cleared == {"cleared": 1}
    assert after == 0


def test_wildcard_rule_matches_any_endpoint(client):
    fail(client, endpoint="*", errcode=-1, count=2)

    token_result = token_errcode(client)
    stable = client.post("/cgi-bin/stable_token", json=TOKEN_QUERY).get_json()

    assert token_result == -1
    assert stable["errcode"] == -1
    assert token_errcode(client) == 0


def test_rule_with_custom_errmsg(client):
    fail(client, endpoint="token", errcode=40164, errmsg="invalid ip 1.2.3.4")

    body = client.get("/cgi-bin/token", query_string=TOKEN_QUERY).get_json()

    assert body["errcode"] == 40164
    assert body["errmsg"].startswith("invalid ip 1.2.3.4 rid: ")


def test_rules_apply_in_order_added(client):
    fail(client, endpoint="token", errcode=45009)
    fail(client, endpoint="token", errcode=-1)

    assert [token_errcode(client) for _ in range(3)] == [45009, -1, 0]


def test_injected_failures_are_counted(client):
    fail(client, endpoint="token", errcode=-1, count=2)
    token_errcode(client)
    token_errcode(client)

    stats = client.get("/sandbox/stats").get_json()

    assert stats["injected_failures"] == 2
    assert stats["endpoints"]["token"] == {"calls": 2, "ok": 0, "errors": 2}


@pytest.mark.parametrize(
    "rule",
    [
        {"endpoint": "send", "errcode": -1},
        {"endpoint": "token", "errcode": 0},
        {"endpoint": "token", "errcode": "45009"},
        {"endpoint": "token", "errcode": -1, "count": 0},
        {"endpoint": "token", "errcode": -1, "count": -2},
    ],
)
def test_invalid_rule_is_rejected(client, rule):
    response = fail(client, **rule)

    assert response.status_code == 400
    assert response.get_json()["error"].startswith("失败规则无效")
    assert client.get("/sandbox/fail").get_json()["rules"] == []
