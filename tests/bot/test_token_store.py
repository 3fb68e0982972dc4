import json
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis

from bot.errors import AccessTokenError
from bot.token_store import SharedAccessToken

STABLE_TOKEN = "/cgi-bin/stable_token"
ROOT = Path(__file__).resolve().parents[2]
APPID = "wxfakeservice00001"
SECRET = "fake-service-secret"
KEY = f"wechat:access_token:{APPID}"


def test_get_fetches_once_and_reuses_token(token_store, fake_wechat):
    tokens = {token_store.get() for _ in range(20)}

    assert tokens == {"ACCESS_TOKEN_0001"}
    assert fake_wechat.count(STABLE_TOKEN) == 1


def test_get_posts_stable_token_body(token_store, fake_wechat):
    token_store.get()

    (request,) = fake_wechat.requests_to(STABLE_TOKEN)
    assert request.method == "POST"
    assert request.body == {
        "grant_type": "client_credential",
        "appid": APPID,
        "secret": SECRET,
        "force_refresh": False,
    }


def test_token_and_expiry_stored_in_redis(token_store, redis_connection):
    token_store.get()

    stored = redis_connection.hgetall(KEY)
    assert stored[b"token"] == b"ACCESS_TOKEN_0001"
    assert stored[b"expires_in"] == b"7199"
    assert 7190 <= redis_connection.ttl(KEY) <= 7200


def test_second_store_reads_token_without_fetching(
    token_store, redis_connection, fake_wechat
):
    first = token_store.get()
    other = SharedAccessToken(redis_connection, APPID, SECRET, fake_wechat.base_url, 2)

    assert other.get() == first
    assert fake_wechat.count(STABLE_TOKEN) == 1


def test_get_refreshes_token_near_expiry(token_store, redis_connection, fake_wechat):
    token_store.get()
    fake_wechat.set_token_remaining(100)
    redis_connection.expire(KEY, 100)

    assert token_store.get() == "ACCESS_TOKEN_0002"
    assert fake_wechat.count(STABLE_TOKEN) == 2


def test_short_lived_token_refreshes_at_half_life(redis_connection, fake_wechat):
    fake_wechat.token_lifetime = 4
    store = SharedAccessToken(redis_connection, APPID, SECRET, fake_wechat.base_url, 2)
    first = store.get()

    assert store.get() == first
    time.sleep(2.2)
    assert store.get() == "ACCESS_TOKEN_0002"
    assert first == "ACCESS_TOKEN_0001"


def test_get_keeps_valid_token_when_refresh_fails(
    token_store, redis_connection, fake_wechat
):
    token_store.get()
    redis_connection.expire(KEY, 60)
    fake_wechat.always_reply(STABLE_TOKEN, fake_wechat.error(-1))

    assert token_store.get() == "ACCESS_TOKEN_0001"
    assert fake_wechat.count(STABLE_TOKEN) == 2


def test_fetch_error_raises_with_errcode(token_store, fake_wechat):
    fake_wechat.always_reply(STABLE_TOKEN, fake_wechat.error(40125))

    with pytest.raises(AccessTokenError) as caught:
        token_store.get()

    assert caught.value.errcode == 40125


def test_unreachable_wechat_raises_without_errcode(redis_connection):
    store = SharedAccessToken(
        redis_connection, APPID, SECRET, "http://127.0.0.1:9", 0.5
    )

    with pytest.raises(AccessTokenError) as caught:
        store.get()

    assert caught.value.errcode is None


def test_force_refresh_replaces_rejected_token(token_store, fake_wechat):
    stale = token_store.get()
    fake_wechat.rotate_token()

    assert token_store.force_refresh(stale) == "ACCESS_TOKEN_0002"
    assert token_store.get() == "ACCESS_TOKEN_0002"
    assert fake_wechat.count(STABLE_TOKEN) == 2


def test_force_refresh_of_replaced_token_does_not_fetch(token_store, fake_wechat):
    stale = token_store.get()
    fake_wechat.rotate_token()
    token_store.force_refresh(stale)

    assert token_store.force_refresh(stale) == "ACCESS_TOKEN_0002"
    assert fake_wechat.count(STABLE_TOKEN) == 2


def test_concurrent_force_refresh_fetches_once(token_store, fake_wechat):
    stale = token_store.get()
    fake_wechat.rotate_token()
    fake_wechat.delay(STABLE_TOKEN, 0.3)
    results = []

    def refresh():
        results.append(token_store.force_refresh(stale))

    threads = [threading.Thread(target=refresh) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == ["ACCESS_TOKEN_0002"] * 8
    assert fake_wechat.count(STABLE_TOKEN) == 2


def test_force_refresh_uses_forced_mode_when_token_unchanged(token_store, fake_wechat):
    stale = token_store.get()

    assert token_store.force_refresh(stale) == "ACCESS_TOKEN_0002"
    modes = [r.body["force_refresh"] for r in fake_wechat.requests_to(STABLE_TOKEN)]
    assert modes == [False, False, True]


def test_forced_mode_waits_thirty_seconds_between_uses(token_store, fake_wechat):
    first = token_store.get()
    second = token_store.force_refresh(first)

    assert token_store.force_refresh(second) == second
    modes = [r.body["force_refresh"] for r in fake_wechat.requests_to(STABLE_TOKEN)]
    assert modes == [False, False, True, False]


def test_get_waits_for_lock_holder_that_died(
    token_store, redis_connection, fake_wechat
):
    redis_connection.set(f"{KEY}:lock", "another-process", px=300)
    started = time.monotonic()

    assert token_store.get() == "ACCESS_TOKEN_0001"
    assert time.monotonic() - started >= 0.25
    assert fake_wechat.count(STABLE_TOKEN) == 1


def test_get_times_out_when_lock_never_frees(token_store, redis_connection):
    redis_connection.set(f"{KEY}:lock", "another-process", px=10_000)
    token_store.wait_seconds = 0.3

    with pytest.raises(AccessTokenError) as caught:
        token_store.get()

    assert caught.value.errcode is None


def test_lock_released_after_fetch(token_store, redis_connection):
    token_store.get()

    assert redis_connection.exists(f"{KEY}:lock") == 0


def test_token_and_secret_never_logged(token_store, fake_wechat, caplog):
    caplog.set_level(logging.DEBUG, logger="bot")
    token = token_store.get()
    fake_wechat.always_reply(STABLE_TOKEN, fake_wechat.error(40125))
    with pytest.raises(AccessTokenError):
        token_store.force_refresh(token)

    assert "Fetched access token" in caplog.text
    assert token not in caplog.text
    assert SECRET not in caplog.text
    assert SECRET not in repr(token_store)


def _start_worker(redis_url, base_url, name):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    command = [
        sys.executable,
        str(Path(__file__).with_name("token_worker.py")),
        redis_url,
        base_url,
        APPID,
        SECRET,
        "50",
        name,
    ]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _wait_for_keys(connection, keys, timeout=20):
    deadline = time.monotonic() + timeout
    while not all(connection.exists(key) for key in keys):
        assert time.monotonic() < deadline, f"workers never set {keys}"
        time.sleep(0.01)


def test_three_processes_share_one_fetch(redis_url, fake_wechat):
    fake_wechat.delay(STABLE_TOKEN, 0.5)
    connection = redis.Redis.from_url(redis_url)
    store = SharedAccessToken(connection, APPID, SECRET, fake_wechat.base_url, 5)
    workers = [
        _start_worker(redis_url, fake_wechat.base_url, name) for name in ("a", "b")
    ]
    _wait_for_keys(connection, ["test:ready:a", "test:ready:b"])

    connection.set("test:go", "1")
    in_test = {store.get() for _ in range(50)}
    outputs = [worker.communicate(timeout=30) for worker in workers]

    assert [worker.returncode for worker in workers] == [0, 0], outputs
    assert [json.loads(stdout) for stdout, _ in outputs] == [
        ["ACCESS_TOKEN_0001"],
        ["ACCESS_TOKEN_0001"],
    ]
    assert in_test == {"ACCESS_TOKEN_0001"}
    assert fake_wechat.count(STABLE_TOKEN) == 1
    connection.close()
