"""Seed the development database with towns, accounts and projects in every state.

Everything goes through the workflow functions, so revisions, reviews and
audit events are the same as real use produces.
"""

import io
import random
from datetime import date, timedelta

from flask import current_app
from PIL import Image
from werkzeug.datastructures import FileStorage

from models import Company, Project, Town, User, db
from models.account import ROLE_ADMIN, ROLE_OFFICIAL, ROLE_REVIEWER, ROLE_STAFF
from models.form_schema import load_schema
from models.project import DECISION_APPROVE, DECISION_RETURN
from models.town import load_district_file
from models.workflow import create_project, review_entry, save_entry
from wxapp_backend.demo.identity import make_credit_code, make_id_number, make_mobile
from wxapp_backend.uploads import store_upload

# Development only: every demo account shares this password, printed at start.
DEMO_PASSWORD = "Nanhai2026"

COMPANIES = (
    "佛山市南海区和悦物业服务有限公司",
    "佛山市锦城物业管理有限公司",
    "广东康居城市服务有限公司南海分公司",
    "佛山市南海区安泰物业服务有限公司",
    "佛山市汇景物业管理有限公司",
    "佛山市南海区顺益物业服务有限公司",
)
STAFF_NAMES = (
    "陈志强",
    "李秀梅",
    "黄伟东",
    "梁嘉欣",
    "何俊杰",
    "罗丽华",
    "冯国栋",
    "周佩玲",
)
ESTATE_WORDS = ("花园", "雅苑", "名都", "御景", "广场", "商务中心", "工业园", "华庭")
ESTATE_PREFIXES = (
    "翠湖",
    "金沙",
    "碧桂",
    "锦绣",
    "怡景",
    "南湖",
    "丰泽",
    "嘉和",
    "凤鸣",
    "聚贤",
)
ROADS = (
    "南海大道",
    "桂澜路",
    "海八路",
    "狮山大道",
    "黄岐大道",
    "里水大道",
    "樵华路",
    "丹灶大道",
)
OPINIONS = (
    "建筑面积与规划验收资料不一致，请核对后重新填写",
    "服务合同日期有误，请上传最新合同并更正起止日期",
    "统一社会信用代码与企业名称不符，请核对营业执照",
)
# The story of each category of a town's demo projects, one plan per
# project, in order.
PLANS = (
    {"basic": "approve", "other": "approve", "manager": "approve"},
    {"basic": "submit", "other": "submit", "manager": "submit"},
    {"basic": "return", "other": "approve", "manager": "submit"},
    {"basic": "submit", "other": "draft", "manager": None},
    {"basic": "approve", "other": "submit", "manager": "draft"},
    {"basic": None, "other": None, "manager": None},
)


def seed(force=False):
    """Seed once; return a printable summary with the demo logins."""
    load_district_file(current_app.config["DISTRICT_FILE"])
    if Project.query.first() is not None and not force:
        return "demo data already present; logins:\n" + _logins_text()
    rng = random.Random(20261204)
    towns = Town.query.order_by(Town.sort_order).all()
    _ensure_officials_and_reviewers(towns)
    staff = _create_companies_and_staff(rng)
    schema = load_schema(current_app.config["FORM_SCHEMA_FILE"])
    count = 0
    for town_index, town in enumerate(towns):
        reviewer = User.query.filter_by(username=f"{town.slug}_reviewer").one()
        # Towns differ in size and progress so that the dashboard shows
        # something to compare.
        for plan_index in range(4 + (town_index * 3) % 5):
            plan = PLANS[(plan_index + town_index) % len(PLANS)]
            owner = staff[(town_index + plan_index) % len(staff)]
            _create_demo_project(schema, rng, town, owner, reviewer, plan)
            count += 1
    db.session.commit()
    return f"seeded {count} projects in {len(towns)} towns; logins:\n" + _logins_text()


def _account(username, role, name, town=None):
    user = User.query.filter_by(username=username).one_or_none()
    if user is None:
        user = User(username=username, role=role, name=name, town=town)
        user.set_password(DEMO_PASSWORD)
        db.session.add(user)
    return user


def _ensure_officials_and_reviewers(towns):
    _account("admin", ROLE_ADMIN, "区房管局管理员")
    _account("district_official", ROLE_OFFICIAL, "区房管局领导")
    for town in towns:
        _account(f"{town.slug}_reviewer", ROLE_REVIEWER, f"{town.name}复核员", town)
        _account(f"{town.slug}_official", ROLE_OFFICIAL, f"{town.name}领导", town)
    db.session.flush()


def _create_companies_and_staff(rng):
    staff = []
    for index, company_name in enumerate(COMPANIES):
        company = Company(name=company_name, credit_code=make_credit_code(rng))
        db.session.add(company)
        user = User(
            role=ROLE_STAFF,
            name=STAFF_NAMES[index],
            mobile=make_mobile(rng),
            id_number=make_id_number(rng),
            company=company,
            miniprogram_openid=f"demo-staff-openid-{index + 1}",
        )
        db.session.add(user)
        db.session.flush()
        user.id_proof_file_id = _demo_image(user).id
        staff.append(user)
    return staff


def _demo_image(owner):
    buffer = io.BytesIO()
    Image.new("RGB", (64, 40), (220, 230, 240)).save(buffer, format="PNG")
    buffer.seek(0)
    return store_upload(FileStorage(buffer, filename="身份证明.png"), owner=owner)


def _create_demo_project(schema, rng, town, owner, reviewer, plan):
    name = f"{rng.choice(ESTATE_PREFIXES)}{rng.choice(ESTATE_WORDS)}"
    name = f"{town.name[:2]}{name}{rng.randrange(1, 9)}期"
    address = f"佛山市南海区{town.name}{rng.choice(ROADS)}{rng.randrange(1, 300)}号"
    project = create_project(schema, owner, town, name, address)
    for entry in project.entries:
        step = plan[entry.category]
        if step is None:
            continue
        data = _complete_data(entry.category, rng, project, owner)
        if step == "draft":
            data = dict(list(data.items())[: len(data) // 2])
        save_entry(schema, entry, data, entry.version, owner)
        if step in ("approve", "return"):
            decision = DECISION_APPROVE if step == "approve" else DECISION_RETURN
            opinion = rng.choice(OPINIONS) if step == "return" else "信息核对无误"
            review_entry(entry, entry.current_revision_id, decision, opinion, reviewer)
    return project


def _complete_data(category, rng, project, owner):
    if category == "basic":
        start = date(2022, 1, 1) + timedelta(days=rng.randrange(0, 700))
        return {
            "project_name": project.name,
            "address": project.address,
            "community": f"{rng.choice(ESTATE_PREFIXES)}社区",
            "property_type": rng.choice(["住宅", "住宅", "商业", "混合", "工业"]),
            "building_area": round(rng.uniform(8000, 260000), 2),
            "land_area": round(rng.uniform(3000, 90000), 2),
            "households": rng.randrange(80, 3200),
            "buildings": rng.randrange(2, 40),
            "delivery_date": (
                date(2005, 1, 1) + timedelta(days=rng.randrange(0, 6000))
            ).isoformat(),
            "company_name": owner.company.name,
            "company_credit_code": owner.company.credit_code,
            "engagement": rng.choice(["前期物业", "业主大会选聘"]),
            "contract_start": start.isoformat(),
            "contract_end": (start + timedelta(days=365 * 3)).isoformat(),
            "fee": round(rng.uniform(0.8, 4.5), 2),
            "owners_committee": rng.choice(["已成立", "未成立"]),
        }
    if category == "other":
        security = rng.randrange(4, 40)
        cleaning = rng.randrange(3, 30)
        return {
            "lifts": rng.randrange(0, 60),
            "parking_above": rng.randrange(0, 300),
            "parking_below": rng.randrange(0, 1500),
            "fire_equipment": rng.choice(["完好", "完好", "部分损坏"]),
            "maintenance_fund": rng.choice(["已归集", "未归集"]),
            "staff_total": security + cleaning + rng.randrange(3, 15),
            "staff_security": security,
            "staff_cleaning": cleaning,
            "service_phone": f"0757-8{rng.randrange(10**6, 10**7)}",
        }
    return {
        "manager_name": owner.name,
        "manager_id_number": owner.id_number,
        "manager_mobile": owner.mobile,
        "manager_position": "项目经理",
        "manager_years": rng.randrange(2, 20),
        "manager_id_proof": owner.id_proof_file_id,
    }


def _logins_text():
    lines = [f"  password for every demo account: {DEMO_PASSWORD}"]
    users = User.query.filter(User.username.isnot(None)).order_by(User.id).all()
    for user in users:
        town = user.town.name if user.town else "全区"
        lines.append(f"  {user.username:<22} {user.role_label} {town}")
    return "\n".join(lines)
