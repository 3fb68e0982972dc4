"""The delivery log, the schedule, the digest button, rq-dashboard and notices."""

import re

from rq import Queue

from bot.delivery import queue_delivery
from jobs.queues import QUEUE_NAME
from jobs.worker import AppSimpleWorker
from models import AuditEvent, Delivery, Notice, SlotRun, User, db
from tests.console.conftest import bind_user, console_as, text_of

NOTICE_VALUES = {
    "thing1": "桂城街道房管所",
    "thing2": "请尽快完成填报",
    "time3": "2026年12月04日 09:00",
}


def _queue(app, user_id, key, kind="notice"):
    with app.app_context():
        user = db.session.get(User, user_id)
        delivery = queue_delivery(
            kind, user, "notice", NOTICE_VALUES, "pages/project-list/index", key
        )
        db.session.commit()
        return delivery.id


def _row_ids(page):
    return [int(value) for value in re.findall(r'data-delivery-id="(\d+)"', page)]


def test_delivery_log_filters(app, world):
    bind_user(app, world.users["off_gc"], "o-off-gc")
    bind_user(app, world.users["rev_gc"], "o-rev-gc")
    sent = _queue(app, world.users["off_gc"], "test:1")
    failed = _queue(app, world.users["rev_gc"], "test:2", kind="reminder")
    skipped = _queue(app, world.users["rev_jj"], "test:3")
    with app.app_context():
        row = db.session.get(Delivery, failed)
        row.status, row.last_errcode, row.last_error = (
            "failed",
            47003,
            "argument invalid",
        )
        db.session.commit()
    admin = console_as(app, "admin")

    everything = _row_ids(text_of(admin.get("/console/messages")))
    by_status = _row_ids(text_of(admin.get("/console/messages?status=failed")))
    by_errcode = _row_ids(text_of(admin.get("/console/messages?errcode=47003")))
    by_kind = _row_ids(text_of(admin.get("/console/messages?kind=notice")))
    by_recipient = _row_ids(text_of(admin.get("/console/messages?recipient=off_gc")))
    skipped_rows = _row_ids(text_of(admin.get("/console/messages?status=skipped")))

    assert everything == [skipped, failed, sent]
    assert by_status == [failed]
    assert by_errcode == [failed]
    assert by_kind == [skipped, sent]
    assert by_recipient == [sent]
    assert skipped_rows == [skipped]


def test_schedule_shows_next_slots_in_shanghai_time(app, world):
    admin = console_as(app, "admin")

    page = text_of(admin.get("/console/schedule"))

    slots = page.split('id="next-slots"')[1].split("</table>")[0]
    times = re.findall(r"<td>(\d{4}-\d\d-\d\d \d\d:\d\d)</td>", slots)
    assert times
    assert {time[-5:] for time in times} <= {"09:00", "10:00", "14:00", "17:00"}


def test_digest_button_sends_once_a_day(app, world):
    bind_user(app, world.users["off_gc"], "o-off-gc")
    bind_user(app, world.users["rev_gc"], "o-rev-gc")
    admin = console_as(app, "admin")

    first = admin.post("/console/schedule/digest")
    first_page = text_of(admin.get("/console/schedule"))
    with app.app_context():
        rows_after_first = Delivery.query.filter_by(kind="digest").count()
    second = admin.post("/console/schedule/digest")
    second_page = text_of(admin.get("/console/schedule"))

    assert first.status_code == second.status_code == 302
    assert "已开始发送" in first_page
    assert "已发送过" in second_page
    with app.app_context():
        runs = SlotRun.query.filter_by(kind="digest").all()
        assert len(runs) == 1
        assert runs[0].trigger == "manual"
        digests = Delivery.query.filter_by(kind="digest").all()
        queued = {row.user_id for row in digests if row.status != "skipped"}
        assert queued == {world.users["off_gc"], world.users["rev_gc"]}
        assert len(digests) == rows_after_first
        events = AuditEvent.query.filter_by(action="send_digest_now").all()
        assert [event.detail["created"] for event in events] == [True, False]
    recent = second_page.split('id="recent-runs"')[1].split("</table>")[0]
    assert "手动" in recent


def test_rq_dashboard_is_admin_only(app, world):
    bind_user(app, world.users["off_district"], "o-district")
    admin = console_as(app, "admin")
    official = console_as(app, "off_district")

    page = admin.get("/console/rq/")

    assert page.status_code == 200
    assert b"RQ" in page.data
    assert official.get("/console/rq/").status_code == 403


def test_rq_dashboard_posts_need_same_origin(app, world, redis_connection):
    admin = console_as(app, "admin")
    path = f"/console/rq/requeue/{QUEUE_NAME}"

    forged = admin.client.post(path, headers={"Origin": "https://example.com"})
    missing = admin.client.post(path)
    same_site = admin.client.post(path, headers={"Origin": "http://localhost"})

    assert forged.status_code == 403
    assert missing.status_code == 403
    assert same_site.status_code == 200


def _notice(
    console, town_id, content="请于本周五前完成全部填报", publisher="桂城街道房管所"
):
    return console.post(
        "/console/notices",
        {
            "town": str(town_id) if town_id else "",
            "publisher": publisher,
            "content": content,
        },
    )


def test_notice_goes_to_bound_staff_of_the_town(
    app, world, sandbox, client, redis_connection
):
    from tests.factories import add_project, register_staff

    other_staff = register_staff(client, sandbox, name="李秀梅")
    add_project(other_staff, world.jiujiang_id, name="九江名都", address="九江镇1号")
    bind_user(app, world.staff_id, "o-staff-gc")
    bind_user(app, other_staff.user["id"], "o-staff-jj")
    sandbox.control(
        "post", "/sandbox/users", json={"openid": "o-staff-gc", "following": True}
    )
    official = console_as(app, "off_gc")

    response = _notice(official, world.guicheng_id)

    assert response.status_code == 302
    with app.app_context():
        notice = Notice.query.one()
        assert (notice.recipients, notice.town_id) == (1, world.guicheng_id)
        row = Delivery.query.filter_by(kind="notice").one()
        assert row.dedupe_key == f"notice:{notice.id}:user-{world.staff_id}"
        assert row.pagepath == "pages/project-list/index"
    worker = AppSimpleWorker(
        [Queue(QUEUE_NAME, connection=redis_connection)], connection=redis_connection
    )
    worker.flask_app = app
    worker.work(burst=True)
    messages = sandbox.control("get", "/sandbox/messages?openid=o-staff-gc")["messages"]
    assert len(messages) == 1
    assert messages[0]["data"]["thing2"]["value"] == "请于本周五前完成全部填报"
    page = text_of(official.get("/console/notices"))
    assert "已发送 1" in page


def test_notice_longer_than_twenty_characters_is_rejected(app, world):
    official = console_as(app, "off_gc")

    response = _notice(official, world.guicheng_id, content="请" * 21)

    assert response.status_code == 422
    assert "通知内容不能超过20个字，当前21个字" in text_of(response)
    with app.app_context():
        assert Notice.query.count() == 0


def test_town_official_cannot_notify_another_town(app, world):
    official = console_as(app, "off_gc")

    response = _notice(official, world.jiujiang_id)

    assert response.status_code == 403


def test_admin_notice_to_every_town(app, world):
    bind_user(app, world.staff_id, "o-staff-gc")
    admin = console_as(app, "admin")

    _notice(admin, None, publisher="南海区物业信息采集工作组")

    with app.app_context():
        notice = Notice.query.one()
        assert notice.town_id is None
        assert notice.recipients == 1
