"""Bulk approval by a town's reviewer, with stale rows reported, not approved."""

import re

from models import AuditEvent, Entry, Review, db
from tests.console.conftest import console_as, text_of
from tests.factories import VALID_OTHER, ApiClient, save


def _pending_items(page):
    return re.findall(r'name="item" value="(\d+:\d+)"', page)


def _entry(app, project_id, category):
    with app.app_context():
        entry = Entry.query.filter_by(project_id=project_id, category=category).one()
        db.session.expunge(entry)
        return entry


def test_reviewer_sees_town_pending_entries(app, world):
    reviewer = console_as(app, "rev_gc")

    page = text_of(reviewer.get("/console/review/bulk"))

    other = _entry(app, world.project_id, "other")
    manager = _entry(app, world.project_id, "manager")
    assert _pending_items(page) == [
        f"{other.id}:{other.current_revision_id}",
        f"{manager.id}:{manager.current_revision_id}",
    ]


def test_other_town_reviewer_sees_nothing(app, world):
    reviewer = console_as(app, "rev_jj")

    page = text_of(reviewer.get("/console/review/bulk"))

    assert _pending_items(page) == []
    assert "本镇街暂无待复核的信息分类" in page


def test_bulk_approve_reviews_each_entry(app, world):
    reviewer = console_as(app, "rev_gc")
    items = _pending_items(text_of(reviewer.get("/console/review/bulk")))

    response = reviewer.post(
        "/console/review/bulk", {"item": items, "opinion": "资料齐全"}
    )

    assert response.status_code == 200
    assert "已通过 <strong>2</strong> 项" in text_of(response)
    with app.app_context():
        reviews = Review.query.filter_by(decision="approve", opinion="资料齐全").all()
        assert len(reviews) == 2
        assert {review.reviewer_id for review in reviews} == {world.users["rev_gc"]}
        states = {
            e.category: e.state
            for e in Entry.query.filter_by(project_id=world.project_id)
        }
        assert states == {
            "basic": "approved",
            "other": "approved",
            "manager": "approved",
        }
        events = AuditEvent.query.filter_by(
            action="approve", actor_id=world.users["rev_gc"]
        )
        assert events.count() == 3


def test_changed_entry_is_reported_not_approved(app, world, client):
    reviewer = console_as(app, "rev_gc")
    items = _pending_items(text_of(reviewer.get("/console/review/bulk")))
    other = _entry(app, world.project_id, "other")
    staff = ApiClient(client, world.staff_token)
    changed = dict(VALID_OTHER, lifts=30)
    assert (
        save(staff, world.project_id, "other", changed, other.version).status_code
        == 200
    )

    response = reviewer.post("/console/review/bulk", {"item": items})

    page = text_of(response)
    assert "已通过 <strong>1</strong> 项" in page
    skipped = page.split('id="skipped-list"')[1]
    assert f'data-entry-id="{other.id}"' in skipped
    assert "填报人已更新该分类" in skipped
    after = _entry(app, world.project_id, "other")
    assert after.state == "submitted"
    assert after.current_revision_id != other.current_revision_id
    assert _entry(app, world.project_id, "manager").state == "approved"


def test_other_towns_entry_is_skipped(app, world):
    reviewer = console_as(app, "rev_jj")
    other = _entry(app, world.project_id, "other")

    response = reviewer.post(
        "/console/review/bulk", {"item": f"{other.id}:{other.current_revision_id}"}
    )

    assert "不存在或不属于本镇街" in text_of(response)
    assert _entry(app, world.project_id, "other").state == "submitted"


def test_empty_selection_is_rejected(app, world):
    reviewer = console_as(app, "rev_gc")

    response = reviewer.post("/console/review/bulk", {"opinion": "好"})

    assert response.status_code == 422
    assert "请至少选择一项" in text_of(response)


def test_long_opinion_is_rejected(app, world):
    reviewer = console_as(app, "rev_gc")
    items = _pending_items(text_of(reviewer.get("/console/review/bulk")))

    response = reviewer.post(
        "/console/review/bulk", {"item": items, "opinion": "长" * 501}
    )

    assert response.status_code == 422
    assert _entry(app, world.project_id, "other").state == "submitted"
