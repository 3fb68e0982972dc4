"""Template delivery through the outbox, against the sandbox's send endpoint."""

from datetime import UTC, datetime, timedelta

import pytest

from bot.delivery import (
    CredentialsRejected,
    TemplateRejected,
    client_msg_id_for,
    deliver,
    queue_delivery,
)
from bot.errors import TemplateFieldError
from bot.sender import MAX_SEND_ATTEMPTS
from models import Delivery, User, db
from tests.bot_integration.conftest import (
    bind_directly,
    follow,
    load_user,
    sandbox_stats,
)
from tests.factories import make_account

OPENID = "oReviewerShishan00000000001"
NOW = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
REMINDER_ID = "Nh7dGstP0qZ1cXvReviewReminder00000000000002"
REMINDER_VALUES = {
    "thing1": "狮山镇",
    "number2": "12",
    "thing3": "3天",
    "time4": "2026年12月04日 10:00",
}
RETURN_VALUES = {
    "thing1": "狮山翠湖花园",
    "phrase2": "基本信息",
    "thing3": "物业服务合同期限填写有误",
    "time4": "2026年12月04日 15:30",
}
PAGEPATH = "pages/review/list?town=shishan"


@pytest.fixture()
def reviewer_id(app, sandbox):
    """A bound, following reviewer."""
    with app.app_context():
        user_id = make_account("reviewer", "shishan_reviewer", "shishan")
    bind_directly(app, user_id, OPENID)
    follow(sandbox, OPENID)
    return user_id


def queue(
    app,
    user_id,
    key="reminder:2026-12-04:1000:user",
    values=None,
    template_kind="reminder",
    kind="reminder",
):
    with app.app_context():
        user = db.session.get(User, user_id)
        delivery = queue_delivery(
            kind, user, template_kind, values or REMINDER_VALUES, PAGEPATH, key
        )
        db.session.commit()
        return delivery.id


def row(app, delivery_id):
    with app.app_context():
        delivery = db.session.get(Delivery, delivery_id)
        db.session.expunge(delivery)
        return delivery


def run_deliver(app, delivery_id, now=NOW):
    with app.app_context():
        return deliver(delivery_id, now=now)


def fail(sandbox, endpoint, errcode, count=-1, openid=None):
    body = {"endpoint": endpoint, "errcode": errcode, "count": count}
    if openid:
        body["openid"] = openid
    sandbox.control("post", "/sandbox/fail", json=body)


def messages(sandbox):
    return sandbox.control("get", "/sandbox/messages")["messages"]


def test_queue_creates_outbox_row(app, reviewer_id):
    delivery_id = queue(app, reviewer_id)

    delivery = row(app, delivery_id)
    assert delivery.status == "queued"
    assert delivery.kind == "reminder"
    assert delivery.user_id == reviewer_id
    assert delivery.openid == OPENID
    assert delivery.template_kind == "reminder"
    assert delivery.template_id == REMINDER_ID
    assert delivery.payload == {
        "thing1": {"value": "狮山镇"},
        "number2": {"value": "12"},
        "thing3": {"value": "3天"},
        "time4": {"value": "2026年12月04日 10:00"},
    }
    assert delivery.pagepath == PAGEPATH
    assert delivery.client_msg_id == client_msg_id_for(delivery.dedupe_key)
    assert len(delivery.client_msg_id) == 32
    assert delivery.attempts == 0


def test_queue_twice_returns_existing_row(app, reviewer_id):
    first = queue(app, reviewer_id)

    second = queue(app, reviewer_id)

    assert second == first
    with app.app_context():
        assert Delivery.query.count() == 1


def test_queue_keeps_callers_transaction(app, reviewer_id):
    queue(app, reviewer_id)
    with app.app_context():
        user = db.session.get(User, reviewer_id)
        user.name = "改名后的复核人员"
        repeat = queue_delivery(
            "reminder",
            user,
            "reminder",
            REMINDER_VALUES,
            PAGEPATH,
            "reminder:2026-12-04:1000:user",
        )
        db.session.commit()

        assert repeat.dedupe_key == "reminder:2026-12-04:1000:user"
    assert load_user(app, reviewer_id)["name"] == "改名后的复核人员"


def test_queue_rejects_bad_field_before_row(app, reviewer_id):
    values = dict(RETURN_VALUES, phrase2="基本信息类别很长")

    with pytest.raises(TemplateFieldError) as caught:
        queue(app, reviewer_id, values=values, template_kind="return_notice")

    assert caught.value.field == "phrase2"
    with app.app_context():
        assert Delivery.query.count() == 0


def test_queue_for_unbound_user_skipped(app, sandbox):
    with app.app_context():
        user_id = make_account("official", "district_official")

    delivery = row(app, queue(app, user_id))

    assert delivery.status == "skipped"
    assert delivery.last_error == "未绑定服务号"


def test_queue_for_unfollowing_user_skipped(app, reviewer_id):
    bind_directly(app, reviewer_id, OPENID, reachable=False)

    delivery = row(app, queue(app, reviewer_id))

    assert delivery.status == "skipped"
    assert delivery.last_error == "已取消关注服务号"


def test_deliver_sends_with_miniprogram_link(app, reviewer_id, sandbox):
    delivery_id = queue(app, reviewer_id)

    status = run_deliver(app, delivery_id)

    assert status == "sent"
    sent = messages(sandbox)
    assert len(sent) == 1
    assert sent[0]["touser"] == OPENID
    assert sent[0]["template_id"] == REMINDER_ID
    assert sent[0]["data"]["thing1"] == {"value": "狮山镇"}
    assert sent[0]["miniprogram"] == {
        "appid": app.config["MINIPROGRAM_APP_ID"],
        "pagepath": PAGEPATH,
    }
    delivery = row(app, delivery_id)
    assert sent[0]["client_msg_id"] == delivery.client_msg_id
    assert delivery.attempts == 1
    assert delivery.wechat_msgid == str(sent[0]["msgid"])
    assert delivery.sent_at == NOW
    assert delivery.last_errcode is None
    assert delivery.next_attempt_at is None


def test_deliver_twice_sends_once(app, reviewer_id, sandbox):
    delivery_id = queue(app, reviewer_id)
    run_deliver(app, delivery_id)

    status = run_deliver(app, delivery_id)

    assert status == "sent"
    assert len(messages(sandbox)) == 1
    assert sandbox_stats(sandbox)["endpoints"]["template_send"]["calls"] == 1
    assert row(app, delivery_id).attempts == 1


def test_rerun_after_lost_commit_dropped_by_wechat(app, reviewer_id, sandbox):
    delivery_id = queue(app, reviewer_id)
    run_deliver(app, delivery_id)
    first_msgid = row(app, delivery_id).wechat_msgid
    with app.app_context():
        # A worker killed after the send but before its commit leaves the
        # row queued.
        delivery = db.session.get(Delivery, delivery_id)
        delivery.status = "queued"
        delivery.wechat_msgid = None
        db.session.commit()

    status = run_deliver(app, delivery_id)

    assert status == "sent"
    assert len(messages(sandbox)) == 1
    assert sandbox_stats(sandbox)["template_duplicates_dropped"] == 1
    assert row(app, delivery_id).wechat_msgid == first_msgid


def test_deliver_uses_users_current_openid(app, reviewer_id, sandbox):
    delivery_id = queue(app, reviewer_id)
    bind_directly(app, reviewer_id, "oReviewerNewPhone0000000001")
    follow(sandbox, "oReviewerNewPhone0000000001")

    run_deliver(app, delivery_id)

    assert messages(sandbox)[0]["touser"] == "oReviewerNewPhone0000000001"
    assert row(app, delivery_id).openid == "oReviewerNewPhone0000000001"


def test_deliver_skips_user_who_left(app, reviewer_id, sandbox):
    delivery_id = queue(app, reviewer_id)
    bind_directly(app, reviewer_id, OPENID, reachable=False)

    status = run_deliver(app, delivery_id)

    assert status == "skipped"
    assert messages(sandbox) == []


@pytest.mark.parametrize("errcode", [-1, 45009])
def test_busy_retries_later_with_backoff(app, reviewer_id, sandbox, errcode):
    fail(sandbox, "template_send", errcode)
    delivery_id = queue(app, reviewer_id)

    status = run_deliver(app, delivery_id)

    delivery = row(app, delivery_id)
    assert status == "retry"
    assert delivery.attempts == 1
    assert delivery.last_errcode == errcode
    assert delivery.last_error.startswith(("system error", "reach max api"))
    assert delivery.next_attempt_at == NOW + timedelta(seconds=60)


def test_retry_not_sent_before_due(app, reviewer_id, sandbox):
    fail(sandbox, "template_send", -1, count=1)
    delivery_id = queue(app, reviewer_id)
    run_deliver(app, delivery_id)

    early = run_deliver(app, delivery_id, now=NOW + timedelta(seconds=59))
    due = run_deliver(app, delivery_id, now=NOW + timedelta(seconds=60))

    assert early == "retry"
    assert due == "sent"
    assert sandbox_stats(sandbox)["endpoints"]["template_send"]["calls"] == 2
    assert row(app, delivery_id).attempts == 2


def test_retries_capped_then_failed(app, reviewer_id, sandbox):
    fail(sandbox, "template_send", -1)
    delivery_id = queue(app, reviewer_id)
    now = NOW
    delays = []

    for _ in range(MAX_SEND_ATTEMPTS):
        status = run_deliver(app, delivery_id, now=now)
        delivery = row(app, delivery_id)
        if delivery.next_attempt_at is not None:
            delays.append((delivery.next_attempt_at - now).total_seconds())
            now = delivery.next_attempt_at

    assert status == "failed"
    assert delays == [60, 120, 240, 480, 960]
    assert row(app, delivery_id).attempts == MAX_SEND_ATTEMPTS
    assert run_deliver(app, delivery_id, now=now + timedelta(days=1)) == "failed"
    calls = sandbox_stats(sandbox)["endpoints"]["template_send"]["calls"]
    assert calls == MAX_SEND_ATTEMPTS


def test_not_following_marks_unreachable(app, reviewer_id, sandbox):
    follow(sandbox, OPENID, following=False)
    delivery_id = queue(app, reviewer_id)

    status = run_deliver(app, delivery_id)

    assert status == "unreachable"
    assert row(app, delivery_id).last_errcode == 43004
    assert load_user(app, reviewer_id)["reachable"] is False
    later = row(app, queue(app, reviewer_id, key="reminder:2026-12-04:1400:user"))
    assert later.status == "skipped"


def test_foreign_openid_marks_unreachable(app, sandbox):
    with app.app_context():
        user_id = make_account("reviewer", "jiujiang_reviewer", "jiujiang")
    bind_directly(app, user_id, "oMiniProgramOpenidNotService1")
    delivery_id = queue(app, user_id)

    status = run_deliver(app, delivery_id)

    assert status == "unreachable"
    assert row(app, delivery_id).last_errcode == 40003
    assert load_user(app, user_id)["reachable"] is False


def test_invalid_template_stops_loudly(app, reviewer_id, sandbox):
    delivery_id = queue(app, reviewer_id)
    with app.app_context():
        db.session.get(Delivery, delivery_id).template_id = "NoSuchTemplate"
        db.session.commit()

    with pytest.raises(TemplateRejected) as caught:
        run_deliver(app, delivery_id)

    assert caught.value.errcode == 40037
    assert caught.value.delivery_id == delivery_id
    delivery = row(app, delivery_id)
    assert delivery.status == "failed"
    assert delivery.last_errcode == 40037


def test_field_rejected_by_wechat_stops_loudly(app, reviewer_id, sandbox):
    fail(sandbox, "template_send", 47003, count=1)
    delivery_id = queue(app, reviewer_id)

    with pytest.raises(TemplateRejected) as caught:
        run_deliver(app, delivery_id)

    assert caught.value.errcode == 47003
    assert row(app, delivery_id).status == "failed"


def test_rejected_credentials_stop_loudly(app, reviewer_id, sandbox):
    fail(sandbox, "stable_token", 40164)
    delivery_id = queue(app, reviewer_id)

    with pytest.raises(CredentialsRejected) as caught:
        run_deliver(app, delivery_id)

    assert caught.value.errcode == 40164
    assert row(app, delivery_id).status == "failed"
    assert messages(sandbox) == []


def test_token_always_rejected_one_refresh_per_message(app, reviewer_id, sandbox):
    run_deliver(app, queue(app, reviewer_id, key="warm-up"))
    fail(sandbox, "template_send", 40001)
    ids = [queue(app, reviewer_id, key=f"rejected-{number}") for number in range(3)]
    before = sandbox_stats(sandbox)

    statuses = [run_deliver(app, delivery_id) for delivery_id in ids]

    after = sandbox_stats(sandbox)
    sends = (
        after["endpoints"]["template_send"]["calls"]
        - before["endpoints"]["template_send"]["calls"]
    )
    token_calls = (
        after["endpoints"]["stable_token"]["calls"]
        - before["endpoints"]["stable_token"]["calls"]
    )
    assert statuses == ["failed", "failed", "failed"]
    assert sends == 2 * len(ids)
    # One refresh per message. WeChat ignores forced refreshes closer than
    # 30 s, so only the first message forces one.
    assert token_calls == len(ids) + 1
    assert after["stable_token_force_refreshes"] == 1
    for delivery_id in ids:
        delivery = row(app, delivery_id)
        assert delivery.last_errcode == 40001
        assert delivery.attempts == 1


def test_job_finish_sets_final_status(app, reviewer_id, sandbox, live_product):
    delivery_ids = [queue(app, reviewer_id, key=f"jobfinish-{n}") for n in range(3)]
    for delivery_id in delivery_ids:
        run_deliver(app, delivery_id)
    statuses = ["success", "failed:user block", "failed: system failed"]

    for delivery_id, status in zip(delivery_ids, statuses, strict=True):
        msgid = int(row(app, delivery_id).wechat_msgid)
        result = sandbox.control(
            "post", "/sandbox/jobfinish", json={"msgid": msgid, "status": status}
        )
        assert result["status"] == 200

    finals = [row(app, delivery_id).final_status for delivery_id in delivery_ids]
    assert finals == statuses


def test_job_finish_other_failure_kept_as_sent(app, reviewer_id, sandbox, live_product):
    delivery_id = queue(app, reviewer_id)
    run_deliver(app, delivery_id)
    msgid = row(app, delivery_id).wechat_msgid

    sandbox.control(
        "post",
        "/sandbox/push",
        json={"xml": job_finish_xml(msgid, "failed:template expired")},
    )

    assert row(app, delivery_id).final_status == "failed:template expired"


def test_job_finish_before_send_recorded_applied(
    app, reviewer_id, sandbox, live_product
):
    # The sandbox numbers msgids from a fixed start, so the first send of a
    # fresh sandbox gets this one.
    first_msgid = "3487542469355610001"
    sandbox.control(
        "post",
        "/sandbox/push",
        json={"xml": job_finish_xml(first_msgid, "failed:user block")},
    )
    delivery_id = queue(app, reviewer_id)

    run_deliver(app, delivery_id)

    delivery = row(app, delivery_id)
    assert delivery.wechat_msgid == first_msgid
    assert delivery.final_status == "failed:user block"


def job_finish_xml(msgid, status):
    return (
        "<xml><ToUserName><![CDATA[gh_3f9a1c2b7d4e]]></ToUserName>"
        f"<FromUserName><![CDATA[{OPENID}]]></FromUserName>"
        "<CreateTime>1764835200</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event>"
        f"<MsgID>{msgid}</MsgID><Status><![CDATA[{status}]]></Status></xml>"
    )


def test_concurrent_insert_keeps_callers_changes(app, reviewer_id):
    from bot.delivery import _insert

    first_id = queue(app, reviewer_id)
    with app.app_context():
        user = db.session.get(User, reviewer_id)
        user.name = "并发时的修改"
        # A second worker that missed the existing row inserts the same key.
        duplicate = Delivery(
            dedupe_key="reminder:2026-12-04:1000:user",
            kind="reminder",
            user_id=reviewer_id,
            template_kind="reminder",
            payload={},
            client_msg_id="another-client-msg-id",
            status="queued",
            attempts=0,
        )

        returned = _insert(duplicate)
        db.session.commit()

        assert returned.id == first_id
    assert load_user(app, reviewer_id)["name"] == "并发时的修改"
