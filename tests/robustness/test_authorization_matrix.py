"""The authorization matrix: every documented API operation for eight parties.

The operations come from ``/api/openapi.json`` itself, so a new route
without a row here fails ``test_every_operation_has_a_row``. Each cell
asserts the status code and that the body shows no project the party may
not see. Requests are chosen so that none changes shared data: saves carry
a stale version and reviews a revision id that does not exist.
"""

import io

import pytest

from models.account import ROLE_ADMIN, ROLE_OFFICIAL, ROLE_REVIEWER
from tests.factories import (
    ApiClient,
    add_project,
    fill_all,
    make_account,
    password_login,
    png_bytes,
    register_staff,
    town,
)

PARTIES = ("anonymous", "staff_a", "staff_b", "rev_shishan", "rev_dali",
           "off_shishan", "off_district", "admin")
# What each party may read: project A is in 狮山镇 (staff A's), B in 大沥镇.
SEES_A = {"staff_a", "rev_shishan", "off_shishan", "off_district", "admin"}
SEES_B = {"staff_b", "rev_dali", "off_district", "admin"}


def _row(anonymous, **statuses):
    """A status per party; parties not named get ``rest``."""
    rest = statuses.pop("rest")
    row = {party: statuses.get(party, rest) for party in PARTIES}
    row["anonymous"] = anonymous
    return row


READ_A = _row(401, staff_a=200, rev_shishan=200, off_shishan=200, off_district=200,
              admin=200, rest=404)
REVIEW_READ = _row(401, staff_a=403, staff_b=403, rev_dali=404, rest=200)

# (method, path) -> (request builder name, expected status per party)
MATRIX = {
    ("post", "/api/auth/wx-login"): ("bad_code", _row(401, rest=401)),
    ("post", "/api/auth/password-login"): ("bad_password", _row(401, rest=401)),
    ("post", "/api/auth/register"): ("register", _row(401, rest=409)),
    ("post", "/api/auth/change-password"): ("bad_old_password", _row(401, rest=422)),
    ("post", "/api/auth/logout"): ("logout", _row(401, rest=200)),
    ("get", "/api/me"): ("plain", _row(401, rest=200)),
    ("get", "/api/schema"): ("plain", _row(200, rest=200)),
    ("get", "/api/towns"): ("plain", _row(200, rest=200)),
    ("post", "/api/files"): ("no_file", _row(401, rest=400)),
    ("get", "/api/files/{file_id}"): ("plain", _row(
        401, staff_a=200, rev_shishan=200, admin=200, rest=404)),
    ("get", "/api/projects"): ("plain", _row(401, rest=200)),
    ("post", "/api/projects"): ("new_project", _row(
        401, staff_a=201, staff_b=201, rest=403)),
    ("get", "/api/projects/{project_id}"): ("plain", READ_A),
    ("get", "/api/projects/{project_id}/categories/{category}"): ("plain", READ_A),
    ("put", "/api/projects/{project_id}/categories/{category}"): ("stale_save", _row(
        401, staff_a=409, staff_b=404, rest=403)),
    ("get", "/api/projects/{project_id}/reviews"): ("plain", READ_A),
    ("get", "/api/review/projects"): ("plain", _row(401, staff_a=403, staff_b=403, rest=200)),
    ("get", "/api/review/projects/{project_id}/categories/{category}"): (
        "plain", REVIEW_READ),
    ("post", "/api/review/projects/{project_id}/categories/{category}/approve"): (
        "missing_revision", _row(401, rev_shishan=409, admin=409, rev_dali=404,
                                 rest=403)),
    ("post", "/api/review/projects/{project_id}/categories/{category}/return"): (
        "missing_revision", _row(401, rev_shishan=409, admin=409, rev_dali=404,
                                 rest=403)),
    ("get", "/api/review/next-pending"): ("plain", _row(
        401, staff_a=403, staff_b=403, rest=200)),
    ("post", "/api/wechat/binding"): ("plain", _row(401, rest=201)),
    ("get", "/api/wechat/binding/{scene}"): ("plain", _row(401, staff_a=200, rest=404)),
    ("get", "/api/wechat/binding/{scene}/qr.png"): ("plain", _row(
        401, staff_a=200, rest=404)),
}


@pytest.fixture()
def world(app, client, sandbox):
    with app.app_context():
        shishan, dali = town("shishan").id, town("dali").id
        make_account(ROLE_REVIEWER, "m_rev_shishan", "shishan")
        make_account(ROLE_REVIEWER, "m_rev_dali", "dali")
        make_account(ROLE_OFFICIAL, "m_off_shishan", "shishan")
        make_account(ROLE_OFFICIAL, "m_off_district")
        make_account(ROLE_ADMIN, "m_admin")
    staff_a = register_staff(client, sandbox, name="甲公司员工")
    staff_b = register_staff(client, sandbox, name="乙公司员工")
    project_a = add_project(staff_a, shishan, name="甲矩阵花园", address="狮山甲矩阵路1号")
    add_project(staff_b, dali, name="乙矩阵花园", address="大沥乙矩阵路2号")
    proof = fill_all(staff_a, project_a["id"])
    scene = staff_a.post("/api/wechat/binding").get_json()["binding"]["scene"]
    apis = {"staff_a": staff_a, "staff_b": staff_b}
    for party, username in (("rev_shishan", "m_rev_shishan"), ("rev_dali", "m_rev_dali"),
                            ("off_shishan", "m_off_shishan"),
                            ("off_district", "m_off_district"), ("admin", "m_admin")):
        apis[party] = password_login(client, username)
    apis["anonymous"] = ApiClient(client, "")
    values = {"project_id": project_a["id"], "category": "basic", "file_id": proof,
              "scene": scene}
    return {"apis": apis, "values": values, "shishan": shishan}


def _request(world, party, method, path, builder):
    api = world["apis"][party]
    url = path.format(**world["values"])
    if builder == "plain" or builder == "logout":
        return getattr(api, method)(url)
    bodies = {
        "bad_code": {"json": {"code": "no-such-code"}},
        "bad_password": {"json": {"username": "nobody", "password": "x"}},
        "register": {"data": {"name": "某人", "id_proof": (io.BytesIO(png_bytes()), "a.png")},
                     "content_type": "multipart/form-data"},
        "bad_old_password": {"json": {"old_password": "wrong", "new_password": "Abc12345"}},
        "no_file": {"data": {}, "content_type": "multipart/form-data"},
        "new_project": {"json": {"name": f"{party}新项目", "address": "某路1号",
                                 "town_id": world["shishan"]}},
        "stale_save": {"json": {"version": 999, "data": {}}},
        "missing_revision": {"json": {"revision_id": 10**6, "opinion": "矩阵测试"}},
    }
    return getattr(api, method)(url, **bodies[builder])


def test_every_operation_has_a_row(client):
    document = client.get("/api/openapi.json").get_json()
    documented = {(method, path) for path, item in document["paths"].items()
                  for method in item}
    assert documented == set(MATRIX)


@pytest.mark.parametrize("operation", sorted(MATRIX), ids=lambda op: f"{op[0]} {op[1]}")
def test_operation_matrix(world, operation):
    method, path = operation
    builder, expected = MATRIX[operation]
    results = {}
    for party in PARTIES:
        if builder == "logout":
            continue
        response = _request(world, party, method, path, builder)
        results[party] = response.status_code
        body = response.get_data().decode("utf-8", "replace")
        if party not in SEES_A:
            assert "甲矩阵花园" not in body, (party, path)
        if party not in SEES_B:
            assert "乙矩阵花园" not in body, (party, path)
    if builder == "logout":
        results = _logout_results(world)
    assert results == expected


def _logout_results(world):
    """Log out last, each party once, so no other cell loses its session."""
    return {party: world["apis"][party].post("/api/auth/logout").status_code
            for party in PARTIES}
