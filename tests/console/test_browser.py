"""The console in a real browser: Debian's Chromium driven by Playwright.

The product is served over HTTP on 127.0.0.1 by the test. An admin logs in,
changes the first password, creates a reviewer account, reads the
dashboard's chart, and exports XLSX, which the test reads back. The new
reviewer then logs in, changes the password, binds WeChat by a sandbox scan
while the page polls, and approves in bulk. Screenshots of the dashboard go
to ``test-output/`` for people to look at.
"""

import shutil
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from rq import Queue

from jobs.queues import QUEUE_NAME
from jobs.worker import AppSimpleWorker
from models import BindingScene, User, db
from models.progress import town_progress
from tests.factories import PASSWORD, make_account

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ADMIN_PASSWORD = "Console2026admin"
REVIEWER_PASSWORD = "Review2026browser"
TIMEOUT_MS = 15000

pytestmark = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None, reason="Debian's chromium is not installed"
)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


class Tab:
    """One browser page that records script errors (CSP violations included)."""

    def __init__(self, browser, base_url, **context_options):
        self.context = browser.new_context(
            base_url=base_url, accept_downloads=True, locale="zh-CN", **context_options
        )
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.errors = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", self._console)

    def _console(self, message):
        if message.type == "error":
            self.errors.append(message.text)

    def login(self, username, password):
        self.page.goto("/console/login")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", password)
        self.page.click("button:has-text('登录')")

    def change_password(self, old, new):
        self.page.wait_for_url("**/console/password")
        self.page.fill("input[name=old_password]", old)
        self.page.fill("input[name=new_password]", new)
        self.page.fill("input[name=confirm_password]", new)
        self.page.click("button:has-text('保存新密码')")

    def close(self):
        self.context.close()


def _chart_value(page, chart, town, series):
    selector = f'#{chart} g[data-label="{town}"] rect[data-series="{series}"]'
    return int(page.get_attribute(selector, "data-value"))


def _table_numbers(page, town):
    cells = page.locator(f'#entry-table tr[data-town="{town}"] td.num')
    return [int(text) for text in cells.all_inner_texts()]


def test_admin_and_reviewer_in_the_browser(
    app, world, sandbox, live_console, browser, tmp_path, redis_connection
):
    with app.app_context():
        make_account("admin", "chief", must_change=True)
        expected = {row.town_name: row for row in town_progress()}["桂城街道"]
    admin = Tab(browser, live_console.url, viewport={"width": 1280, "height": 900})

    admin.login("chief", PASSWORD)
    admin.change_password(PASSWORD, ADMIN_PASSWORD)
    admin.page.wait_for_url("**/console/dashboard")
    _check_dashboard(admin.page, expected)
    OUTPUT.mkdir(exist_ok=True)
    admin.page.screenshot(path=str(OUTPUT / "console-dashboard.png"), full_page=True)

    reviewer_password = _create_reviewer(admin.page)
    _export_and_read_back(admin.page, tmp_path, world.project_id)
    _export_in_background(app, admin.page, tmp_path, redis_connection)
    assert admin.errors == []
    admin.close()

    reviewer = Tab(browser, live_console.url, viewport={"width": 390, "height": 844})
    reviewer.login("gc_browser", reviewer_password)
    reviewer.change_password(reviewer_password, REVIEWER_PASSWORD)
    _bind_by_scan(app, sandbox, reviewer.page)
    reviewer.page.screenshot(
        path=str(OUTPUT / "console-dashboard-phone.png"), full_page=True
    )
    _bulk_approve(reviewer.page)
    assert reviewer.errors == []
    reviewer.close()


def _check_dashboard(page, expected):
    assert page.inner_text("h1") == "进度总览 · 南海区"
    assert _chart_value(page, "entry-chart", "桂城街道", "pending") == expected.pending
    assert (
        _chart_value(page, "entry-chart", "桂城街道", "approved") == expected.approved
    )
    assert _table_numbers(page, "桂城街道")[:6] == [
        expected.projects,
        expected.submitted,
        expected.reviewed,
        expected.pending,
        expected.approved,
        expected.returned,
    ]
    assert page.inner_text('#summary [data-key="pending"]') == str(expected.pending)
    font_ok = page.evaluate("document.fonts.check('16px \"Noto Sans CJK SC\"')")
    assert font_ok is True


def _create_reviewer(page):
    page.click("nav >> text=复核与领导账号")
    page.select_option("#account-form select[name=role]", "reviewer")
    page.select_option("#account-form select[name=town]", label="桂城街道")
    page.fill("#account-form input[name=username]", "gc_browser")
    page.fill("#account-form input[name=name]", "周复核")
    page.click("#account-form button:has-text('创建账号')")
    assert page.inner_text("#new-username") == "gc_browser"
    password = page.inner_text("#new-password")
    assert len(password) == 12
    return password


def _export_and_read_back(page, tmp_path, project_id):
    page.click("nav >> text=数据导出")
    page.select_option("#export-form select[name=town]", label="桂城街道")
    page.check("#export-form input[value=xlsx]")
    page.click("#export-form button:has-text('开始导出')")
    page.wait_for_url("**/console/exports/*")
    link = page.locator("a.export-download")
    link.wait_for(state="visible")
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename.startswith("物业项目数据_桂城街道_")
    target = tmp_path / "export.xlsx"
    download.save_as(target)

    book = load_workbook(target, read_only=True)
    rows = list(book["基本信息"].iter_rows(values_only=True))
    assert book.sheetnames == ["基本信息", "其他信息", "项目负责人"]
    assert rows[1][0] == project_id
    assert rows[1][2] == "桂城翠湖花园"
    assert dict(zip(rows[0], rows[1], strict=True))["总户数（户）"] == 640


def _export_in_background(app, page, tmp_path, redis_connection):
    """Export CSV through the rq queue; the page's polling shows the download link."""
    app.config["CONSOLE_EXPORT_SYNC_MAX"] = 0
    page.click("nav >> text=数据导出")
    page.check("#export-form input[value=csv]")
    page.click("#export-form button:has-text('开始导出')")
    page.wait_for_url("**/console/exports/*")
    assert "排队中" in page.inner_text(".export-state")
    assert page.locator("a.export-download").is_hidden()

    worker = AppSimpleWorker(
        [Queue(QUEUE_NAME, connection=redis_connection)], connection=redis_connection
    )
    worker.flask_app = app
    worker.work(burst=True)

    link = page.locator("a.export-download")
    link.wait_for(state="visible")
    assert page.get_attribute("progress", "value") == "100"
    with page.expect_download() as download_info:
        link.click()
    target = tmp_path / "export.zip"
    download_info.value.save_as(target)
    names = zipfile.ZipFile(target).namelist()
    assert names == ["基本信息.csv", "其他信息.csv", "项目负责人.csv"]


def _bind_by_scan(app, sandbox, page):
    page.wait_for_url("**/console/binding")
    image_width = page.evaluate("document.querySelector('.qr img').naturalWidth")
    assert image_width > 0
    with app.app_context():
        user_id = User.query.filter_by(username="gc_browser").one().id
        scene = BindingScene.query.filter_by(user_id=user_id).one().scene
    sandbox.control(
        "post", "/sandbox/scan", json={"scene": scene, "openid": "o-browser"}
    )
    page.wait_for_url("**/console/dashboard")
    assert page.inner_text("h1") == "进度总览 · 桂城街道"
    with app.app_context():
        assert db.session.get(User, user_id).service_openid == "o-browser"


def _bulk_approve(page):
    page.goto("/console/review/bulk")
    assert page.locator("input[name=item]").count() == 2
    page.check("input[data-select-all]")
    assert page.locator("input[name=item]:checked").count() == 2
    page.fill("textarea[name=opinion]", "核对无误")
    page.click("button:has-text('通过所选')")
    assert page.inner_text("#approved-count") == "已通过 2 项。"
