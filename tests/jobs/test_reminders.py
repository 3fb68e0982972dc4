"""Reviewer reminders at 10:00/14:00/17:00 and the staff reminders at 09:00."""

from jobs import runs
from jobs.texts import waited
from models import Delivery, Entry, db
from tests.jobs.conftest import add_reviewer, add_staff, project_with, shanghai


def _values(key):
    delivery = Delivery.query.filter_by(dedupe_key=key).one()
    return {
        field: item["value"] for field, item in delivery.payload.items()
    }, delivery.pagepath


def _keys(prefix):
    rows = db.session.query(Delivery.dedupe_key).filter(
        Delivery.dedupe_key.startswith(prefix)
    )
    return sorted(key for (key,) in rows)


def _set_time(project, category, **moments):
    entry = Entry.query.filter_by(project_id=project.id, category=category).one()
    for name, moment in moments.items():
        setattr(entry, name, moment)
    db.session.commit()


def test_reminder_only_for_pending_towns(app):
    with app.app_context():
        first = add_reviewer("shishan", "石一")
        second = add_reviewer("shishan", "石二")
        add_reviewer("jiujiang", "九一")
        owner = add_staff("陈志强")
        project = project_with(
            app,
            owner,
            "shishan",
            "翠湖花园",
            {"basic": "submitted", "other": "submitted"},
            first,
        )
        _set_time(project, "basic", submitted_at=shanghai(3, 16, 30))
        runs.run_due_slots(shanghai(4, 10))

        keys = _keys("reminder:2026-12-04:1000:")
        values, page = _values(f"reminder:2026-12-04:1000:user-{first.id}")
        ids = first.id, second.id

    assert keys == sorted(f"reminder:2026-12-04:1000:user-{user_id}" for user_id in ids)
    assert values["thing1"] == "狮山镇"
    assert values["number2"] == "2"
    assert values["thing3"] == "已等待17小时30分钟"
    assert values["time4"] == "2026年12月04日 10:00"
    assert page == "pages/review-list/index?filter=pending"


def test_no_reminder_when_nothing_pending(app):
    with app.app_context():
        reviewer = add_reviewer("shishan", "石一")
        owner = add_staff("陈志强")
        project_with(app, owner, "shishan", "翠湖花园", {"basic": "approved"}, reviewer)
        runs.run_due_slots(shanghai(4, 14))
        keys = _keys("reminder:")
    assert keys == []


def test_waited_text():
    assert waited(30) == "不足1分钟"
    assert waited(59 * 60) == "59分钟"
    assert waited(3 * 3600) == "3小时"
    assert waited(26 * 3600 + 120) == "1天2小时"
    assert waited(2 * 86400 + 300) == "2天"


def test_deadline_reminder_only_in_last_three_days(app):
    with app.app_context():
        reviewer = add_reviewer("shishan", "石一")
        owner = add_staff("陈志强")
        project = project_with(
            app, owner, "shishan", "翠湖花园", {"basic": "draft"}, reviewer
        )
        runs.run_due_slots(shanghai(27, 9))
        before = _keys("deadline_reminder:")
        runs.run_due_slots(shanghai(28, 9))
        values, page = _values(f"deadline_reminder:2026-12-28:0900:user-{owner.id}")
        project_id = project.id

    assert before == []
    assert values["thing1"] == "翠湖花园"
    assert values["thing2"] == "请在3天内补全未填写的信息分类"
    assert values["time3"] == "2026年12月31日 23:59"
    assert page == f"pages/project-detail/index?id={project_id}"


def test_deadline_reminder_counts_projects(app):
    with app.app_context():
        reviewer = add_reviewer("shishan", "石一")
        owner = add_staff("陈志强")
        done = add_staff("李秀梅")
        project_with(app, owner, "shishan", "翠湖花园一期", {}, reviewer)
        project_with(
            app, owner, "shishan", "翠湖花园二期", {"other": "draft"}, reviewer
        )
        project_with(
            app,
            done,
            "shishan",
            "金沙名都",
            {"basic": "submitted", "other": "submitted", "manager": "submitted"},
            reviewer,
        )
        runs.run_due_slots(shanghai(31, 9))
        keys = _keys("deadline_reminder:")
        values, page = _values(f"deadline_reminder:2026-12-31:0900:user-{owner.id}")
        owner_id = owner.id

    assert keys == [f"deadline_reminder:2026-12-31:0900:user-{owner_id}"]
    assert values["thing1"] == "翠湖花园一期等2个项目"
    assert values["thing2"] == "今天截止，请补全未填写的信息分类"
    assert page == "pages/project-list/index"


def test_return_reminder_after_a_day(app):
    with app.app_context():
        reviewer = add_reviewer("shishan", "石一")
        owner = add_staff("陈志强")
        fresh = add_staff("李秀梅")
        project = project_with(
            app,
            owner,
            "shishan",
            "翠湖花园",
            {"basic": "returned", "other": "returned"},
            reviewer,
        )
        recent = project_with(
            app, fresh, "shishan", "金沙名都", {"basic": "returned"}, reviewer
        )
        _set_time(project, "other", returned_at=shanghai(2, 15))
        _set_time(project, "basic", returned_at=shanghai(3, 8))
        _set_time(recent, "basic", returned_at=shanghai(3, 10))
        runs.run_due_slots(shanghai(4, 9))

        keys = _keys("return_reminder:")
        values, page = _values(f"return_reminder:2026-12-04:0900:user-{owner.id}")
        project_id, owner_id = project.id, owner.id

    assert keys == [f"return_reminder:2026-12-04:0900:user-{owner_id}"]
    assert values["thing1"] == "翠湖花园"
    assert values["thing2"] == "其他信息等2项已退回，请修改后保存"
    assert page == f"pages/project-detail/index?id={project_id}&category=other"


def test_resubmitted_entry_gets_no_return_reminder(app):
    with app.app_context():
        reviewer = add_reviewer("shishan", "石一")
        owner = add_staff("陈志强")
        project = project_with(
            app, owner, "shishan", "翠湖花园", {"basic": "returned"}, reviewer
        )
        _set_time(project, "basic", returned_at=shanghai(2, 8), state="submitted")
        runs.run_due_slots(shanghai(4, 9))
        keys = _keys("return_reminder:")
    assert keys == []
