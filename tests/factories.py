"""Rows and logged-in API clients for tests, built through the real code paths."""

import io
import random

from PIL import Image

from models import Town, User, db

from wxapp_backend.demo.identity import make_credit_code, make_id_number, make_mobile

PASSWORD = "Review2026ok"
_rng = random.Random(7)

VALID_BASIC = {
    "project_name": "狮山翠湖花园",
    "address": "佛山市南海区狮山镇狮山大道18号",
    "community": "狮山社区",
    "property_type": "住宅",
    "building_area": 52000.5,
    "land_area": 21000,
    "households": 640,
    "buildings": 12,
    "delivery_date": "2015-06-30",
    "company_name": "佛山市南海区和悦物业服务有限公司",
    "company_credit_code": "91110000600037341L",
    "engagement": "前期物业",
    "contract_start": "2023-01-01",
    "contract_end": "2025-12-31",
    "fee": 2.35,
    "owners_committee": "未成立",
}
VALID_OTHER = {
    "lifts": 24,
    "parking_above": 120,
    "parking_below": 680,
    "fire_equipment": "完好",
    "maintenance_fund": "已归集",
    "staff_total": 46,
    "staff_security": 20,
    "staff_cleaning": 14,
    "service_phone": "0757-86612345",
}


def valid_manager(file_id):
    return {
        "manager_name": "陈志强",
        "manager_id_number": "11010519491231002X",
        "manager_mobile": "13800138000",
        "manager_position": "项目经理",
        "manager_years": 8,
        "manager_id_proof": file_id,
    }


def png_bytes():
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 200, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def town(slug):
    return Town.query.filter_by(slug=slug).one()


def make_account(role, username, town_slug=None, must_change=False):
    user = User(role=role, name=f"{username}姓名", username=username,
                town=town(town_slug) if town_slug else None,
                must_change_password=must_change)
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.commit()
    return user.id


class ApiClient:
    """A Flask test client that sends one user's bearer token."""

    def __init__(self, client, token, user=None):
        self.client = client
        self.token = token
        self.user = user

    def _headers(self, headers):
        merged = {"Authorization": f"Bearer {self.token}"}
        merged.update(headers or {})
        return merged

    def get(self, path, **kwargs):
        return self.client.get(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, path, **kwargs):
        return self.client.post(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def put(self, path, **kwargs):
        return self.client.put(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)


def password_login(client, username, password=PASSWORD):
    response = client.post("/api/auth/password-login",
                           json={"username": username, "password": password})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    return ApiClient(client, body["token"], body["user"])


def register_staff(client, sandbox, name="陈志强", company_name=None, credit_code=None,
                   openid=None):
    """Log in with a sandbox wx.login code and register; return an ApiClient."""
    code = sandbox.wx_login_code(openid)["code"]
    login = client.post("/api/auth/wx-login", json={"code": code}).get_json()
    api = ApiClient(client, login["token"])
    form = {
        "name": name,
        "mobile": make_mobile(_rng),
        "id_number": make_id_number(_rng),
        "company_name": company_name or f"佛山市测试物业{_rng.randrange(10**6)}有限公司",
        "credit_code": credit_code or make_credit_code(_rng),
        "id_proof": (io.BytesIO(png_bytes()), "id.png"),
    }
    response = api.post("/api/auth/register", data=form, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    api.user = response.get_json()["user"]
    return api


def upload_png(api):
    response = api.post("/api/files", data={"file": (io.BytesIO(png_bytes()), "p.png")},
                        content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    return response.get_json()["file"]["id"]


def add_project(api, town_id, name="狮山翠湖花园", address="佛山市南海区狮山镇狮山大道18号"):
    response = api.post("/api/projects", json={"name": name, "address": address,
                                               "town_id": town_id})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["project"]


def save(api, project_id, category, data, version):
    return api.put(f"/api/projects/{project_id}/categories/{category}",
                   json={"version": version, "data": data})


def fill_all(api, project_id):
    """Save all three categories complete; return the manager file id."""
    file_id = upload_png(api)
    project = api.get(f"/api/projects/{project_id}").get_json()["project"]
    basic = dict(VALID_BASIC, project_name=project["name"], address=project["address"])
    for category, data in (("basic", basic), ("other", VALID_OTHER),
                           ("manager", valid_manager(file_id))):
        version = api.get(f"/api/projects/{project_id}/categories/{category}").get_json()[
            "entry"]["version"]
        response = save(api, project_id, category, data, version)
        assert response.status_code == 200, response.get_json()
    return file_id


