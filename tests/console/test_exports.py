"""Warehouse exports: approved data only, XLSX and CSV, sync and through rq."""

import io
import re
import zipfile
from datetime import date

from openpyxl import load_workbook
from rq import Queue

from jobs.queues import QUEUE_NAME
from jobs.worker import AppSimpleWorker
from models import AuditEvent, ExportJob, db
from tests.console.conftest import approve_category, console_as, text_of
from tests.factories import VALID_BASIC, ApiClient, password_login, save

BASE = [
    "项目编号",
    "镇街",
    "项目名称",
    "项目地址",
    "物业服务企业",
    "入库版本",
    "通过时间",
]


def _export(
    console, town_id, file_format="xlsx", categories=("basic", "other", "manager")
):
    response = console.post(
        "/console/exports",
        {
            "town": str(town_id) if town_id else "",
            "format": file_format,
            "category": list(categories),
        },
    )
    assert response.status_code == 302, text_of(response)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _workbook(console, export_id):
    response = console.get(f"/console/exports/{export_id}/download")
    assert response.status_code == 200
    return load_workbook(io.BytesIO(response.data), read_only=True)


def _rows(sheet):
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_xlsx_sheet_per_category(app, world):
    admin = console_as(app, "admin")

    export_id = _export(admin, world.guicheng_id)

    book = _workbook(admin, export_id)
    assert book.sheetnames == ["基本信息", "其他信息", "项目负责人"]
    basic = _rows(book["基本信息"])
    assert basic[0][:8] == [*BASE, "项目名称"]
    assert basic[0][13] == "占地面积（m²）"
    assert len(basic) == 2
    row = dict(zip(basic[0], basic[1], strict=True))
    assert row["项目编号"] == world.project_id
    assert row["镇街"] == "桂城街道"
    assert row["入库版本"] == 1
    assert row["总户数（户）"] == 640
    assert row["交付使用日期"].date() == date(2015, 6, 30)
    assert row["所属镇街"] == "桂城街道"
    assert _rows(book["其他信息"]) == [_rows(book["其他信息"])[0]]


def test_export_reads_approved_revision_not_working_copy(app, world, client):
    staff = ApiClient(client, world.staff_token)
    entry = staff.get(f"/api/projects/{world.project_id}/categories/basic").get_json()[
        "entry"
    ]
    basic = dict(
        VALID_BASIC,
        project_name="桂城翠湖花园",
        address="佛山市南海区桂城街道南海大道18号",
        households=999,
    )
    assert (
        save(staff, world.project_id, "basic", basic, entry["version"]).status_code
        == 200
    )
    admin = console_as(app, "admin")

    book = _workbook(admin, _export(admin, world.guicheng_id))

    header, row = _rows(book["基本信息"])
    assert dict(zip(header, row, strict=True))["总户数（户）"] == 640


def test_id_numbers_full_only_for_admins(app, world, client):
    reviewer = password_login(client, "rev_gc")
    approve_category(reviewer, world.project_id, "manager")
    admin = console_as(app, "admin")
    official = console_as(app, "off_gc")

    admin_book = _workbook(
        admin, _export(admin, world.guicheng_id, categories=["manager"])
    )
    official_book = _workbook(
        official, _export(official, world.guicheng_id, categories=["manager"])
    )

    admin_header, admin_row = _rows(admin_book["项目负责人"])
    official_row = _rows(official_book["项目负责人"])[1]
    column = admin_header.index("居民身份证号码")
    assert admin_row[column] == "11010519491231002X"
    assert official_row[column] == "110105********002X"
    assert admin_book.sheetnames == ["项目负责人"]


def test_csv_zip_file_per_category(app, world):
    admin = console_as(app, "admin")

    export_id = _export(admin, None, file_format="csv", categories=["basic", "other"])

    response = admin.get(f"/console/exports/{export_id}/download")
    assert response.mimetype == "application/zip"
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert archive.namelist() == ["基本信息.csv", "其他信息.csv"]
    raw = archive.read("基本信息.csv")
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("项目编号,镇街,项目名称,项目地址")
    assert len(lines) == 2
    assert ",640," in lines[1]
    assert archive.read("其他信息.csv").decode("utf-8-sig").count("\n") == 1


def test_csv_cells_cannot_run_as_formulas(app, world, client):
    from wxapp_backend.console.warehouse import _csv_value

    assert _csv_value('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    assert _csv_value("-1+2") == "'-1+2"
    assert _csv_value("0757-86612345") == "0757-86612345"
    assert _csv_value(-3) == -3


def test_export_is_an_audit_event(app, world):
    official = console_as(app, "off_gc")

    export_id = _export(official, world.guicheng_id, file_format="csv")

    with app.app_context():
        event = AuditEvent.query.filter_by(
            object_type="export", object_id=export_id
        ).one()
        assert event.actor_id == world.users["off_gc"]
        assert event.detail == {
            "town_id": world.guicheng_id,
            "format": "csv",
            "categories": ["basic", "other", "manager"],
            "rows": 1,
            "full_id_numbers": False,
        }


def test_others_cannot_download_an_export(app, world):
    admin = console_as(app, "admin")
    export_id = _export(admin, world.guicheng_id)
    official = console_as(app, "off_district")

    assert official.get(f"/console/exports/{export_id}/download").status_code == 404
    assert official.get(f"/console/exports/{export_id}/status").status_code == 404


def test_town_user_cannot_export_another_town(app, world):
    reviewer = console_as(app, "rev_gc")

    response = reviewer.post(
        "/console/exports",
        {"town": str(world.jiujiang_id), "format": "xlsx", "category": "basic"},
    )
    district = reviewer.post(
        "/console/exports", {"town": "", "format": "xlsx", "category": "basic"}
    )

    assert response.status_code == 403
    assert district.status_code == 403


def test_large_export_runs_as_rq_job(app, world, redis_connection):
    app.config["CONSOLE_EXPORT_SYNC_MAX"] = 0
    admin = console_as(app, "admin")
    export_id = _export(admin, None)
    queued = admin.get(f"/console/exports/{export_id}/status").get_json()

    worker = AppSimpleWorker(
        [Queue(QUEUE_NAME, connection=redis_connection)], connection=redis_connection
    )
    worker.flask_app = app
    worker.work(burst=True)

    done = admin.get(f"/console/exports/{export_id}/status").get_json()
    assert queued["status"] == "queued"
    assert queued["download_url"] is None
    assert done == {
        "status": "done",
        "status_label": "已完成",
        "done": 1,
        "total": 1,
        "percent": 100,
        "error": None,
        "download_url": f"/console/exports/{export_id}/download",
    }
    with app.app_context():
        assert db.session.get(ExportJob, export_id).rq_job_id == f"export-{export_id}"
    page = text_of(admin.get(f"/console/exports/{export_id}"))
    assert 'data-export-status="1"' in page
    assert re.search(r'<progress max="100" value="100">', page)
    assert _rows(_workbook(admin, export_id)["基本信息"])[1][0] == world.project_id
