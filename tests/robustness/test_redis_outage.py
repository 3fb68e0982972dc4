"""Redis stops while staff fill in forms and a reviewer returns a category.

Sessions, form data and the outbox live in the database, so while Redis is
down saves and reviews still succeed, the health check reports degraded,
and the return notice waits as a queued outbox row. Once Redis is back the
periodic tick's sweep enqueues that row and a worker sends it once.
"""

from datetime import timedelta

import pytest

from jobs.tick import tick
from jobs.worker import AppSimpleWorker
from models import Delivery, Entry, User, db, utcnow
from models.account import ROLE_REVIEWER
from tests.factories import (
    VALID_OTHER,
    add_project,
    fill_all,
    make_account,
    password_login,
    register_staff,
    save,
    town,
)

STAFF_SERVICE_OPENID = "o-outage-staff-service-openid"
STAFF_MINIPROGRAM_OPENID = "o-outage-staff-miniprogram-openid"


class BurstWorker(AppSimpleWorker):
    """The test worker, with a pubsub thread that stops within 0.1 s.

    rq 3.0 starts the worker's pubsub thread with ``sleep_time=60``, and
    redis-py 8.2's ``PubSubWorkerThread.stop()`` joins it with no timeout,
    so a burst run can wait up to a minute at teardown.
    """

    def subscribe(self):
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=0.1,
            daemon=True,
            exception_handler=self._pubsub_exception_handler,
        )


@pytest.fixture()
def stopped_redis(redis_server):
    """Stop the session's Redis inside the test; restart it whatever happens."""
    yield redis_server
    if redis_server.process is None:
        redis_server.start()


def _bind_to_service_account(app, sandbox, user_id):
    sandbox.control("post", "/sandbox/users", json={"openid": STAFF_SERVICE_OPENID})
    with app.app_context():
        user = db.session.get(User, user_id)
        user.service_openid = STAFF_SERVICE_OPENID
        user.reachable = True
        user.bound_at = utcnow()
        db.session.commit()


def _setup(app, sandbox):
    client = app.test_client()
    with app.app_context():
        town_id = town("lishui").id
        make_account(ROLE_REVIEWER, "lishui_rev", "lishui")
    staff = register_staff(client, sandbox, openid=STAFF_MINIPROGRAM_OPENID)
    _bind_to_service_account(app, sandbox, staff.user["id"])
    reviewer = password_login(client, "lishui_rev")
    project = add_project(
        staff, town_id, name="里水和顺花园", address="佛山市南海区里水镇和顺大道8号"
    )
    fill_all(staff, project["id"])
    return client, staff, reviewer, project


def _return_other(reviewer, project_id):
    detail = reviewer.get(
        f"/api/review/projects/{project_id}/categories/other"
    ).get_json()
    return reviewer.post(
        f"/api/review/projects/{project_id}/categories/other/return",
        json={
            "revision_id": detail["entry"]["current_revision_id"],
            "opinion": "车位数量与备案资料不一致，请核对",
        },
    )


def test_saves_and_returns_work_while_redis_down(app, sandbox, stopped_redis):
    client, staff, reviewer, project = _setup(app, sandbox)

    stopped_redis.stop()
    health = client.get("/healthz")
    code = sandbox.wx_login_code(STAFF_MINIPROGRAM_OPENID)["code"]
    login = client.post("/api/auth/wx-login", json={"code": code})
    draft = save(staff, project["id"], "other", dict(VALID_OTHER, lifts=30), 1)
    returned = _return_other(reviewer, project["id"])
    fixed = save(staff, project["id"], "other", dict(VALID_OTHER, parking_below=700), 2)

    assert health.status_code == 503
    assert health.get_json() == {
        "status": "degraded",
        "checks": {"database": "ok", "redis": "unavailable"},
    }
    assert login.status_code == 200, login.get_json()
    assert login.get_json()["user"]["id"] == staff.user["id"]
    assert draft.status_code == 200, draft.get_json()
    assert draft.get_json()["entry"]["version"] == 2
    assert returned.status_code == 200, returned.get_json()
    assert returned.get_json()["entry"]["state"] == "returned"
    assert fixed.status_code == 200, fixed.get_json()
    assert fixed.get_json()["entry"]["state"] == "submitted"
    with app.app_context():
        entry = Entry.query.filter_by(project_id=project["id"], category="other").one()
        assert entry.version == 3
        assert entry.data["parking_below"] == 700
        notice = Delivery.query.filter_by(kind="return_notice").one()
        assert notice.status == "queued"
        assert notice.openid == STAFF_SERVICE_OPENID


def test_return_notice_sent_once_after_redis_back(app, sandbox, stopped_redis):
    _, _, reviewer, project = _setup(app, sandbox)

    stopped_redis.stop()
    assert _return_other(reviewer, project["id"]).status_code == 200
    stopped_redis.start()

    later = (utcnow() + timedelta(minutes=1)).isoformat()
    with app.app_context():
        summary = tick(later)
        assert summary["swept"] == 1
        assert tick(later)["swept"] == 0
        worker = BurstWorker(["default"], connection=app.extensions["redis"])
        worker.flask_app = app
        worker.work(burst=True)

    messages = sandbox.control(
        "get", "/sandbox/messages", params={"openid": STAFF_SERVICE_OPENID}
    )["messages"]
    assert len(messages) == 1
    assert messages[0]["data"]["thing1"]["value"] == "里水和顺花园"
    assert messages[0]["data"]["thing3"]["value"] == "车位数量与备案资料不一致，请核对"
    with app.app_context():
        notice = Delivery.query.filter_by(kind="return_notice").one()
        assert notice.status == "sent"
        assert notice.attempts == 1
