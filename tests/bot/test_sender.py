import logging

import pytest

from bot.client import ServiceAccountClient
from bot.sender import (
    FAILED,
    FAILED_LOUD,
    RETRY_LATER,
    SENT,
    UNREACHABLE,
    backoff_seconds,
    send_with_policy,
)
from bot.token_store import SharedAccessToken

TEMPLATE_SEND = "/cgi-bin/message/template/send"
STABLE_TOKEN = "/cgi-bin/stable_token"
DATA = {"thing1": {"value": "桂城花园二期"}}


def send(client, token_store, openid="oService_user1", client_msg_id="notice:1"):
    return send_with_policy(
        client,
        token_store,
        openid,
        "Nh7dTemplate",
        DATA,
        miniprogram_appid="wxfakeminiapp00001",
        pagepath="pages/index/index",
        client_msg_id=client_msg_id,
    )


def test_successful_send_returns_msgid(client, token_store, fake_wechat):
    outcome = send(client, token_store)

    assert outcome.status == SENT
    assert outcome.msgid == 200228333
    assert outcome.token_refreshed is False
    (request,) = fake_wechat.requests_to(TEMPLATE_SEND)
    assert request.body["client_msg_id"] == "notice:1"
    assert request.body["miniprogram"]["pagepath"] == "pages/index/index"


def test_rotated_token_refreshed_once_then_sent(client, token_store, fake_wechat):
    token_store.get()
    fake_wechat.rotate_token()

    outcome = send(client, token_store)

    assert outcome.status == SENT
    assert outcome.token_refreshed is True
    tokens = [r.query["access_token"] for r in fake_wechat.requests_to(TEMPLATE_SEND)]
    assert tokens == ["ACCESS_TOKEN_0001", "ACCESS_TOKEN_0002"]
    assert fake_wechat.count(STABLE_TOKEN) == 2


@pytest.mark.parametrize("errcode", [40001, 40014, 42001])
def test_token_error_refreshes_and_retries_once(
    client, token_store, fake_wechat, errcode
):
    fake_wechat.queue_reply(TEMPLATE_SEND, fake_wechat.error(errcode))

    outcome = send(client, token_store)

    assert outcome.status == SENT
    assert outcome.token_refreshed is True
    assert fake_wechat.count(TEMPLATE_SEND) == 2


def test_constant_40001_gives_one_refresh_per_message(client, token_store, fake_wechat):
    fake_wechat.always_reply(TEMPLATE_SEND, fake_wechat.error(40001))

    outcomes = [send(client, token_store, client_msg_id=f"n:{i}") for i in range(3)]

    assert [o.status for o in outcomes] == [FAILED] * 3
    assert [o.errcode for o in outcomes] == [40001] * 3
    assert [o.token_refreshed for o in outcomes] == [True] * 3
    assert fake_wechat.count(TEMPLATE_SEND) == 6
    # One fetch for the first get(), then one refresh per message. Only the
    # first refresh may use forced mode, because WeChat allows one forced
    # refresh per 30 seconds.
    modes = [r.body["force_refresh"] for r in fake_wechat.requests_to(STABLE_TOKEN)]
    assert modes == [False, False, True, False, False]


def test_constant_40001_retries_each_message_with_fresh_token(
    client, token_store, fake_wechat
):
    fake_wechat.always_reply(TEMPLATE_SEND, fake_wechat.error(40001))

    send(client, token_store)

    tokens = [r.query["access_token"] for r in fake_wechat.requests_to(TEMPLATE_SEND)]
    assert tokens == ["ACCESS_TOKEN_0001", "ACCESS_TOKEN_0002"]


@pytest.mark.parametrize(
    ("errcode", "status", "stops_batch"),
    [
        (-1, RETRY_LATER, False),
        (45009, RETRY_LATER, False),
        (43004, UNREACHABLE, False),
        (40003, UNREACHABLE, False),
        (40037, FAILED_LOUD, True),
        (47003, FAILED_LOUD, True),
        (48001, FAILED, False),
    ],
)
def test_send_errors_classified_without_retry(
    client, token_store, fake_wechat, errcode, status, stops_batch
):
    fake_wechat.queue_reply(TEMPLATE_SEND, fake_wechat.error(errcode))

    outcome = send(client, token_store)

    assert outcome.status == status
    assert outcome.errcode == errcode
    assert outcome.stops_batch is stops_batch
    assert outcome.retryable is (status == RETRY_LATER)
    assert fake_wechat.count(TEMPLATE_SEND) == 1
    assert fake_wechat.count(STABLE_TOKEN) == 1


def test_timeout_retries_later(token_store, fake_wechat):
    client = ServiceAccountClient(token_store, fake_wechat.base_url, timeout=0.3)
    fake_wechat.delay(TEMPLATE_SEND, 1.0)

    outcome = send(client, token_store)

    assert outcome.status == RETRY_LATER
    assert outcome.errcode is None


def test_invalid_secret_stops_batch(redis_connection, fake_wechat):
    store = SharedAccessToken(
        redis_connection, fake_wechat.appid, "wrong-secret", fake_wechat.base_url, 2
    )
    client = ServiceAccountClient(store, fake_wechat.base_url, 2)

    outcome = send(client, store)

    assert outcome.status == FAILED_LOUD
    assert outcome.errcode == 40125
    assert fake_wechat.count(TEMPLATE_SEND) == 0


def test_unreachable_token_endpoint_retries_later(redis_connection):
    store = SharedAccessToken(
        redis_connection, "wxfakeservice00001", "secret", "http://127.0.0.1:9", 0.5
    )
    client = ServiceAccountClient(store, "http://127.0.0.1:9", 0.5)

    outcome = send(client, store)

    assert outcome.status == RETRY_LATER
    assert outcome.errcode is None


def test_failed_refresh_after_token_error_reported(client, token_store, fake_wechat):
    fake_wechat.queue_reply(TEMPLATE_SEND, fake_wechat.error(40001))
    token_store.get()
    fake_wechat.always_reply(STABLE_TOKEN, fake_wechat.error(45009))

    outcome = send(client, token_store)

    assert outcome.status == RETRY_LATER
    assert outcome.errcode == 45009
    assert fake_wechat.count(TEMPLATE_SEND) == 1


def test_send_log_has_ids_but_no_token(client, token_store, fake_wechat, caplog):
    caplog.set_level(logging.DEBUG, logger="bot")
    fake_wechat.queue_reply(TEMPLATE_SEND, fake_wechat.error(47003))

    send(client, token_store, client_msg_id="return_notice:12")

    assert "client_msg_id=return_notice:12 status=failed_loud" in caplog.text
    assert "ACCESS_TOKEN_0001" not in caplog.text


@pytest.mark.parametrize(
    ("attempt", "seconds"),
    [(1, 60), (2, 120), (3, 240), (6, 1920), (7, 3600), (10_000, 3600)],
)
def test_backoff_doubles_up_to_cap(attempt, seconds):
    assert backoff_seconds(attempt) == seconds


def test_backoff_respects_custom_base_and_cap():
    assert backoff_seconds(4, base=5, cap=30) == 30
