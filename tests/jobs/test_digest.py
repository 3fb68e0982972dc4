"""The 09:00 digest: the numbers of models.progress, per town and for the district."""

from datetime import date

from jobs import digest, runs
from jobs.demo_data import generate
from models import Delivery, db
from models.progress import district_total, town_progress
from models.schedule import ProgressSnapshot
from tests.factories import town
from tests.jobs.conftest import (
    add_official,
    add_reviewer,
    add_staff,
    project_with,
    shanghai,
)


def _payload(key):
    delivery = Delivery.query.filter_by(dedupe_key=key).one()
    return {field: item["value"] for field, item in delivery.payload.items()}


def _run_digest(day, hour=9, minute=0):
    runs.run_due_slots(shanghai(day, hour, minute))


def test_digest_numbers_equal_progress_query(app):
    with app.app_context():
        reviewer = add_reviewer("shishan", "石一")
        official = add_official("区领导")
        generate(60, seed=11)
        expected = {row.town_id: row for row in town_progress()}
        total = district_total(list(expected.values()), "total")
        _run_digest(4)

        shishan = expected[town("shishan").id]
        town_values = _payload(f"digest:2026-12-04:0900:user-{reviewer.id}")
        total_values = _payload(f"digest:2026-12-04:0900:user-{official.id}")

    assert town_values["thing1"] == "狮山镇"
    assert town_values["number2"] == str(shishan.projects)
    assert (
        town_values["thing3"] == f"已提交{shishan.submitted} 已复核{shishan.reviewed}"
    )
    assert town_values["thing4"] == f"{shishan.pending}项"
    assert total_values["thing1"] == "南海区全区"
    assert total_values["number2"] == str(total.projects) == "60"
    assert total_values["thing3"] == f"已提交{total.submitted} 已复核{total.reviewed}"
    assert total_values["thing4"] == f"{total.pending}项"


def test_digest_stores_one_snapshot_per_town(app):
    with app.app_context():
        add_reviewer("shishan", "石一")
        generate(30, seed=5)
        expected = {row.town_id: row.as_dict() for row in town_progress()}
        _run_digest(4)
        stored = {row.town_id: row for row in ProgressSnapshot.query}

    assert set(stored) == set(expected)
    for town_id, snapshot in stored.items():
        assert snapshot.snapshot_date == date(2026, 12, 4)
        assert snapshot.submitted == expected[town_id]["submitted"]
        assert snapshot.pending == expected[town_id]["pending"]
        assert snapshot.projects == expected[town_id]["projects"]


def test_district_official_gets_total_and_each_town(app):
    with app.app_context():
        official = add_official("区领导")
        town_official = add_official("狮山领导", "shishan")
        _run_digest(4)
        keys = sorted(
            key
            for (key,) in db.session.query(Delivery.dedupe_key).filter(
                Delivery.user_id == official.id
            )
        )
        town_keys = [
            key
            for (key,) in db.session.query(Delivery.dedupe_key).filter(
                Delivery.user_id == town_official.id
            )
        ]
        town_ids = sorted(row.town_id for row in town_progress())

    prefix = f"digest:2026-12-04:0900:user-{official.id}"
    assert keys == sorted(
        [prefix] + [f"{prefix}:town-{town_id}" for town_id in town_ids]
    )
    assert town_keys == [f"digest:2026-12-04:0900:user-{town_official.id}"]


def test_digest_shows_change_since_previous_day(app):
    with app.app_context():
        reviewer = add_reviewer("shishan", "石一")
        owner = add_staff("陈志强")
        project_with(
            app, owner, "shishan", "翠湖花园", {"basic": "submitted"}, reviewer
        )
        _run_digest(3)
        project_with(
            app,
            owner,
            "shishan",
            "金沙名都",
            {"basic": "submitted", "other": "approved"},
            reviewer,
        )
        _run_digest(4)
        values = _payload(f"digest:2026-12-04:0900:user-{reviewer.id}")

    assert values["thing3"] == "已提交3(+2) 已复核1(+1)"
    assert values["thing4"] == "2项，较昨日+1"
    assert values["thing5"] == "12月31日截止，剩27天"
    assert values["time6"] == "2026年12月04日 09:00"


def test_digest_after_a_gap_compares_with_last_one(app):
    with app.app_context():
        reviewer = add_reviewer("shishan", "石一")
        _run_digest(2)
        _run_digest(5)
        values = _payload(f"digest:2026-12-05:0900:user-{reviewer.id}")
    assert values["thing4"] == "0项，较上次+0"


def test_deadline_day_says_last_day(app):
    with app.app_context():
        reviewer = add_reviewer("shishan", "石一")
        _run_digest(31)
        values = _payload(f"digest:2026-12-31:0900:user-{reviewer.id}")
    assert values["thing5"] == "12月31日截止，今天是最后一天"


def test_large_numbers_fall_back_to_shorter_text(app):
    planner = digest.DigestPlanner(
        date(2026, 12, 4),
        runs.campaign_from_config(app.config, shanghai(4, 9)),
        {},
        {},
        date(2026, 12, 3),
        shanghai(4, 9),
        "南海区",
    )
    current = digest.Progress(
        1, "狮山镇", projects=40000, submitted=120000, reviewed=98000, pending=22000
    )
    previous = digest.Progress(
        1, "狮山镇", projects=40000, submitted=118500, reviewed=96000, pending=22500
    )
    values = planner.values(current, previous)
    assert values["thing3"] == "已提交120000 已复核98000"
    assert values["thing4"] == "22000项，较昨日-500"
    assert all(
        len(values[key]) <= 20 for key in ("thing1", "thing3", "thing4", "thing5")
    )


def test_unbound_and_unfollowed_get_skipped_rows(app):
    with app.app_context():
        bound = add_reviewer("shishan", "石一")
        unbound = add_reviewer("shishan", "石二", bound=False)
        unfollowed = add_reviewer("shishan", "石三")
        unfollowed.reachable = False
        db.session.commit()
        ids = bound.id, unbound.id, unfollowed.id
        _run_digest(4)
        status = {
            row.user_id: (row.status, row.last_error)
            for row in Delivery.query.filter(Delivery.kind == "digest")
        }
    assert status[ids[0]] == ("queued", None)
    assert status[ids[1]] == ("skipped", "未绑定服务号")
    assert status[ids[2]] == ("skipped", "已取消关注服务号")


def test_digest_opens_review_list(app):
    with app.app_context():
        reviewer = add_reviewer("shishan", "石一")
        _run_digest(4)
        delivery = Delivery.query.filter_by(user_id=reviewer.id).one()
    assert delivery.pagepath == "pages/review-list/index"
    assert delivery.template_kind == "digest"


def test_preview_writes_nothing(app):
    with app.app_context():
        reviewer = add_reviewer("shishan", "石一")
        generate(10, seed=3)
        shishan = next(row for row in town_progress() if row.town_name == "狮山镇")
        campaign = runs.campaign_from_config(app.config, shanghai(4, 9))
        messages = digest.preview(date(2026, 12, 4), shanghai(4, 9), campaign)
        stored = (ProgressSnapshot.query.count(), Delivery.query.count())
        mine = [
            message.values for message in messages if message.user.id == reviewer.id
        ]
    # The generator adds an unbound reviewer to each of the other six towns.
    assert len(messages) == 7
    assert [values["number2"] for values in mine] == [str(shishan.projects)]
    assert stored == (0, 0)
