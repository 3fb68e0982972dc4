"""Replay one whole story through the HTTP API against the running stack.

``make run`` must be up. Each step prints what it did and what it got; the
script exits with status 1 at the first result that differs from what the
story expects.
"""

import io
import json
import os
import random
import sys
import time
from pathlib import Path

import requests
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from wxapp_backend.demo.identity import make_credit_code, make_id_number  # noqa: E402

WEB = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"
SANDBOX = f"http://127.0.0.1:{os.environ.get('SANDBOX_PORT', '8100')}"
DEMO_PASSWORD = "Nanhai2026"
TIMEOUT = 15
TEMPLATES = json.loads(
    (Path(__file__).resolve().parent.parent / "data" / "wechat_templates.json").read_text()
)
RETURN_TEMPLATE_ID = TEMPLATES["templates"]["return_notice"]["template_id"]


class StoryFailed(Exception):
    pass


class Step:
    number = 0

    def __init__(self, title):
        Step.number += 1
        self.title = title

    def __enter__(self):
        print(f"\n[{Step.number:02d}] {self.title}")
        return self

    def __exit__(self, kind, error, trace):
        if error is None:
            print("     ✓ 符合预期")
        return False


def expect(condition, message):
    if not condition:
        raise StoryFailed(message)


def show(text):
    print(f"     {text}")


def call(method, path, token=None, base=WEB, **kwargs):
    headers = kwargs.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.request(method, base + path, headers=headers, timeout=TIMEOUT, **kwargs)


def png():
    buffer = io.BytesIO()
    Image.new("RGB", (120, 80), (235, 240, 250)).save(buffer, format="PNG")
    return buffer.getvalue()


def wx_login(openid=None):
    body = {"openid": openid} if openid else {}
    code = call("post", "/sandbox/miniprogram/codes", base=SANDBOX, json=body).json()
    response = call("post", "/api/auth/wx-login", json={"code": code["code"]})
    expect(response.status_code == 200, f"wx-login returned {response.status_code}")
    return code["openid"], response.json()


def password_login(username):
    response = call("post", "/api/auth/password-login",
                    json={"username": username, "password": DEMO_PASSWORD})
    expect(response.status_code == 200, f"{username} login returned {response.status_code}")
    return response.json()["token"]


def bind_by_scan(token, who):
    response = call("post", "/api/wechat/binding", token=token)
    expect(response.status_code == 201, f"binding QR request returned {response.status_code}")
    scene = response.json()["binding"]["scene"]
    show(f"{who}获取绑定二维码，scene={scene[:8]}…")
    scan = call("post", "/sandbox/scan", base=SANDBOX, json={"scene": scene}).json()
    reply = (scan.get("reply") or {}).get("Content", "")
    show(f"模拟扫码关注服务号，服务号回复：{reply}")
    expect("绑定成功" in reply, f"bot reply was {reply!r}")
    status = call("get", f"/api/wechat/binding/{scene}", token=token).json()
    expect(status["binding"]["status"] == "bound", f"binding status {status}")
    return scan["openid"]


def category_url(project_id, category, review=False):
    prefix = "/api/review/projects" if review else "/api/projects"
    return f"{prefix}/{project_id}/categories/{category}"


def save(token, project_id, category, data):
    version = call("get", category_url(project_id, category), token=token).json()[
        "entry"]["version"]
    return call("put", category_url(project_id, category), token=token,
                json={"version": version, "data": data})


def story():
    rng = random.Random()
    credit_code = make_credit_code(rng)
    company = f"佛山市南海区演示物业{rng.randrange(1000, 9999)}有限公司"

    with Step("物业项目负责人用 wx.login 凭证登录小程序"):
        staff_openid, login = wx_login()
        token = login["token"]
        show(f"openid={staff_openid}，已注册={login['registered']}")
        expect(login["registered"] is False, "a new openid should need registration")

    with Step("注册物业项目用户（姓名、手机、身份证、企业、统一社会信用代码、身份证明）"):
        response = call("post", "/api/auth/register", token=token, data={
            "name": "梁嘉欣", "mobile": "+86 139-2233-4455",
            "id_number": make_id_number(rng), "company_name": company,
            "credit_code": credit_code}, files={"id_proof": ("身份证明.png", png(), "image/png")})
        expect(response.status_code == 201, f"register returned {response.status_code} {response.text}")
        show(f"注册成功：{response.json()['user']['name']}，{company}")

    with Step("物业项目用户扫码绑定服务号消息"):
        staff_service_openid = bind_by_scan(token, "物业项目用户")

    with Step("在狮山镇添加物业项目"):
        towns = call("get", "/api/towns").json()["towns"]
        shishan = next(town for town in towns if town["name"] == "狮山镇")
        name = f"狮山演示花园{rng.randrange(100, 999)}"
        response = call("post", "/api/projects", token=token, json={
            "name": name, "address": f"佛山市南海区狮山镇演示路{rng.randrange(1, 99)}号",
            "town_id": shishan["id"]})
        expect(response.status_code == 201, f"add project returned {response.status_code}")
        project = response.json()["project"]
        show(f"项目「{project['name']}」状态：{project['status_label']}")

    basic = {
        "project_name": project["name"], "address": project["address"],
        "community": "狮山社区", "property_type": "住宅", "building_area": "５２０００.５",
        "land_area": 21000, "households": 640, "buildings": 12,
        "delivery_date": "2015-06-30", "company_name": company,
        "company_credit_code": credit_code[:-1] + ("0" if credit_code[-1] != "0" else "1"),
        "engagement": "前期物业", "contract_start": "2023-01-01",
        "contract_end": "2025-12-31", "fee": 2.35, "owners_committee": "未成立",
    }
    with Step("保存基本信息，统一社会信用代码校验位填错"):
        response = save(token, project["id"], "basic", basic)
        error = response.json()["error"]
        show(f"HTTP {response.status_code}：{error['fields'].get('company_credit_code')}")
        expect(response.status_code == 422, "a wrong check character must be rejected")
        expect("校验位不正确" in error["fields"]["company_credit_code"], "field error expected")

    with Step("保存项目负责人，身份证号码校验位填错"):
        wrong_id = "36042619910102009X"
        response = save(token, project["id"], "manager", {"manager_id_number": wrong_id})
        message = response.json()["error"]["fields"].get("manager_id_number")
        show(f"HTTP {response.status_code}：{message}")
        expect(response.status_code == 422 and "校验位" in message, "ID check digit error")

    with Step("改正后填写全部三个信息分类（保存即自动提交复核）"):
        basic["company_credit_code"] = credit_code
        proof = call("post", "/api/files", token=token,
                     files={"file": ("proof.png", png(), "image/png")}).json()["file"]["id"]
        categories = {
            "basic": basic,
            "other": {"lifts": 24, "parking_above": 120, "parking_below": 680,
                      "fire_equipment": "完好", "maintenance_fund": "已归集",
                      "staff_total": 46, "staff_security": 20, "staff_cleaning": 14,
                      "service_phone": "0757-86612345"},
            "manager": {"manager_name": "梁嘉欣", "manager_id_number": "11010519491231002X",
                        "manager_mobile": "13922334455", "manager_position": "项目经理",
                        "manager_years": 8, "manager_id_proof": proof},
        }
        for category, data in categories.items():
            response = save(token, project["id"], category, data)
            expect(response.status_code == 200, f"{category} save returned {response.status_code}")
            entry = response.json()["entry"]
            show(f"{entry['label']}：{entry['state_label']}，完成度{entry['completeness']}%")
            expect(entry["state"] == "submitted", f"{category} should be submitted")

    with Step("狮山镇复核人员登录并扫码绑定"):
        reviewer = password_login("shishan_reviewer")
        bind_by_scan(reviewer, "狮山镇复核人员")

    opinion = "建筑面积与规划验收资料不一致，请核对后重新填写"
    with Step("狮山镇复核人员退回基本信息，填写复核意见"):
        view = call("get", category_url(project["id"], "basic", True), token=reviewer).json()
        response = call("post", category_url(project["id"], "basic", True) + "/return",
                        token=reviewer, json={"revision_id": view["revision"]["id"],
                                              "opinion": opinion})
        expect(response.status_code == 200, f"return returned {response.status_code}")
        show(f"项目状态：{response.json()['project']['status_label']}")
        expect(response.json()["project"]["status"] == "returned", "project should be returned")

    with Step("大沥镇复核人员无权查看该项目"):
        other = password_login("dali_reviewer")
        response = call("get", category_url(project["id"], "basic", True), token=other)
        show(f"HTTP {response.status_code}：{response.json()['error']['message']}")
        expect(response.status_code == 404, "another town's reviewer must be refused")

    with Step("物业项目用户在服务号收到退回通知（沙箱手机视图）"):
        message = wait_for_message(staff_service_openid, RETURN_TEMPLATE_ID)
        show("收到：" + "；".join(f"{k}={v['value']}" for k, v in message["data"].items()))

    with Step("物业项目用户查看复核意见，修改后保存，重新提交复核"):
        entry = call("get", category_url(project["id"], "basic"), token=token).json()["entry"]
        show(f"复核意见：{entry['last_opinion']}")
        expect(entry["state"] == "returned", "basic should be returned")
        basic["building_area"] = 51000
        response = save(token, project["id"], "basic", basic)
        expect(response.json()["entry"]["state"] == "submitted", "resubmission expected")
        show("基本信息：待复核")

    with Step("狮山镇复核人员通过全部三个信息分类"):
        for category in ("basic", "other", "manager"):
            view = call("get", category_url(project["id"], category, True), token=reviewer).json()
            if category == "basic":
                changed = "、".join(change["label"] for change in view["changes"])
                if view["approved_revision"] is None:
                    changed = "尚无已通过版本，全部字段为新填写"
                show(f"与上次通过版本相比：{changed}")
            response = call("post", category_url(project["id"], category, True) + "/approve",
                            token=reviewer, json={"revision_id": view["revision"]["id"],
                                                  "opinion": "信息核对无误"})
            expect(response.status_code == 200, f"approve {category}: {response.status_code}")
        final = call("get", f"/api/projects/{project['id']}", token=token).json()["project"]
        show(f"项目「{final['name']}」状态：{final['status_label']}")
        expect(final["status"] == "approved", "project should be approved")
    print(f"\n演示完成：所有步骤符合预期。沙箱手机视图：{SANDBOX}/sandbox/")


def wait_for_message(openid, template_id, timeout=60):
    """Poll the sandbox until ``openid`` has received a ``template_id`` message."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = call("get", "/sandbox/messages", base=SANDBOX,
                        params={"openid": openid, "template_id": template_id})
        messages = response.json()["messages"]
        if messages:
            return messages[-1]
        time.sleep(1)
    raise StoryFailed(f"no template message {template_id} for {openid} within {timeout}s")


def main():
    try:
        requests.get(WEB + "/healthz", timeout=5)
    except requests.RequestException:
        print(f"无法连接 {WEB}：请先在另一个终端运行 make run")
        return 2
    try:
        story()
    except StoryFailed as failure:
        print(f"     ✗ 与预期不符：{failure}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
