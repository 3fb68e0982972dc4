"""Fixtures for the console: browser-like clients per role and a small world.

``ConsoleClient`` logs in through the real login form and sends the CSRF
token each form carries, as a browser would. ``world`` builds, through the
API and the workflow, two towns' accounts and one project of 桂城街道 with
every category submitted and 基本信息 approved.
"""

import re
from dataclasses import dataclass, field

import pytest

from models import User, db
from models.account import ROLE_ADMIN, ROLE_OFFICIAL, ROLE_REVIEWER, ROLE_STAFF
from tests.factories import (
    PASSWORD,
    add_project,
    fill_all,
    make_account,
    password_login,
    register_staff,
    town,
)

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


class ConsoleClient:
    """A Flask test client with its own cookies, used like a browser."""

    def __init__(self, app):
        self.app = app
        self.client = app.test_client()

    def csrf_token(self):
        page = self.client.get("/console/login").get_data(as_text=True)
        return CSRF_FIELD.search(page).group(1)

    def login(self, username, password=PASSWORD):
        return self.post("/console/login", {"username": username, "password": password})

    def get(self, path, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path, data=None, csrf=True, **kwargs):
        form = dict(data or {})
        if csrf:
            form["csrf_token"] = self.csrf_token()
        return self.client.post(path, data=form, **kwargs)


def text_of(response):
    return response.get_data(as_text=True)


@dataclass
class World:
    """Ids of the rows ``world`` built; usernames are the keys of ``users``."""

    guicheng_id: int
    jiujiang_id: int
    project_id: int
    staff_id: int
    staff_token: str
    users: dict = field(default_factory=dict)


ACCOUNTS = {
    "rev_gc": (ROLE_REVIEWER, "guicheng"),
    "rev_jj": (ROLE_REVIEWER, "jiujiang"),
    "off_gc": (ROLE_OFFICIAL, "guicheng"),
    "off_district": (ROLE_OFFICIAL, None),
    "admin": (ROLE_ADMIN, None),
    "staff_pw": (ROLE_STAFF, None),
}


@pytest.fixture()
def world(app, client, sandbox):
    with app.app_context():
        users = {
            username: make_account(role, username, town_slug)
            for username, (role, town_slug) in ACCOUNTS.items()
        }
        guicheng_id, jiujiang_id = town("guicheng").id, town("jiujiang").id
    staff = register_staff(client, sandbox, name="陈志强")
    project = add_project(
        staff,
        guicheng_id,
        name="桂城翠湖花园",
        address="佛山市南海区桂城街道南海大道18号",
    )
    fill_all(staff, project["id"])
    reviewer = password_login(client, "rev_gc")
    approve_category(reviewer, project["id"], "basic")
    return World(
        guicheng_id, jiujiang_id, project["id"], staff.user["id"], staff.token, users
    )


def approve_category(reviewer_api, project_id, category):
    path = f"/api/review/projects/{project_id}/categories/{category}"
    revision_id = reviewer_api.get(path).get_json()["entry"]["current_revision_id"]
    response = reviewer_api.post(f"{path}/approve", json={"revision_id": revision_id})
    assert response.status_code == 200, response.get_json()


def console_as(app, username):
    """Return a ``ConsoleClient`` logged in as ``username``."""
    console = ConsoleClient(app)
    response = console.login(username)
    assert response.status_code == 302, text_of(response)
    return console


def bind_user(app, user_id, openid):
    """Store a service-account openid on a user, as a scan would."""
    from models import utcnow

    with app.app_context():
        user = db.session.get(User, user_id)
        user.service_openid = openid
        user.reachable = True
        user.bound_at = utcnow()
        db.session.commit()


@pytest.fixture()
def live_console(live_product):
    """The product on real HTTP, with the sandbox's pushes aimed at its callback."""
    return live_product
