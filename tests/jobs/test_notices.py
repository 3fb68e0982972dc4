"""Return notices: written with the return, sent after commit, swept after an outage."""

from datetime import timedelta

import redis
from rq import Queue

from jobs import fanout
from jobs.queues import QUEUE_NAME
from jobs.slots import SHANGHAI
from models import Delivery, User, db, utcnow
from models.account import ROLE_REVIEWER
from tests.conftest import free_port
from tests.factories import (
    add_project,
    fill_all,
    make_account,
    password_login,
    register_staff,
    town,
)
from tests.jobs.conftest import run_worker, sandbox_messages

LONG_OPINION = "建筑面积与规划验收资料不一致，请核对不动产权证后重新填写并上传证明"


def _setup(app, client, sandbox):
    """A bound staff member with a complete project in 狮山镇, and its reviewer."""
    with app.app_context():
        shishan_id = town("shishan").id
        make_account(ROLE_REVIEWER, "shishan_rev", "shishan")
    staff = register_staff(client, sandbox)
    with app.app_context():
        user = db.session.get(User, staff.user["id"])
        user.service_openid = "o-staff-notice"
        user.reachable = True
        db.session.commit()
    sandbox.control(
        "post", "/sandbox/users", json={"openid": "o-staff-notice", "following": True}
    )
    project = add_project(staff, shishan_id, name="翠湖花园")
    fill_all(staff, project["id"])
    reviewer = password_login(client, "shishan_rev")
    return staff, reviewer, project


def _return(reviewer, project_id, category, opinion=LONG_OPINION):
    view = reviewer.get(
        f"/api/review/projects/{project_id}/categories/{category}"
    ).get_json()
    url = f"/api/review/projects/{project_id}/categories/{category}/return"
    return reviewer.post(
        url, json={"revision_id": view["revision"]["id"], "opinion": opinion}
    )


def test_return_queues_and_enqueues_notice(app, client, sandbox, redis_connection):
    staff, reviewer, project = _setup(app, client, sandbox)
    response = _return(reviewer, project["id"], "manager")
    assert response.status_code == 200
    review_id = response.get_json()["review"]["id"]

    with app.app_context():
        delivery = Delivery.query.filter_by(kind="return_notice").one()
        key, status, page = delivery.dedupe_key, delivery.status, delivery.pagepath
    assert key == f"return_notice:review-{review_id}:user-{staff.user['id']}"
    assert status == "queued"
    assert page == f"pages/project-detail/index?id={project['id']}&category=manager"
    assert Queue(QUEUE_NAME, connection=redis_connection).count == 1


def test_return_notice_reaches_the_owner(app, client, sandbox, redis_connection):
    _, reviewer, project = _setup(app, client, sandbox)
    _return(reviewer, project["id"], "manager")
    run_worker(app, redis_connection)

    (message,) = sandbox_messages(sandbox, "o-staff-notice")
    values = {field: item["value"] for field, item in message["data"].items()}
    assert values["thing1"] == "翠湖花园"
    assert values["phrase2"] == "项目负责人"
    assert values["thing3"] == LONG_OPINION[:19] + "…"
    assert values["time4"].startswith(
        utcnow().astimezone(SHANGHAI).strftime("%Y年%m月%d日")
    )
    assert message["miniprogram"]["pagepath"] == (
        f"pages/project-detail/index?id={project['id']}&category=manager"
    )


def test_approval_sends_no_notice(app, client, sandbox, redis_connection):
    _, reviewer, project = _setup(app, client, sandbox)
    view = reviewer.get(
        f"/api/review/projects/{project['id']}/categories/basic"
    ).get_json()
    url = f"/api/review/projects/{project['id']}/categories/basic/approve"
    assert (
        reviewer.post(url, json={"revision_id": view["revision"]["id"]}).status_code
        == 200
    )
    with app.app_context():
        assert Delivery.query.count() == 0
    assert Queue(QUEUE_NAME, connection=redis_connection).count == 0


def test_failed_return_leaves_no_notice(app, client, sandbox, redis_connection):
    _, reviewer, project = _setup(app, client, sandbox)
    url = f"/api/review/projects/{project['id']}/categories/basic/return"
    response = reviewer.post(url, json={"revision_id": 999999, "opinion": "面积有误"})
    assert response.status_code == 409
    with app.app_context():
        assert Delivery.query.count() == 0
    assert Queue(QUEUE_NAME, connection=redis_connection).count == 0


def test_redis_outage_delays_but_keeps_notice(app, client, sandbox, redis_connection):
    _, reviewer, project = _setup(app, client, sandbox)
    working = app.extensions["redis"]
    # Nothing listens on this port: every enqueue fails with a connection error.
    app.extensions["redis"] = redis.Redis(port=free_port(), socket_connect_timeout=0.2)
    try:
        assert _return(reviewer, project["id"], "basic", "面积有误").status_code == 200
    finally:
        app.extensions["redis"] = working
    assert Queue(QUEUE_NAME, connection=redis_connection).count == 0

    with app.app_context():
        assert Delivery.query.one().status == "queued"
        assert fanout.sweep(utcnow() + timedelta(seconds=30)) == 1
    run_worker(app, redis_connection)

    (message,) = sandbox_messages(sandbox, "o-staff-notice")
    assert message["data"]["thing3"]["value"] == "面积有误"
