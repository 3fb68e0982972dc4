"""Record the API exchanges the mini-program makes, for its jest tests to replay.

Each test below plays one story through the real app, the real sandbox and
a real database, sending each request exactly as ``miniprogram/utils/api.js``
sends it (path, query order, JSON or multipart body, bearer token). The
exchanges are written to ``miniprogram/tests/fixtures/<story>.json``, where
the jest tests' fake ``wx.request`` replays them.

Without ``RECORD_API_FIXTURES=1`` nothing is written: the test fails when a
response differs in shape (keys and value types) or status from the
committed fixture, or when the requests differ, so the replayed responses
cannot drift from the real API. ``make record-api`` rewrites the files.

Volatile values are normalised so that a re-recording only changes what the
API changed: tokens, login codes and binding scenes become placeholders and
every timestamp becomes one fixed instant. Row ids are kept because every
story starts from an empty database, where they are assigned in order.
"""

import io
import json
import os
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import requests

from models import BindingScene, Entry, db, utcnow
from models.validators import credit_code_check_char
from tests.factories import (
    VALID_BASIC,
    VALID_OTHER,
    add_project,
    fill_all,
    make_account,
    password_login,
    png_bytes,
    register_staff,
    save,
    upload_png,
    valid_manager,
)

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "miniprogram" / "tests" / "fixtures"
RECORDING = os.environ.get("RECORD_API_FIXTURES") == "1"

FIXED_TIME = "2026-12-04T01:30:00+00:00"
ISO_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)?"
)

# Towns are loaded from data/districts/nanhai.json in file order.
GUICHENG_TOWN_ID = 1
SHISHAN_TOWN_ID = 5

STAFF_FORM = {
    "name": "陈志强",
    "company_name": "佛山市南海区和悦物业服务有限公司",
    "mobile": "13800138000",
    "id_number": "11010519491231002X",
}
OTHER_COMPANY = "佛山市南海区另一物业有限公司"
OTHER_COMPANY_CODE = "91110000600037341L"
STAFF_CREDIT_CODE = "91440605MA4W00001" + credit_code_check_char("91440605MA4W00001")
RETURN_OPINION = "建筑面积与备案资料不符，请核对后重新填写"


class Recorder:
    """Send requests the way the mini-program does and keep each exchange."""

    def __init__(self, client, story):
        self.client = client
        self.story = story
        self.exchanges = []
        self.placeholders = {}

    def secret(self, value, placeholder):
        """Write ``placeholder`` in the fixture wherever ``value`` appears."""
        self.placeholders[value] = placeholder
        return value

    def call(self, name, method, path, status=200, token=None, **options):
        """Perform one request, check its status and return the JSON body.

        ``options``: ``query`` (dict, in the app's order), ``json_body``,
        ``form`` with ``file_field`` for a multipart upload, and
        ``download`` for a binary response (the body is then None).
        """
        url = path + query_string(options.get("query"))
        request = {"method": method, "path": url, "token": token}
        kwargs = {"headers": {"Authorization": f"Bearer {token}"} if token else {}}
        if options.get("file_field"):
            form = dict(options.get("form") or {})
            request.update(form=form, file=options["file_field"])
            upload = (io.BytesIO(png_bytes()), "photo.png")
            kwargs.update(
                data={**form, options["file_field"]: upload},
                content_type="multipart/form-data",
            )
        elif options.get("json_body") is not None:
            request["body"] = kwargs["json"] = options["json_body"]

        response = self.client.open(url, method=method, **kwargs)
        download = options.get("download", False)
        record = response_record(response, download)
        self.exchanges.append({"name": name, "request": request, "response": record})
        assert response.status_code == status, (name, record)
        return None if download else response.get_json()

    def call_sandbox(self, name, sandbox, json_body):
        """Ask the sandbox for a login code, as the app does in development."""
        path = "/sandbox/miniprogram/codes"
        response = requests.post(sandbox.url + path, json=json_body, timeout=10)
        request = {"method": "POST", "path": path, "base": "sandbox", "token": None}
        request["body"] = json_body
        record = {"status": response.status_code, "body": response.json()}
        self.exchanges.append({"name": name, "request": request, "response": record})
        assert response.status_code == 201, (name, record)
        return response.json()

    def document(self):
        story = {"story": self.story, "exchanges": self.exchanges}
        text = json.dumps(story, ensure_ascii=False)
        for value, placeholder in self.placeholders.items():
            text = text.replace(value, placeholder)
        return json.loads(ISO_TIMESTAMP.sub(FIXED_TIME, text))

    def finish(self):
        """Write the fixture when recording, else compare with the committed one."""
        path = FIXTURES / f"{self.story}.json"
        document = self.document()
        if RECORDING:
            FIXTURES.mkdir(parents=True, exist_ok=True)
            text = json.dumps(document, ensure_ascii=False, indent=2)
            path.write_text(text + "\n", encoding="utf-8")
            return
        assert path.exists(), f"{path} is missing: run `make record-api`"
        committed = json.loads(path.read_text(encoding="utf-8"))
        compare_documents(committed, document)


def query_string(query):
    """Build the query as routes.withQuery does: given order, no empty values."""
    parts = [
        f"{quote(str(key))}={quote(str(value), safe='')}"
        for key, value in (query or {}).items()
        if value not in (None, "")
    ]
    return "?" + "&".join(parts) if parts else ""


def response_record(response, download):
    if download:
        return {"status": response.status_code, "content_type": response.mimetype}
    return {"status": response.status_code, "body": response.get_json()}


def shape(value):
    """Return the structure of a JSON value: keys and value types, no values."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    return "string"


def compare_documents(committed, recorded):
    hint = "the API changed: run `make record-api` and update the jest tests"
    names = [exchange["name"] for exchange in recorded["exchanges"]]
    assert [exchange["name"] for exchange in committed["exchanges"]] == names, hint
    for old, new in zip(committed["exchanges"], recorded["exchanges"]):
        where = f"{recorded['story']}.{new['name']}"
        assert old["request"] == new["request"], f"{where}: request differs; {hint}"
        old_status = old["response"]["status"]
        assert old_status == new["response"]["status"], f"{where}: status; {hint}"
        assert shape(old["response"]) == shape(new["response"]), (
            f"{where}: response shape differs; {hint}"
        )


def wx_code(recorder, sandbox, openid):
    return recorder.secret(sandbox.wx_login_code(openid)["code"], "wx-code")


def register(client, sandbox, name="陈志强", **options):
    """Register a staff account with fixed company values, so fixtures stay stable."""
    options.setdefault("company_name", STAFF_FORM["company_name"])
    options.setdefault("credit_code", STAFF_CREDIT_CODE)
    return register_staff(client, sandbox, name=name, **options)


def project_path(project_id, category=None):
    path = f"/api/projects/{project_id}"
    return f"{path}/categories/{category}" if category else path


def review_path(project_id, category):
    return f"/api/review/projects/{project_id}/categories/{category}"


def entry_id(app, project_id, category):
    """Return an entry's id, which the API's entry shape leaves out."""
    with app.app_context():
        entry = Entry.query.filter_by(project_id=project_id, category=category)
        return entry.one().id


def decide(reviewer, project_id, category, decision, opinion=""):
    path = review_path(project_id, category)
    revision = reviewer.get(path).get_json()["revision"]["id"]
    body = {"revision_id": revision, "opinion": opinion}
    response = reviewer.post(f"{path}/{decision}", json=body)
    assert response.status_code == 200, response.get_json()


def reviewer_of_shishan(app, must_change=False):
    with app.app_context():
        make_account("reviewer", "shishan_reviewer", "shishan", must_change)


# ---------------------------------------------------------------------------
# Staff registration and login


def test_record_staff_auth(client, sandbox):
    register(
        client,
        sandbox,
        "李明",
        company_name=OTHER_COMPANY,
        credit_code=OTHER_COMPANY_CODE,
    )
    recorder = Recorder(client, "staff_auth")

    body = recorder.call_sandbox("sandbox_code_new", sandbox, {})
    openid = recorder.secret(body["openid"], "oSandboxStaff01")
    code = recorder.secret(body["code"], "wx-code")
    body = recorder.call(
        "wx_login_new", "POST", "/api/auth/wx-login", json_body={"code": code}
    )
    assert body["registered"] is False
    token = recorder.secret(body["token"], "token-new-staff")

    mismatch = dict(STAFF_FORM, credit_code=OTHER_COMPANY_CODE)
    body = recorder.call(
        "register_company_mismatch",
        "POST",
        "/api/auth/register",
        422,
        token,
        form=mismatch,
        file_field="id_proof",
    )
    assert OTHER_COMPANY in body["error"]["fields"]["company_name"]
    form = dict(STAFF_FORM, credit_code=STAFF_CREDIT_CODE)
    body = recorder.call(
        "register_ok",
        "POST",
        "/api/auth/register",
        201,
        token,
        form=form,
        file_field="id_proof",
    )
    assert body["user"]["role"] == "staff"
    assert body["user"]["wechat_bound"] is False
    body = recorder.call("me", "GET", "/api/me", token=token)
    assert body["user"]["name"] == "陈志强"

    body = recorder.call_sandbox("sandbox_code_known", sandbox, {"openid": openid})
    code = recorder.secret(body["code"], "wx-code")
    body = recorder.call(
        "wx_login_registered", "POST", "/api/auth/wx-login", json_body={"code": code}
    )
    assert body["registered"] is True
    recorder.secret(body["token"], "token-staff")
    body = recorder.call(
        "wx_login_bad_code",
        "POST",
        "/api/auth/wx-login",
        401,
        json_body={"code": "not-a-real-code"},
    )
    assert body["error"]["code"] == "wechat_login_failed"
    recorder.finish()


# ---------------------------------------------------------------------------
# Reviewer login through the government entrance


def test_record_reviewer_auth(app, client, sandbox):
    reviewer_of_shishan(app, must_change=True)
    recorder = Recorder(client, "reviewer_auth")
    login = {"username": "shishan_reviewer", "password": "wrong-password"}

    login["code"] = wx_code(recorder, sandbox, "oReviewerRec01")
    body = recorder.call(
        "password_login_wrong", "POST", "/api/auth/password-login", 401, json_body=login
    )
    assert body["error"]["code"] == "bad_credentials"
    login = dict(login, password="Review2026ok")
    login["code"] = wx_code(recorder, sandbox, "oReviewerRec01")
    body = recorder.call(
        "password_login_first", "POST", "/api/auth/password-login", json_body=login
    )
    assert body["user"]["must_change_password"] is True
    token = recorder.secret(body["token"], "token-reviewer-first")

    change = {"old_password": "Review2026ok", "new_password": "Shishan2027ok"}
    body = recorder.call(
        "change_password_ok",
        "POST",
        "/api/auth/change-password",
        token=token,
        json_body=change,
    )
    assert body["user"]["must_change_password"] is False
    code = wx_code(recorder, sandbox, "oReviewerRec01")
    body = recorder.call(
        "wx_login_reviewer", "POST", "/api/auth/wx-login", json_body={"code": code}
    )
    assert body["user"]["role"] == "reviewer"
    recorder.secret(body["token"], "token-reviewer")
    recorder.finish()


# ---------------------------------------------------------------------------
# Staff: projects and saving categories


def test_record_staff_projects(app, client, sandbox):
    other = register(
        client,
        sandbox,
        "李明",
        company_name=OTHER_COMPANY,
        credit_code=OTHER_COMPANY_CODE,
    )
    staff = register(client, sandbox)
    reviewer_of_shishan(app)
    reviewer = password_login(client, "shishan_reviewer")
    recorder = Recorder(client, "staff_projects")
    token = recorder.secret(staff.token, "token-staff")

    record_project_lists(recorder, token)
    record_saves(recorder, token, upload_png(other))
    decide(reviewer, 1, "basic", "return", RETURN_OPINION)
    record_return_and_resubmit(recorder, token)
    recorder.finish()


def list_projects(recorder, name, token, **query):
    query = {"page": 1, "per_page": 20, **query}
    return recorder.call(name, "GET", "/api/projects", token=token, query=query)


def record_project_lists(recorder, token):
    recorder.call("towns", "GET", "/api/towns", token=token)
    recorder.call("schema", "GET", "/api/schema", token=token)
    assert list_projects(recorder, "projects_empty", token)["total"] == 0

    new = {"name": "狮山翠湖花园", "address": "佛山市南海区狮山镇狮山大道18号"}
    new["town_id"] = SHISHAN_TOWN_ID
    body = recorder.call(
        "project_add", "POST", "/api/projects", 201, token, json_body=new
    )
    assert body["project"]["id"] == 1
    body = recorder.call(
        "project_add_duplicate", "POST", "/api/projects", 201, token, json_body=new
    )
    assert body["project"]["duplicate_warning"] is True
    assert body["project"]["possible_duplicates"][0]["id"] == 1
    third = {"name": "桂城碧水湾", "address": "佛山市南海区桂城街道南海大道88号"}
    third["town_id"] = GUICHENG_TOWN_ID
    recorder.call(
        "project_add_third", "POST", "/api/projects", 201, token, json_body=third
    )

    body = list_projects(recorder, "projects_page1", token, per_page=2)
    assert [project["id"] for project in body["projects"]] == [3, 2]
    body = list_projects(recorder, "projects_page2", token, page=2, per_page=2)
    assert [project["id"] for project in body["projects"]] == [1]
    body = list_projects(recorder, "projects_search", token, q="碧水湾")
    assert body["total"] == 1


def record_saves(recorder, token, foreign_file):
    recorder.call("project_get", "GET", project_path(1), token=token)
    body = recorder.call("category_basic", "GET", project_path(1, "basic"), token=token)
    assert body["entry"]["version"] == 0

    basic = project_path(1, "basic")
    draft = {
        key: VALID_BASIC[key]
        for key in ("project_name", "address", "community", "property_type")
    }
    body = recorder.call(
        "save_basic_draft",
        "PUT",
        basic,
        token=token,
        json_body={"version": 0, "data": draft},
    )
    assert (body["entry"]["state"], body["entry"]["version"]) == ("draft", 1)
    stale = {"version": 0, "data": dict(draft, community="狮山村")}
    body = recorder.call(
        "save_basic_conflict", "PUT", basic, 409, token, json_body=stale
    )
    assert body["error"]["current"]["version"] == 1
    body = recorder.call(
        "save_basic_complete",
        "PUT",
        basic,
        token=token,
        json_body={"version": 1, "data": VALID_BASIC},
    )
    assert body["entry"]["state"] == "submitted"

    other = project_path(1, "other")
    recorder.call("category_other", "GET", other, token=token)
    body = recorder.call(
        "save_other_complete",
        "PUT",
        other,
        token=token,
        json_body={"version": 0, "data": VALID_OTHER},
    )
    assert body["entry"]["state"] == "submitted"
    record_manager(recorder, token, foreign_file)


def record_manager(recorder, token, foreign_file):
    manager = project_path(1, "manager")
    recorder.call("category_manager", "GET", manager, token=token)
    body = recorder.call(
        "upload_file", "POST", "/api/files", 201, token, form={}, file_field="file"
    )
    own_file = body["file"]["id"]
    foreign = {"version": 0, "data": valid_manager(foreign_file)}
    body = recorder.call(
        "save_manager_foreign_file", "PUT", manager, 422, token, json_body=foreign
    )
    assert list(body["error"]["fields"]) == ["manager_id_proof"]
    body = recorder.call(
        "save_manager_complete",
        "PUT",
        manager,
        token=token,
        json_body={"version": 0, "data": valid_manager(own_file)},
    )
    assert body["project"]["status"] == "pending"


def record_return_and_resubmit(recorder, token):
    body = list_projects(recorder, "projects_returned", token, status="returned")
    assert [project["id"] for project in body["projects"]] == [1]
    body = recorder.call("project_get_returned", "GET", project_path(1), token=token)
    assert body["project"]["status"] == "returned"
    basic = project_path(1, "basic")
    body = recorder.call("category_basic_returned", "GET", basic, token=token)
    assert body["entry"]["last_opinion"] == RETURN_OPINION
    assert body["reviews"][0]["decision"] == "return"

    fixed = dict(VALID_BASIC, building_area=51800)
    resubmit = {"version": body["entry"]["version"], "data": fixed}
    body = recorder.call(
        "save_basic_resubmit", "PUT", basic, token=token, json_body=resubmit
    )
    assert body["entry"]["state"] == "submitted"


# ---------------------------------------------------------------------------
# Reviewer: lists, review, approve, return, next pending


def test_record_review(app, client, sandbox):
    staff = register(client, sandbox)
    add_project(staff, SHISHAN_TOWN_ID)
    add_project(
        staff,
        SHISHAN_TOWN_ID,
        name="狮山锦绣华庭",
        address="佛山市南海区狮山镇桃园路6号",
    )
    fill_all(staff, 1)
    fill_all(staff, 2)
    reviewer_of_shishan(app)
    reviewer = password_login(client, "shishan_reviewer")
    recorder = Recorder(client, "review")
    token = recorder.secret(reviewer.token, "token-reviewer")

    record_review_lists(recorder, token)
    record_decisions(recorder, token, staff)
    record_changes(recorder, token, staff)
    decide(reviewer, 1, "manager", "approve")
    decide(reviewer, 1, "basic", "approve")
    decide(reviewer, 2, "basic", "approve")
    decide(reviewer, 2, "other", "approve")
    record_last_pending(recorder, token, entry_id(app, 2, "manager"))
    decide(reviewer, 2, "manager", "approve")
    body = review_list(recorder, "review_projects_approved", token, filter="approved")
    assert [project["id"] for project in body["projects"]] == [2]
    recorder.finish()


def review_list(recorder, name, token, status=200, **query):
    query = {"page": 1, "per_page": 20, **query}
    return recorder.call(
        name, "GET", "/api/review/projects", status, token, query=query
    )


def record_review_lists(recorder, token):
    recorder.call("schema", "GET", "/api/schema", token=token)
    assert review_list(recorder, "review_projects_all", token)["total"] == 2
    review_list(recorder, "review_projects_expired", "token-expired", 401)
    body = review_list(recorder, "review_projects_pending", token, filter="pending")
    assert body["projects"][0]["pending_count"] == 3
    body = review_list(recorder, "review_projects_search", token, q="锦绣")
    assert [project["id"] for project in body["projects"]] == [2]
    recorder.call("review_project_get", "GET", project_path(1), token=token)


def record_decisions(recorder, token, staff):
    body = recorder.call(
        "review_basic_first", "GET", review_path(1, "basic"), token=token
    )
    assert body["can_review"] is True
    assert body["approved_revision"] is None
    approve = {"revision_id": body["revision"]["id"], "opinion": ""}
    body = recorder.call(
        "approve_basic",
        "POST",
        review_path(1, "basic") + "/approve",
        token=token,
        json_body=approve,
    )
    assert body["entry"]["state"] == "approved"

    body = recorder.call("review_other", "GET", review_path(1, "other"), token=token)
    decision = {"revision_id": body["revision"]["id"]}
    decision["opinion"] = "电梯数量与备案不符，请核对"
    body = recorder.call(
        "return_other",
        "POST",
        review_path(1, "other") + "/return",
        token=token,
        json_body=decision,
    )
    assert body["entry"]["state"] == "returned"
    record_stale_revision(recorder, token, staff)


def record_stale_revision(recorder, token, staff):
    manager = review_path(1, "manager")
    body = recorder.call("review_manager", "GET", manager, token=token)
    stale = body["revision"]["id"]
    entry = staff.get(project_path(1, "manager")).get_json()["entry"]
    data = dict(entry["data"], manager_mobile="13900139000")
    assert save(staff, 1, "manager", data, entry["version"]).status_code == 200

    approve = {"revision_id": stale, "opinion": ""}
    body = recorder.call(
        "approve_manager_stale",
        "POST",
        manager + "/approve",
        409,
        token,
        json_body=approve,
    )
    assert body["error"]["code"] == "stale_revision"
    body = recorder.call("review_manager_refreshed", "GET", manager, token=token)
    assert body["revision"]["id"] != stale


def record_changes(recorder, token, staff):
    entry = staff.get(project_path(1, "basic")).get_json()["entry"]
    data = dict(entry["data"], households=660)
    assert save(staff, 1, "basic", data, entry["version"]).status_code == 200
    body = recorder.call(
        "review_basic_changes", "GET", review_path(1, "basic"), token=token
    )
    assert [change["key"] for change in body["changes"]] == ["households"]
    body = recorder.call("next_pending", "GET", "/api/review/next-pending", token=token)
    assert (body["next"]["project_id"], body["next"]["category"]) == (2, "basic")


def record_last_pending(recorder, token, last_entry):
    body = review_list(recorder, "review_projects_returned", token, filter="returned")
    assert [project["id"] for project in body["projects"]] == [1]
    recorder.call("review_project2_get", "GET", project_path(2), token=token)
    body = recorder.call(
        "review_project2_manager", "GET", review_path(2, "manager"), token=token
    )
    assert body["can_review"] is True
    body = recorder.call(
        "next_pending_none",
        "GET",
        "/api/review/next-pending",
        token=token,
        query={"after_entry": last_entry},
    )
    assert body["next"] is None


# ---------------------------------------------------------------------------
# Binding WeChat notices: QR code, pending, bound by a scan, expired


def test_record_binding(app, client, sandbox, live_product):
    staff = register(client, sandbox, openid="oBindingStaff01")
    recorder = Recorder(client, "binding")
    token = recorder.secret(staff.token, "token-staff")

    body = recorder.call(
        "binding_create", "POST", "/api/wechat/binding", 201, token, json_body={}
    )
    assert body["binding"]["status"] == "pending"
    scene = recorder.secret(body["binding"]["scene"], "SCENE-1")
    recorder.call(
        "binding_qr", "GET", body["binding"]["qr_image_url"], token=token, download=True
    )
    body = recorder.call(
        "binding_pending", "GET", f"/api/wechat/binding/{scene}", token=token
    )
    assert body["binding"]["status"] == "pending"

    outcome = sandbox.control("post", "/sandbox/scan", json={"scene": scene})
    assert outcome["status"] == 200
    body = recorder.call(
        "binding_bound", "GET", f"/api/wechat/binding/{scene}", token=token
    )
    assert (body["binding"]["status"], body["wechat_bound"]) == ("bound", True)
    code = wx_code(recorder, sandbox, "oBindingStaff01")
    body = recorder.call(
        "wx_login_bound", "POST", "/api/auth/wx-login", json_body={"code": code}
    )
    assert body["user"]["wechat_bound"] is True
    recorder.secret(body["token"], "token-staff-bound")
    record_expired_binding(app, recorder, token)
    recorder.finish()


def record_expired_binding(app, recorder, token):
    body = recorder.call(
        "binding_create_again", "POST", "/api/wechat/binding", 201, token, json_body={}
    )
    scene = recorder.secret(body["binding"]["scene"], "SCENE-2")
    recorder.call(
        "binding_qr_again",
        "GET",
        body["binding"]["qr_image_url"],
        token=token,
        download=True,
    )
    with app.app_context():
        binding = BindingScene.query.filter_by(scene=scene).one()
        binding.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    body = recorder.call(
        "binding_expired", "GET", f"/api/wechat/binding/{scene}", token=token
    )
    assert body["binding"]["status"] == "expired"
