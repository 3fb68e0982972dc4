"""Candidate duplicate pairs and the reviewer's decision on them."""

from models import AuditEvent, DuplicateDecision, Project, db
from models.progress import town_progress
from tests.console.conftest import console_as, text_of
from tests.factories import add_project, register_staff


def _second_project(
    client, sandbox, town_id, name="桂城 翠湖花园", address="桂城街道另一条路9号"
):
    staff = register_staff(client, sandbox, name="李秀梅")
    return add_project(staff, town_id, name=name, address=address)["id"]


def _decide(console, first_id, second_id, decision, duplicate_id=None):
    form = {
        "first_id": str(first_id),
        "second_id": str(second_id),
        "decision": decision,
    }
    if duplicate_id is not None:
        form["duplicate_id"] = str(duplicate_id)
    return console.post("/console/duplicates/decide", form)


def test_same_folded_name_is_a_candidate(app, world, client, sandbox):
    second = _second_project(client, sandbox, world.guicheng_id)
    reviewer = console_as(app, "rev_gc")

    page = text_of(reviewer.get("/console/duplicates"))

    assert f'data-first="{world.project_id}" data-second="{second}"' in page
    assert "名称相同" in page


def test_same_address_is_a_candidate(app, world, client, sandbox):
    second = _second_project(
        client,
        sandbox,
        world.guicheng_id,
        name="南海明珠",
        address="佛山市南海区桂城街道 南海大道18号",
    )
    reviewer = console_as(app, "rev_gc")

    page = text_of(reviewer.get("/console/duplicates"))

    assert f'data-second="{second}"' in page
    assert "地址相同" in page


def test_other_towns_are_not_paired(app, world, client, sandbox):
    _second_project(client, sandbox, world.jiujiang_id)
    admin = console_as(app, "admin")

    page = text_of(admin.get("/console/duplicates"))

    assert "没有待处理的疑似重复项目" in page


def test_marking_duplicate_removes_it_from_counts(app, world, client, sandbox):
    second = _second_project(client, sandbox, world.guicheng_id)
    reviewer = console_as(app, "rev_gc")

    response = _decide(
        reviewer, world.project_id, second, "duplicate", duplicate_id=second
    )

    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Project, second).duplicate_of_id == world.project_id
        decision = DuplicateDecision.query.one()
        assert (decision.decision, decision.duplicate_id) == ("duplicate", second)
        actions = {
            (e.project_id, e.action)
            for e in AuditEvent.query.filter_by(
                object_type="project", action="mark_duplicate"
            )
        }
        assert actions == {
            (second, "mark_duplicate"),
            (world.project_id, "mark_duplicate"),
        }
        guicheng = next(
            row for row in town_progress() if row.town_id == world.guicheng_id
        )
        assert guicheng.projects == 1
    assert "没有待处理的疑似重复项目" in text_of(reviewer.get("/console/duplicates"))


def test_not_duplicate_keeps_both(app, world, client, sandbox):
    second = _second_project(client, sandbox, world.guicheng_id)
    reviewer = console_as(app, "rev_gc")

    _decide(reviewer, second, world.project_id, "distinct")

    with app.app_context():
        assert db.session.get(Project, second).duplicate_of_id is None
        decision = DuplicateDecision.query.one()
        assert (decision.first_id, decision.second_id) == (world.project_id, second)
        assert decision.decision == "distinct"
        guicheng = next(
            row for row in town_progress() if row.town_id == world.guicheng_id
        )
        assert guicheng.projects == 2
    page = text_of(reviewer.get("/console/duplicates"))
    assert "没有待处理的疑似重复项目" in page
    assert "不是重复项目" in page


def test_second_decision_on_pair_is_refused(app, world, client, sandbox):
    second = _second_project(client, sandbox, world.guicheng_id)
    reviewer = console_as(app, "rev_gc")
    _decide(reviewer, world.project_id, second, "distinct")

    response = _decide(
        reviewer, world.project_id, second, "duplicate", duplicate_id=second
    )

    assert response.status_code == 302
    assert "已经处理过" in text_of(reviewer.get("/console/duplicates"))
    with app.app_context():
        assert db.session.get(Project, second).duplicate_of_id is None


def test_reviewer_of_other_town_cannot_decide(app, world, client, sandbox):
    second = _second_project(client, sandbox, world.guicheng_id)
    reviewer = console_as(app, "rev_jj")

    response = _decide(reviewer, world.project_id, second, "distinct")

    assert response.status_code == 403
    with app.app_context():
        assert DuplicateDecision.query.count() == 0


def test_unrelated_projects_cannot_be_marked(app, world, client, sandbox):
    second = _second_project(
        client, sandbox, world.guicheng_id, name="完全不同", address="另一个地址1号"
    )
    reviewer = console_as(app, "rev_gc")

    response = _decide(
        reviewer, world.project_id, second, "duplicate", duplicate_id=second
    )

    assert response.status_code == 404


def test_officials_see_pairs_without_buttons(app, world, client, sandbox):
    _second_project(client, sandbox, world.guicheng_id)
    official = console_as(app, "off_gc")

    page = text_of(official.get("/console/duplicates"))

    assert "名称相同" in page
    assert "/console/duplicates/decide" not in page
