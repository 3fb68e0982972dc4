"""Fixtures for the bot wired into the product: a live product server and users.

``live_product`` serves the test's app over real HTTP on 127.0.0.1 and
points the sandbox's callback at it, so sandbox pushes (scans, follows,
job results) reach ``/wechat/callback`` as WeChat's would.
"""

import threading

import pytest
from werkzeug.serving import make_server

from models import User, db
from tests.factories import make_account, password_login, register_staff


class LiveServer:
    """The product app served from a thread on 127.0.0.1."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), daemon=True
        )
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def live_product(app, sandbox):
    server = LiveServer(app)
    sandbox.app.config["SANDBOX_CALLBACK_URL"] = f"{server.url}/wechat/callback"
    yield server
    server.stop()


@pytest.fixture()
def staff(client, sandbox):
    """A registered staff member's API client (name 陈志强)."""
    return register_staff(client, sandbox)


@pytest.fixture()
def reviewer(app, client):
    """A reviewer of 狮山镇 logged in through the API."""
    with app.app_context():
        make_account("reviewer", "shishan_reviewer", "shishan")
    return password_login(client, "shishan_reviewer")


def load_user(app, user_id):
    """Return a detached copy of the user's columns as a dict."""
    with app.app_context():
        user = db.session.get(User, user_id)
        return {
            "name": user.name,
            "service_openid": user.service_openid,
            "reachable": user.reachable,
            "bound_at": user.bound_at,
        }


def bind_directly(app, user_id, openid, reachable=True):
    """Store a service openid on a user without a scan, for delivery tests."""
    from models import utcnow

    with app.app_context():
        user = db.session.get(User, user_id)
        user.service_openid = openid
        user.reachable = reachable
        user.bound_at = utcnow()
        db.session.commit()


def follow(sandbox, openid, following=True):
    """Make ``openid`` a (following) user of the sandbox's service account."""
    return sandbox.control(
        "post", "/sandbox/users", json={"openid": openid, "following": following}
    )


def sandbox_stats(sandbox):
    return sandbox.control("get", "/sandbox/stats")
