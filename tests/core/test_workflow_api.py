"""Every workflow transition through the HTTP API, with real SQLite and Redis."""

from models import AuditEvent, Entry, Revision, Review
from models.account import ROLE_REVIEWER
from tests.factories import (
    VALID_BASIC,
    VALID_OTHER,
    add_project,
    fill_all,
    make_account,
    password_login,
    register_staff,
    save,
    town,
)


def _setup(app, client, sandbox):
    with app.app_context():
        shishan_id = town("shishan").id
        make_account(ROLE_REVIEWER, "shishan_rev", "shishan")
    staff = register_staff(client, sandbox)
    reviewer = password_login(client, "shishan_rev")
    project = add_project(staff, shishan_id)
    return staff, reviewer, project


def _entry(api, project_id, category):
    return api.get(f"/api/projects/{project_id}/categories/{category}").get_json()["entry"]


def test_new_project_has_empty_entries(app, client, sandbox):
    staff, _, project = _setup(app, client, sandbox)
    assert project["status"] == "filling"
    assert [c["state"] for c in project["categories"]] == ["empty", "empty", "empty"]
    assert [c["label"] for c in project["categories"]] == ["基本信息", "其他信息", "项目负责人"]


def test_incomplete_save_is_draft(app, client, sandbox):
    staff, _, project = _setup(app, client, sandbox)
    response = save(staff, project["id"], "other", {"lifts": 3}, 0)
    assert response.status_code == 200
    entry = response.get_json()["entry"]
    assert entry["state"] == "draft"
    assert entry["version"] == 1
    assert entry["completeness"] == 11
    assert "parking_above" in entry["missing"]


def test_complete_save_submits_with_revision(app, client, sandbox):
    staff, _, project = _setup(app, client, sandbox)
    response = save(staff, project["id"], "other", VALID_OTHER, 0)
    entry = response.get_json()["entry"]
    assert entry["state"] == "submitted"
    assert entry["completeness"] == 100
    assert response.get_json()["project"]["status"] == "filling"
    with app.app_context():
        assert Revision.query.filter_by(entry_id=_entry_id(project, "other")).count() == 1


def _entry_id(project, category):
    return Entry.query.filter_by(project_id=project["id"], category=category).one().id


def test_invalid_value_rejected_and_nothing_saved(app, client, sandbox):
    staff, _, project = _setup(app, client, sandbox)
    bad = dict(VALID_BASIC, company_credit_code="91110000600037341N")
    response = save(staff, project["id"], "basic", bad, 0)
    assert response.status_code == 422
    body = response.get_json()["error"]
    assert body["code"] == "validation_failed"
    assert body["fields"]["company_credit_code"].startswith("统一社会信用代码校验位不正确")
    entry = _entry(staff, project["id"], "basic")
    assert entry["version"] == 0
    assert entry["state"] == "empty"


def test_stale_version_conflicts(app, client, sandbox):
    staff, _, project = _setup(app, client, sandbox)
    assert save(staff, project["id"], "other", {"lifts": 3}, 0).status_code == 200
    response = save(staff, project["id"], "other", {"lifts": 9}, 0)
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "version_conflict"
    assert error["current"]["data"]["lifts"] == 3
    assert error["current"]["version"] == 1
    assert _entry(staff, project["id"], "other")["data"]["lifts"] == 3


def test_approve_all_makes_project_approved(app, client, sandbox):
    staff, reviewer, project = _setup(app, client, sandbox)
    fill_all(staff, project["id"])
    for category in ("basic", "other", "manager"):
        review = _review_view(reviewer, project["id"], category)
        response = reviewer.post(
            f"/api/review/projects/{project['id']}/categories/{category}/approve",
            json={"revision_id": review["revision"]["id"]})
        assert response.status_code == 200, response.get_json()
    final = staff.get(f"/api/projects/{project['id']}").get_json()["project"]
    assert final["status"] == "approved"
    assert final["status_label"] == "已通过"


def _review_view(reviewer, project_id, category):
    response = reviewer.get(f"/api/review/projects/{project_id}/categories/{category}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_return_requires_opinion(app, client, sandbox):
    staff, reviewer, project = _setup(app, client, sandbox)
    fill_all(staff, project["id"])
    revision_id = _review_view(reviewer, project["id"], "basic")["revision"]["id"]
    url = f"/api/review/projects/{project['id']}/categories/basic/return"
    response = reviewer.post(url, json={"revision_id": revision_id, "opinion": "  "})
    assert response.status_code == 422
    assert "opinion" in response.get_json()["error"]["fields"]
    assert _entry(staff, project["id"], "basic")["state"] == "submitted"


def test_return_then_fix_resubmits(app, client, sandbox):
    staff, reviewer, project = _setup(app, client, sandbox)
    fill_all(staff, project["id"])
    revision_id = _review_view(reviewer, project["id"], "basic")["revision"]["id"]
    url = f"/api/review/projects/{project['id']}/categories/basic/return"
    response = reviewer.post(url, json={"revision_id": revision_id, "opinion": "面积有误"})
    assert response.status_code == 200
    assert response.get_json()["project"]["status"] == "returned"

    entry = _entry(staff, project["id"], "basic")
    assert entry["state"] == "returned"
    assert entry["last_opinion"] == "面积有误"
    fixed = dict(VALID_BASIC, building_area=51000)
    response = save(staff, project["id"], "basic", fixed, entry["version"])
    assert response.get_json()["entry"]["state"] == "submitted"
    with app.app_context():
        events = AuditEvent.query.filter_by(object_type="entry",
                                            object_id=_entry_id(project, "basic"))
        actions = [(e.action, e.from_state, e.to_state) for e in events.order_by(AuditEvent.id)]
    assert actions == [("save", "empty", "submitted"), ("return", "submitted", "returned"),
                       ("save", "returned", "submitted")]


def test_review_of_stale_revision_conflicts(app, client, sandbox):
    staff, reviewer, project = _setup(app, client, sandbox)
    fill_all(staff, project["id"])
    old_revision = _review_view(reviewer, project["id"], "basic")["revision"]["id"]
    version = _entry(staff, project["id"], "basic")["version"]
    save(staff, project["id"], "basic", dict(VALID_BASIC, households=700), version)
    response = reviewer.post(
        f"/api/review/projects/{project['id']}/categories/basic/approve",
        json={"revision_id": old_revision})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "stale_revision"
    assert response.get_json()["error"]["current"]["data"]["households"] == 700
    with app.app_context():
        assert Review.query.count() == 0


def test_edit_after_approval_keeps_warehouse_copy(app, client, sandbox):
    staff, reviewer, project = _setup(app, client, sandbox)
    fill_all(staff, project["id"])
    first = _review_view(reviewer, project["id"], "other")["revision"]["id"]
    reviewer.post(f"/api/review/projects/{project['id']}/categories/other/approve",
                  json={"revision_id": first})
    version = _entry(staff, project["id"], "other")["version"]
    response = save(staff, project["id"], "other", dict(VALID_OTHER, lifts=30), version)
    entry = response.get_json()["entry"]
    assert entry["state"] == "submitted"
    assert entry["approved_revision_id"] == first
    assert entry["current_revision_id"] != first

    view = _review_view(reviewer, project["id"], "other")
    assert view["changes"] == [{"key": "lifts", "label": "电梯数量", "before": 24, "after": 30}]


def test_unchanged_save_of_approved_entry_is_noop(app, client, sandbox):
    staff, reviewer, project = _setup(app, client, sandbox)
    fill_all(staff, project["id"])
    revision = _review_view(reviewer, project["id"], "other")["revision"]["id"]
    reviewer.post(f"/api/review/projects/{project['id']}/categories/other/approve",
                  json={"revision_id": revision})
    version = _entry(staff, project["id"], "other")["version"]
    entry = save(staff, project["id"], "other", VALID_OTHER, version).get_json()["entry"]
    assert entry["state"] == "approved"
    assert entry["version"] == version


def test_review_of_draft_is_invalid_transition(app, client, sandbox):
    staff, reviewer, project = _setup(app, client, sandbox)
    save(staff, project["id"], "other", {"lifts": 1}, 0)
    response = reviewer.post(
        f"/api/review/projects/{project['id']}/categories/other/approve",
        json={"revision_id": 1})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "invalid_transition"


def test_project_status_pending_when_all_submitted(app, client, sandbox):
    staff, _, project = _setup(app, client, sandbox)
    fill_all(staff, project["id"])
    final = staff.get(f"/api/projects/{project['id']}").get_json()["project"]
    assert final["status"] == "pending"
    assert final["pending_count"] == 3


def test_duplicate_project_flagged(app, client, sandbox):
    staff, _, project = _setup(app, client, sandbox)
    with app.app_context():
        shishan_id = town("shishan").id
    response = staff.post("/api/projects", json={
        "name": "狮山 翠湖花园。", "address": "别的地址1号", "town_id": shishan_id})
    body = response.get_json()["project"]
    assert body["duplicate_warning"] is True
    assert body["possible_duplicates"][0]["id"] == project["id"]
