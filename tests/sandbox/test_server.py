"""``python -m wechat_sandbox`` as a real threaded server on 127.0.0.1."""

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from tests.conftest import ROOT, free_port, wait_for_port
from tests.sandbox.conftest import (
    MINI_APP_ID,
    RETURN_NOTICE_ID,
    SERVICE_APP_ID,
    SERVICE_SECRET,
    return_notice,
)

CREDENTIALS = {
    "grant_type": "client_credential",
    "appid": SERVICE_APP_ID,
    "secret": SERVICE_SECRET,
}


@pytest.fixture()
def sandbox_url():
    port = free_port()
    env = {
        **os.environ,
        "APP_ENV": "testing",
        "SANDBOX_PORT": str(port),
        "SANDBOX_AUTO_JOBFINISH": "0",
        "SANDBOX_CALLBACK_URL": f"http://127.0.0.1:{free_port()}/wechat/callback",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "wechat_sandbox"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_server_answers_token_request(sandbox_url):
    response = requests.get(
        f"{sandbox_url}/cgi-bin/token", params=CREDENTIALS, timeout=5
    )

    assert response.status_code == 200
    assert response.json()["expires_in"] == 7200


def test_concurrent_stable_token_calls_share_one_token(sandbox_url):
    def fetch(_):
        response = requests.post(
            f"{sandbox_url}/cgi-bin/stable_token", json=CREDENTIALS, timeout=5
        )
        return response.json()["access_token"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        tokens = set(pool.map(fetch, range(16)))

    stats = requests.get(f"{sandbox_url}/sandbox/stats", timeout=5).json()
    assert len(tokens) == 1
    assert stats["endpoints"]["stable_token"]["ok"] == 16


def test_wechatpy_client_reads_sandbox_answers(sandbox_url):
    """wechatpy 1.8.18, pointed at the sandbox, parses its responses and errors."""
    token = requests.get(
        f"{sandbox_url}/cgi-bin/token", params=CREDENTIALS, timeout=5
    ).json()["access_token"]
    openid = requests.post(f"{sandbox_url}/sandbox/users", json={}, timeout=5).json()[
        "openid"
    ]
    client = WeChatClient(
        SERVICE_APP_ID, SERVICE_SECRET, access_token=token, timeout=5, auto_retry=False
    )
    client.API_BASE_URL = f"{sandbox_url}/cgi-bin/"

    qrcode = client.qrcode.create(
        {
            "expire_seconds": 600,
            "action_name": "QR_STR_SCENE",
            "action_info": {"scene": {"scene_str": "bind:wechatpy"}},
        }
    )
    sent = client.message.send_template(
        openid,
        RETURN_NOTICE_ID,
        return_notice(openid)["data"],
        mini_program={"appid": MINI_APP_ID, "pagepath": "pages/index/index"},
    )
    with pytest.raises(WeChatClientException) as rejected:
        client.message.send_template(openid, "unknown", {})

    assert qrcode["expire_seconds"] == 600
    assert sent["errcode"] == 0
    assert sent["msgid"] > 0
    assert rejected.value.errcode == 40037
