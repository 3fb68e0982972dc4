"""Malformed, oversized and hostile requests get a 4xx in the common shape."""

import pytest

from tests.factories import add_project, register_staff, save, town


@pytest.fixture()
def staff_project(app, client, sandbox):
    with app.app_context():
        shishan = town("shishan").id
    staff = register_staff(client, sandbox)
    return staff, add_project(staff, shishan)


def _assert_error_shape(response, status):
    assert response.status_code == status
    body = response.get_json()
    assert set(body["error"]) >= {"code", "message", "fields"}
    assert isinstance(body["error"]["message"], str)


def test_malformed_json(staff_project):
    staff, project = staff_project
    response = staff.put(f"/api/projects/{project['id']}/categories/basic",
                         data="{not json", content_type="application/json")
    _assert_error_shape(response, 400)
    assert response.get_json()["error"]["code"] == "invalid_json"


def test_json_array_body(staff_project):
    staff, project = staff_project
    response = staff.put(f"/api/projects/{project['id']}/categories/basic", json=[1, 2])
    _assert_error_shape(response, 400)


def test_missing_version(staff_project):
    staff, project = staff_project
    response = staff.put(f"/api/projects/{project['id']}/categories/basic", json={"data": {}})
    _assert_error_shape(response, 400)
    assert response.get_json()["error"]["fields"] == {"version": "缺少该字段"}


@pytest.mark.parametrize("version", ["0", None, True, 1.5])
def test_wrong_version_type(staff_project, version):
    staff, project = staff_project
    response = save(staff, project["id"], "basic", {}, version)
    _assert_error_shape(response, 422)


def test_data_not_object(staff_project):
    staff, project = staff_project
    response = staff.put(f"/api/projects/{project['id']}/categories/basic",
                         json={"version": 0, "data": "x"})
    _assert_error_shape(response, 400)


def test_wrong_value_types_rejected(staff_project):
    staff, project = staff_project
    response = save(staff, project["id"], "basic",
                    {"households": [1], "project_name": {"a": 1}, "fee": True}, 0)
    _assert_error_shape(response, 422)
    assert set(response.get_json()["error"]["fields"]) == {"households", "project_name", "fee"}


def test_oversized_body(staff_project):
    staff, project = staff_project
    response = save(staff, project["id"], "basic", {"notes": "x" * 300_000}, 0)
    _assert_error_shape(response, 413)


def test_unknown_project_and_category(staff_project):
    staff, project = staff_project
    _assert_error_shape(staff.get("/api/projects/999999"), 404)
    _assert_error_shape(staff.get(f"/api/projects/{project['id']}/categories/nope"), 404)


def test_unknown_route_json_404(client):
    _assert_error_shape(client.get("/api/nothing-here"), 404)


def test_bad_town_id(staff_project):
    staff, _ = staff_project
    response = staff.post("/api/projects", json={"name": "a", "address": "b", "town_id": "1"})
    _assert_error_shape(response, 422)
    assert "town_id" in response.get_json()["error"]["fields"]


def test_bad_pagination(staff_project):
    staff, _ = staff_project
    _assert_error_shape(staff.get("/api/projects?page=abc"), 400)
    _assert_error_shape(staff.get("/api/projects?per_page=1000"), 400)
    _assert_error_shape(staff.get("/api/projects?status=bogus"), 400)


def test_forged_token(client):
    response = client.get("/api/projects", headers={"Authorization": "Bearer forged"})
    _assert_error_shape(response, 401)


def test_rejected_save_changes_nothing(staff_project):
    staff, project = staff_project
    save(staff, project["id"], "other", {"lifts": 2}, 0)
    save(staff, project["id"], "other", {"lifts": -1}, 1)
    entry = staff.get(f"/api/projects/{project['id']}/categories/other").get_json()["entry"]
    assert entry["data"] == {"lifts": 2}
    assert entry["version"] == 1
