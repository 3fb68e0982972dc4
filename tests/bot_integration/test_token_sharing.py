"""Two web processes and a worker share one access token through Redis.

The processes are real children running ``create_app``. The sandbox counts
every token fetch, so a process that fetched its own token would show up.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from bot.delivery import queue_delivery
from models import ApiSession, User, db
from tests.bot_integration.conftest import bind_directly, follow, sandbox_stats
from tests.conftest import ROOT
from tests.factories import make_account

SCRIPT = ROOT / "tests" / "bot_integration" / "product_process.py"
OPENID = "oReviewerTokenShare00000001"
REQUESTERS = 6
REQUESTS_PER_REQUESTER = 4
DELIVERIES = 12
# The last deliveries are sent while the sandbox rejects every token.
REJECTED = 4
REMINDER_VALUES = {
    "thing1": "狮山镇",
    "number2": "3",
    "thing3": "1天",
    "time4": "2026年12月04日 10:00",
}


class ProductProcess:
    """A ``product_process.py`` child with its stdout piped and stderr in a file."""

    def __init__(self, mode, config, *args):
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, str(SCRIPT), mode, json.dumps(config), *map(str, args)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), "APP_ENV": "testing"},
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )

    def read_port(self):
        line = self.process.stdout.readline()
        if not line.strip():
            raise AssertionError(f"web process printed no port:\n{self.stderr()}")
        return int(line)

    def read_json_line(self):
        line = self.process.stdout.readline()
        if not line.strip():
            raise AssertionError(f"worker printed nothing:\n{self.stderr()}")
        return json.loads(line)

    def stderr(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process.stdout.close()
        self.log.close()


def seed(app):
    """Create requesters with API tokens and a bound reviewer with queued messages."""
    with app.app_context():
        tokens = []
        for number in range(REQUESTERS):
            user_id = make_account("reviewer", f"share_reviewer{number}", "shishan")
            _, token = ApiSession.open(24, user=db.session.get(User, user_id))
            tokens.append(token)
        receiver_id = make_account("reviewer", "share_receiver", "shishan")
        db.session.commit()
    bind_directly(app, receiver_id, OPENID)

    with app.app_context():
        receiver = db.session.get(User, receiver_id)
        delivery_ids = [
            queue_delivery(
                "reminder",
                receiver,
                "reminder",
                REMINDER_VALUES,
                "pages/review/list",
                f"share:{number}",
            ).id
            for number in range(DELIVERIES)
        ]
        db.session.commit()
    return tokens, delivery_ids


def wait_for_key(redis_connection, key, process, timeout=20):
    deadline = time.monotonic() + timeout
    while not redis_connection.exists(key):
        if process.process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"worker not ready:\n{process.stderr()}")
        time.sleep(0.02)


def batch(delivery_ids):
    return ",".join(str(delivery_id) for delivery_id in delivery_ids)


def request_binding(port, token):
    response = requests.post(
        f"http://127.0.0.1:{port}/api/wechat/binding",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    return response.status_code


@pytest.fixture()
def processes():
    started = []
    yield started
    for process in started:
        process.stop()


def test_processes_share_one_token(
    app, app_config, sandbox, redis_connection, processes
):
    tokens, delivery_ids = seed(app)
    shared, rejected = delivery_ids[:-REJECTED], delivery_ids[-REJECTED:]
    follow(sandbox, OPENID)
    config = {**app_config, "WECHAT_API_BASE_URL": sandbox.url}
    webs = [ProductProcess("web", config) for _ in range(2)]
    worker = ProductProcess("worker", config, batch(shared), batch(rejected))
    processes.extend([*webs, worker])
    ports = [web.read_port() for web in webs]
    wait_for_key(redis_connection, "test:ready:worker", worker)

    jobs = [
        (ports[number % 2], token)
        for number, token in enumerate(tokens * REQUESTS_PER_REQUESTER)
    ]
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        redis_connection.set("test:go:1", "1")
        codes = list(pool.map(lambda job: request_binding(*job), jobs))
    sent = worker.read_json_line()

    assert codes == [201] * len(jobs), webs[0].stderr() + webs[1].stderr()
    assert sent == ["sent"] * len(shared)
    stats = sandbox_stats(sandbox)
    assert stats["endpoints"]["stable_token"]["calls"] == 1
    assert stats["stable_token_force_refreshes"] == 0
    assert stats["endpoints"]["qrcode_create"]["ok"] == len(jobs)
    assert stats["endpoints"]["qrcode_create"]["errors"] == 0
    assert stats["endpoints"]["template_send"]["ok"] == len(shared)
    assert stats["endpoints"]["template_send"]["errors"] == 0

    # From here on the sandbox rejects every token.
    sandbox.control(
        "post",
        "/sandbox/fail",
        json={"endpoint": "template_send", "errcode": 40001, "count": -1},
    )
    redis_connection.set("test:go:2", "1")
    failed = worker.read_json_line()

    assert failed == ["failed"] * REJECTED
    after = sandbox_stats(sandbox)
    sends = after["endpoints"]["template_send"]["calls"] - len(shared)
    assert sends == 2 * REJECTED
    # One refresh per message. Only the first forces a new token, because
    # WeChat ignores forced refreshes less than 30 seconds apart.
    assert after["endpoints"]["stable_token"]["calls"] == 1 + REJECTED + 1
    assert after["stable_token_force_refreshes"] == 1
