"""Scope rules on every route, with staff of two companies and reviewers of two towns."""

import pytest

from models.account import ROLE_ADMIN, ROLE_OFFICIAL, ROLE_REVIEWER
from tests.factories import (
    add_project,
    fill_all,
    make_account,
    password_login,
    register_staff,
    town,
)


@pytest.fixture()
def world(app, client, sandbox):
    with app.app_context():
        shishan, dali = town("shishan").id, town("dali").id
        make_account(ROLE_REVIEWER, "shishan_rev", "shishan")
        make_account(ROLE_REVIEWER, "dali_rev", "dali")
        make_account(ROLE_OFFICIAL, "shishan_off", "shishan")
        make_account(ROLE_OFFICIAL, "district_off")
        make_account(ROLE_ADMIN, "root")
    staff_a = register_staff(client, sandbox, name="甲公司员工")
    staff_b = register_staff(client, sandbox, name="乙公司员工")
    project_a = add_project(staff_a, shishan, name="甲项目", address="狮山甲路1号")
    project_b = add_project(staff_b, dali, name="乙项目", address="大沥乙路2号")
    proof_a = fill_all(staff_a, project_a["id"])
    return {
        "staff_a": staff_a, "staff_b": staff_b,
        "shishan_rev": password_login(client, "shishan_rev"),
        "dali_rev": password_login(client, "dali_rev"),
        "shishan_off": password_login(client, "shishan_off"),
        "district_off": password_login(client, "district_off"),
        "admin": password_login(client, "root"),
        "a": project_a["id"], "b": project_b["id"], "proof_a": proof_a,
    }


READ_A = {"staff_a": 200, "staff_b": 404, "shishan_rev": 200, "dali_rev": 404,
          "shishan_off": 200, "district_off": 200, "admin": 200}


@pytest.mark.parametrize("who, status", READ_A.items())
def test_project_detail_scope(world, who, status):
    response = world[who].get(f"/api/projects/{world['a']}")
    assert response.status_code == status
    if status == 404:
        assert "甲项目" not in response.get_data(as_text=True)


@pytest.mark.parametrize("who, status", READ_A.items())
def test_category_scope(world, who, status):
    response = world[who].get(f"/api/projects/{world['a']}/categories/basic")
    assert response.status_code == status


@pytest.mark.parametrize("who, status", READ_A.items())
def test_reviews_scope(world, who, status):
    assert world[who].get(f"/api/projects/{world['a']}/reviews").status_code == status


@pytest.mark.parametrize("who, names", [
    ("staff_a", ["甲项目"]), ("staff_b", ["乙项目"]), ("shishan_rev", ["甲项目"]),
    ("dali_rev", ["乙项目"]), ("shishan_off", ["甲项目"]),
    ("district_off", ["乙项目", "甲项目"]), ("admin", ["乙项目", "甲项目"]),
])
def test_project_list_scope(world, who, names):
    body = world[who].get("/api/projects").get_json()
    assert sorted(p["name"] for p in body["projects"]) == sorted(names)


@pytest.mark.parametrize("who, status", [
    ("staff_a", 403), ("shishan_rev", 200), ("dali_rev", 200), ("district_off", 200),
])
def test_review_list_roles(world, who, status):
    response = world[who].get("/api/review/projects")
    assert response.status_code == status
    if who == "dali_rev":
        assert "甲项目" not in response.get_data(as_text=True)


@pytest.mark.parametrize("who, status", [
    ("staff_a", 403), ("staff_b", 403), ("shishan_rev", 200), ("dali_rev", 404),
    ("shishan_off", 403), ("district_off", 403), ("admin", 200),
])
def test_approve_scope(world, who, status):
    view = world["admin"].get(f"/api/review/projects/{world['a']}/categories/basic")
    revision_id = view.get_json()["revision"]["id"]
    response = world[who].post(
        f"/api/review/projects/{world['a']}/categories/basic/approve",
        json={"revision_id": revision_id})
    assert response.status_code == status


@pytest.mark.parametrize("who, status", [
    ("staff_a", 422), ("staff_b", 404), ("shishan_rev", 403), ("admin", 403),
])
def test_save_scope(world, who, status):
    response = world[who].put(f"/api/projects/{world['a']}/categories/other",
                              json={"version": 99, "data": {"lifts": "x"}})
    assert response.status_code in (status, 409)
    if who != "staff_a":
        assert response.status_code == status


@pytest.mark.parametrize("who, status", [
    ("staff_a", 200), ("staff_b", 404), ("shishan_rev", 200), ("dali_rev", 404),
    ("shishan_off", 404), ("admin", 200),
])
def test_id_proof_file_scope(world, who, status):
    assert world[who].get(f"/api/files/{world['proof_a']}").status_code == status


def test_official_sees_masked_id_number(world):
    body = world["shishan_off"].get(f"/api/projects/{world['a']}/categories/manager").get_json()
    assert body["entry"]["data"]["manager_id_number"] == "110105********002X"
    body = world["shishan_rev"].get(f"/api/projects/{world['a']}/categories/manager").get_json()
    assert body["entry"]["data"]["manager_id_number"] == "11010519491231002X"


def test_reviewer_cannot_add_project(world, app):
    with app.app_context():
        shishan = town("shishan").id
    response = world["shishan_rev"].post("/api/projects", json={
        "name": "x", "address": "y", "town_id": shishan})
    assert response.status_code == 403


def test_anonymous_gets_401(client, world):
    assert client.get(f"/api/projects/{world['a']}").status_code == 401
    assert client.get("/api/projects").get_json()["error"]["code"] == "unauthorized"
