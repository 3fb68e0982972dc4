"""Fixtures for the bot wired into the product: users and their clients.

``live_product`` (in ``tests/conftest.py``) serves the app over real HTTP
so that sandbox pushes reach ``/wechat/callback`` as WeChat's would.
"""


import pytest

from models import User, db
from tests.factories import make_account, password_login, register_staff


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
