"""Fixtures for the sandbox tests: the app, a test client and a callback server.

The callback server is a real HTTP server on 127.0.0.1 that records every
push and responds like the product would. It checks nothing itself, and by
default replies with an encrypted text message in safe mode (built with
wechatpy, so the tests check the sandbox against an independent
implementation).
"""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from wechatpy.crypto import WeChatCrypto
from wechatpy.replies import TextReply

from tests.conftest import free_port
from wechat_sandbox import create_sandbox_app

SERVICE_APP_ID = "wxsandboxservice0001"
SERVICE_SECRET = "sandbox-service-account-secret"
MINI_APP_ID = "wxsandboxminiapp0001"
MINI_SECRET = "sandbox-miniprogram-secret"
CALLBACK_TOKEN = "sandboxtoken"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"

DIGEST_ID = "Nh7dGstP0qZ1cXvDigestDailyProgress0000000001"
RETURN_NOTICE_ID = "Nh7dGstP0qZ1cXvEntryReturnedNotice000000003"


class CallbackServer:
    """HTTP server that records pushes; ``reply`` builds each response."""

    def __init__(self):
        self.port = free_port()
        self.requests = []
        self.reply = self.reply_with_text
        self.crypto = WeChatCrypto(CALLBACK_TOKEN, AES_KEY, SERVICE_APP_ID)
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/wechat/callback"

    def start(self):
        self._thread.start()

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, count, timeout=5.0):
        """Return the recorded pushes once there are ``count``, or fail the test."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.requests) >= count:
                return self.requests
            time.sleep(0.02)
        raise AssertionError(f"expected {count} pushes, got {len(self.requests)}")

    def decrypt(self, pushed):
        """Return the plaintext XML of a recorded push (either mode)."""
        query = pushed["query"]
        if query.get("encrypt_type") != "aes":
            return pushed["body"]
        return self.crypto.decrypt_message(
            pushed["body"], query["msg_signature"], query["timestamp"], query["nonce"]
        )

    def reply_with_text(self, pushed):
        """Reply "已收到" as a text message, encrypted when the push was."""
        plain = self.decrypt(pushed)
        from_user = plain.split("<FromUserName><![CDATA[")[1].split("]]>")[0]
        reply = TextReply(source="gh_3f9a1c2b7d4e", target=from_user, content="已收到")
        xml = reply.render()
        if pushed["query"].get("encrypt_type") == "aes":
            xml = self.crypto.encrypt_message(xml, "987654321")
        return 200, xml

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                parts = urlsplit(self.path)
                pushed = {
                    "path": parts.path,
                    "query": {k: v[0] for k, v in parse_qs(parts.query).items()},
                    "body": self.rfile.read(length).decode(),
                    "content_type": self.headers.get("Content-Type"),
                }
                server.requests.append(pushed)
                status, text = server.reply(pushed)
                payload = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        return Handler


@pytest.fixture()
def callback_server():
    server = CallbackServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture()
def make_app():
    """Return a factory of sandbox apps with test settings plus ``overrides``."""

    def build(**overrides):
        config = {
            "SANDBOX_AUTO_JOBFINISH": False,
            "SANDBOX_JOBFINISH_DELAY": 0.05,
            "SANDBOX_CALLBACK_URL": f"http://127.0.0.1:{free_port()}/wechat/callback",
        }
        config.update(overrides)
        return create_sandbox_app(config)

    return build


@pytest.fixture()
def app(make_app):
    return make_app()


@pytest.fixture()
def client(app):
    return app.test_client()


def service_token(client):
    """Return a fresh basic access token of the service account."""
    response = client.get(
        "/cgi-bin/token",
        query_string={
            "grant_type": "client_credential",
            "appid": SERVICE_APP_ID,
            "secret": SERVICE_SECRET,
        },
    )
    return response.get_json()["access_token"]


def create_follower(client, **extra):
    """Create a following service-account user through the control API."""
    response = client.post("/sandbox/users", json={"following": True, **extra})
    return response.get_json()["openid"]


def return_notice(touser, **extra):
    """Return a valid send request of the return notice template for ``touser``."""
    body = {
        "touser": touser,
        "template_id": RETURN_NOTICE_ID,
        "data": {
            "thing1": {"value": "碧桂园翡翠湾"},
            "phrase2": {"value": "基本信息"},
            "thing3": {"value": "建筑面积与证件不一致"},
            "time4": {"value": "2026年12月04日 09:00"},
        },
        "miniprogram": {"appid": MINI_APP_ID, "pagepath": "pages/project/detail?id=7"},
    }
    body.update(extra)
    return body


def send(client, token, body):
    """POST a template message and return the JSON response."""
    response = client.post(
        "/cgi-bin/message/template/send",
        query_string={"access_token": token},
        json=body,
    )
    assert response.status_code == 200
    return response.get_json()
