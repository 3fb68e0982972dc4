"""Fixtures for the jobs suite: a fixed campaign, bound users, in-process workers.

Time is injected: slot planning takes ``now`` explicitly, and the campaign
runs from 2026-12-01 to 2026-12-31 whatever the real date is.
"""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from rq import Queue

from jobs.queues import QUEUE_NAME
from jobs.worker import AppSimpleWorker
from models import User, db
from models.account import ROLE_OFFICIAL, ROLE_REVIEWER, ROLE_STAFF
from models.form_schema import load_schema
from models.project import DECISION_APPROVE, DECISION_RETURN
from models.workflow import create_project, review_entry, save_entry
from tests.factories import VALID_BASIC, VALID_OTHER, town

SHANGHAI = ZoneInfo("Asia/Shanghai")
CAMPAIGN_START = date(2026, 12, 1)
CAMPAIGN_DEADLINE = date(2026, 12, 31)


def shanghai(day, hour, minute=0):
    """Return the aware UTC instant of a Shanghai wall-clock time on 2026-12-``day``."""
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture()
def app_config(app_config):
    return {
        **app_config,
        "CAMPAIGN_START": CAMPAIGN_START,
        "CAMPAIGN_DEADLINE": CAMPAIGN_DEADLINE,
        "SEND_RATE_PER_SECOND": 1000,
        "SEND_CONCURRENCY": 4,
        "SEND_CHUNK_SIZE": 5,
    }


def add_user(role, name, town_slug=None, openid=None, reachable=True, sandbox=None):
    """Insert a user, bound to ``openid`` and following in ``sandbox`` when given."""
    user = User(
        role=role,
        name=name,
        username=f"{role}-{name}" if role != ROLE_STAFF else None,
        town=town(town_slug) if town_slug else None,
        service_openid=openid,
        reachable=bool(openid) and reachable,
    )
    db.session.add(user)
    db.session.commit()
    if sandbox is not None and openid:
        sandbox.control(
            "post", "/sandbox/users", json={"openid": openid, "following": True}
        )
    return user


def add_reviewer(town_slug, name, sandbox=None, bound=True):
    openid = f"o-reviewer-{name}" if bound else None
    return add_user(ROLE_REVIEWER, name, town_slug, openid, sandbox=sandbox)


def add_official(name, town_slug=None, sandbox=None):
    return add_user(
        ROLE_OFFICIAL, name, town_slug, f"o-official-{name}", sandbox=sandbox
    )


def add_staff(name, sandbox=None, bound=True):
    openid = f"o-staff-{name}" if bound else None
    return add_user(ROLE_STAFF, name, None, openid, sandbox=sandbox)


def schema(app):
    return load_schema(app.config["FORM_SCHEMA_FILE"])


def project_with(app, owner, town_slug, name, states, reviewer=None):
    """Create a project through the workflow with ``states`` per category.

    ``states`` maps a category to "draft", "submitted", "approved" or
    "returned"; categories not named stay empty.
    """
    form = schema(app)
    project = create_project(form, owner, town(town_slug), name, f"{name}地址1号")
    db.session.flush()
    for entry in project.entries:
        state = states.get(entry.category)
        if state is None:
            continue
        data = _complete(entry.category, name)
        if state == "draft":
            data = DRAFTS[entry.category]
        save_entry(form, entry, data, entry.version, owner, file_exists=lambda _: True)
        if state in ("approved", "returned"):
            decision = DECISION_APPROVE if state == "approved" else DECISION_RETURN
            opinion = (
                "建筑面积与规划验收资料不一致，请核对后重新填写"
                if state == "returned"
                else ""
            )
            review_entry(entry, entry.current_revision_id, decision, opinion, reviewer)
    db.session.commit()
    return project


DRAFTS = {
    "basic": {"community": "狮山社区"},
    "other": {"lifts": 3},
    "manager": {"manager_name": "陈志强"},
}


def _complete(category, name):
    if category == "basic":
        return dict(VALID_BASIC, project_name=name, address=f"{name}地址1号")
    if category == "other":
        return dict(VALID_OTHER)
    return {
        "manager_name": "陈志强",
        "manager_id_number": "11010519491231002X",
        "manager_mobile": "13800138000",
        "manager_position": "项目经理",
        "manager_years": 8,
        "manager_id_proof": 1,
    }


class InlineWorker(AppSimpleWorker):
    """An in-process worker without rq's command channel.

    rq 3.0 listens for commands (stop a job) in a pub/sub thread whose
    ``stop()`` can wait up to 60 seconds; no command is ever sent to it.
    """

    def subscribe(self):
        self.pubsub = None

    def unsubscribe(self):
        pass


def run_worker(app, redis_connection):
    """Run every queued job in this process, then return the worker."""
    worker = InlineWorker(
        [Queue(QUEUE_NAME, connection=redis_connection)], connection=redis_connection
    )
    worker.flask_app = app
    worker.work(burst=True)
    return worker


def sandbox_messages(sandbox, openid=None):
    params = {"openid": openid} if openid else None
    return sandbox.control("get", "/sandbox/messages", params=params)["messages"]
