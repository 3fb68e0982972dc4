"""A fake WeChat API server on 127.0.0.1 for the ``bot`` tests.

It serves the endpoints the product calls with WeChat's JSON shapes and
errcodes, records every request, and issues access tokens the way
``cgi-bin/stable_token`` does. In normal mode it returns the current token
until that token is close to expiry, and in forced mode it always issues a
new one. Replies can be scripted per path to make WeChat fail.
"""

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest

from bot.client import ServiceAccountClient
from bot.token_store import SharedAccessToken

APPID = "wxfakeservice00001"
SECRET = "fake-service-secret"
MINI_APPID = "wxfakeminiapp00001"
MINI_SECRET = "fake-miniapp-secret"

ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40003: "invalid openid",
    40013: "invalid appid",
    40014: "invalid access_token",
    40029: "invalid code",
    40037: "invalid template_id",
    40125: "invalid appsecret",
    40163: "code been used",
    40226: "code blocked",
    41001: "access_token missing",
    42001: "access_token expired",
    43004: "require subscribe",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit  mustslower  retry next minute",
    47003: "argument invalid! data.thing1.value invalid",
    48001: "api unauthorized",
}


def wechat_error(errcode):
    """Return WeChat's error body, with the random request id it appends."""
    return {"errcode": errcode, "errmsg": f"{ERRMSG[errcode]} rid: 6560a1b2-0c0d0e0f"}


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict
    body: dict | None


class FakeWeChat:
    """State and scripted replies of the fake server. Thread-safe."""

    appid = APPID
    secret = SECRET
    mini_appid = MINI_APPID
    mini_secret = MINI_SECRET
    error = staticmethod(wechat_error)

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []
        self.queued = {}
        self.fixed = {}
        self.delays = {}
        self.token_lifetime = 7200
        self.current_token = None
        self.current_token_expires_at = 0.0
        self.valid_tokens = set()
        self.tokens_issued = 0
        self.msgids_issued = 0
        self.server = None

    @property
    def base_url(self):
        host, port = self.server.server_address
        return f"http://{host}:{port}"

    def requests_to(self, path):
        with self.lock:
            return [request for request in self.requests if request.path == path]

    def count(self, path):
        return len(self.requests_to(path))

    def queue_reply(self, path, *bodies):
        """Reply to the next requests to ``path`` with ``bodies``, in order."""
        with self.lock:
            self.queued.setdefault(path, []).extend(bodies)

    def always_reply(self, path, body):
        """Reply to every request to ``path`` with ``body``."""
        with self.lock:
            self.fixed[path] = body

    def delay(self, path, seconds):
        with self.lock:
            self.delays[path] = seconds

    def rotate_token(self):
        """Invalidate the current token, as a forced refresh elsewhere would."""
        with self.lock:
            self.valid_tokens.clear()
            return self._issue_token()

    def set_token_remaining(self, seconds):
        with self.lock:
            self.current_token_expires_at = time.time() + seconds

    def handle(self, method, path, query, body):
        with self.lock:
            self.requests.append(RecordedRequest(method, path, query, body))
            delay = self.delays.get(path, 0)
            scripted = self._scripted(path)
        if delay:
            time.sleep(delay)
        if scripted is not None:
            return 200, scripted

        route = ROUTES.get(path)
        if route is None:
            return 404, {"error": "not found"}
        with self.lock:
            return 200, route(self, query, body or {})

    def _scripted(self, path):
        if self.queued.get(path):
            return self.queued[path].pop(0)
        return self.fixed.get(path)

    def _issue_token(self):
        self.tokens_issued += 1
        self.current_token = f"ACCESS_TOKEN_{self.tokens_issued:04d}"
        self.current_token_expires_at = time.time() + self.token_lifetime
        self.valid_tokens.add(self.current_token)
        return self.current_token

    def _check_token(self, query):
        token = query.get("access_token")
        if not token:
            return wechat_error(41001)
        if token not in self.valid_tokens:
            return wechat_error(40001)
        return None

    def stable_token(self, query, body):
        if body.get("appid") != APPID:
            return wechat_error(40013)
        if body.get("secret") != SECRET:
            return wechat_error(40125)

        remaining = self.current_token_expires_at - time.time()
        near_expiry = remaining < min(300, self.token_lifetime / 2)
        if body.get("force_refresh"):
            self.valid_tokens.clear()
            self._issue_token()
        elif self.current_token is None or near_expiry:
            self._issue_token()
        remaining = self.current_token_expires_at - time.time()
        return {"access_token": self.current_token, "expires_in": int(remaining)}

    def qrcode_create(self, query, body):
        error = self._check_token(query)
        if error:
            return error
        scene = body.get("action_info", {}).get("scene", {}).get("scene_str", "")
        if body.get("action_name") != "QR_STR_SCENE" or not 1 <= len(scene) <= 64:
            return {"errcode": 40053, "errmsg": "invalid action info"}
        return {
            "ticket": f"gQFT8DwAAAAAAAAAAS5odHRw{len(self.requests)}",
            "expire_seconds": body.get("expire_seconds", 60),
            "url": f"http://weixin.qq.com/q/02fake{len(self.requests)}",
        }

    def template_send(self, query, body):
        error = self._check_token(query)
        if error:
            return error
        self.msgids_issued += 1
        return {"errcode": 0, "errmsg": "ok", "msgid": 200228332 + self.msgids_issued}

    def jscode2session(self, query, body):
        if query.get("appid") != MINI_APPID:
            return wechat_error(40013)
        if query.get("secret") != MINI_SECRET:
            return wechat_error(40125)
        return {
            "openid": f"oMini_{query.get('js_code')}",
            "session_key": "tiihtNczf5v6AKRyjwEUhQ==",
        }


ROUTES = {
    "/cgi-bin/stable_token": FakeWeChat.stable_token,
    "/cgi-bin/qrcode/create": FakeWeChat.qrcode_create,
    "/cgi-bin/message/template/send": FakeWeChat.template_send,
    "/sns/jscode2session": FakeWeChat.jscode2session,
}


class FakeWeChatHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def _serve(self, method):
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None

        status, reply = self.server.fake.handle(method, parts.path, query, body)
        payload = json.dumps(reply, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format, *args):
        pass


@pytest.fixture()
def fake_wechat():
    fake = FakeWeChat()
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeWeChatHandler)
    server.daemon_threads = True
    server.fake = fake
    fake.server = server
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture()
def token_store(redis_connection, fake_wechat):
    return SharedAccessToken(
        redis_connection, APPID, SECRET, fake_wechat.base_url, timeout=2
    )


@pytest.fixture()
def client(token_store, fake_wechat):
    return ServiceAccountClient(token_store, fake_wechat.base_url, timeout=2)
