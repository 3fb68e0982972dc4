"""The progress dashboard, the project list and one project's history."""

import re
from datetime import timedelta

from jobs.slots import local_date
from models import Project, Town, db, utcnow
from models.progress import town_progress
from models.schedule import ProgressSnapshot
from tests.console.conftest import approve_category, console_as, text_of
from tests.factories import VALID_BASIC, password_login, save

ENTRY_COLUMNS = (
    "projects",
    "submitted",
    "reviewed",
    "pending",
    "approved",
    "returned",
    "draft",
    "empty",
)


def table_row(page, table_id, key_attribute, key):
    """Return the numbers of one row of a dashboard table, by its data attribute."""
    table = page.split(f'id="{table_id}"')[1].split("</table>")[0]
    row = table.split(f'{key_attribute}="{key}"')[1].split("</tr>")[0]
    return [int(number) for number in re.findall(r'class="num">(-?\d+)<', row)]


def chart_values(page, chart_id, label):
    """Return ``{series: value}`` of the bars of ``label`` in one SVG chart."""
    chart = page.split(f'id="{chart_id}"')[1].split("</svg>")[0]
    row = chart.split(f'data-label="{label}"')[1].split("</g>")[0]
    pairs = re.findall(r'data-series="(\w+)" data-value="(\d+)"', row)
    return {series: int(value) for series, value in pairs}


def test_dashboard_numbers_match_progress(app, world):
    admin = console_as(app, "admin")

    page = text_of(admin.get("/console/dashboard"))

    with app.app_context():
        progress = {row.town_name: row for row in town_progress()}
    guicheng = progress["桂城街道"]
    assert (guicheng.projects, guicheng.submitted, guicheng.reviewed) == (1, 3, 1)
    assert (guicheng.pending, guicheng.approved, guicheng.returned) == (2, 1, 0)
    assert table_row(page, "entry-table", "data-town", "桂城街道") == [
        1,
        3,
        1,
        2,
        1,
        0,
        0,
        0,
    ]
    assert table_row(page, "entry-table", "data-town", "九江镇") == [0] * 8
    assert chart_values(page, "entry-chart", "桂城街道") == {
        "pending": 2,
        "approved": 1,
    }
    assert chart_values(page, "project-chart", "桂城街道") == {"pending": 1}
    assert table_row(page, "entry-table", "data-town", "南海区") == [
        1,
        3,
        1,
        2,
        1,
        0,
        0,
        0,
    ]
    summary = dict(re.findall(r'data-key="(\w+)">(\d+)<', page))
    assert summary == {
        "projects": "1",
        "submitted": "3",
        "reviewed": "1",
        "pending": "2",
        "approved": "1",
        "returned": "0",
    }


def test_town_official_sees_own_town_only(app, world):
    official = console_as(app, "off_gc")

    page = text_of(official.get("/console/dashboard"))

    assert 'data-town="桂城街道"' in page
    assert 'data-town="九江镇"' not in page
    assert "进度总览 · 桂城街道" in page


def test_draft_and_empty_entries_are_counted(app, world, client, sandbox):
    from tests.factories import add_project, register_staff

    staff = register_staff(client, sandbox, name="李秀梅")
    project = add_project(
        staff, world.jiujiang_id, name="九江名都", address="九江镇沙口路1号"
    )
    save(staff, project["id"], "other", {"lifts": 3}, 0)
    admin = console_as(app, "admin")

    page = text_of(admin.get("/console/dashboard"))

    assert table_row(page, "entry-table", "data-town", "九江镇") == [
        1,
        0,
        0,
        0,
        0,
        0,
        1,
        2,
    ]
    assert chart_values(page, "entry-chart", "九江镇") == {"empty": 2, "draft": 1}
    assert chart_values(page, "project-chart", "九江镇") == {"filling": 1}


def test_trend_uses_snapshots_and_live_today(app, world):
    now = utcnow()
    today = local_date(now)
    with app.app_context():
        for days_ago, submitted in ((2, 1), (1, 2)):
            db.session.add(
                ProgressSnapshot(
                    snapshot_date=today - timedelta(days=days_ago),
                    town_id=world.guicheng_id,
                    projects=1,
                    submitted=submitted,
                    reviewed=0,
                    pending=submitted,
                    approved=0,
                    returned=0,
                )
            )
        db.session.add(
            ProgressSnapshot(
                snapshot_date=today - timedelta(days=1),
                town_id=world.jiujiang_id,
                projects=2,
                submitted=4,
                reviewed=1,
                pending=3,
                approved=1,
                returned=0,
            )
        )
        db.session.commit()
    admin = console_as(app, "admin")

    page = text_of(admin.get("/console/dashboard"))

    day = today - timedelta(days=1)
    assert table_row(page, "trend-table", "data-day", day.isoformat()) == [6, 1, 5]
    assert table_row(page, "trend-table", "data-day", today.isoformat()) == [3, 1, 2]
    points = re.findall(r'data-day="([\d-]+)" data-value="(\d+)"', page)
    assert (today.strftime("%m-%d"), "3") in points


def test_project_list_filters_by_status(app, world):
    admin = console_as(app, "admin")

    pending = text_of(
        admin.get(f"/console/projects?town={world.guicheng_id}&status=pending")
    )
    approved = text_of(admin.get("/console/projects?status=approved"))

    assert f'data-project-id="{world.project_id}"' in pending
    assert f'data-project-id="{world.project_id}"' not in approved


def test_project_list_searches_folded_name(app, world):
    admin = console_as(app, "admin")

    found = text_of(admin.get("/console/projects?q=桂城 翠湖"))
    missing = text_of(admin.get("/console/projects?q=不存在的小区"))

    assert "桂城翠湖花园" in found
    assert "桂城翠湖花园" not in missing


def test_history_lists_revisions_with_changes(app, world, client):
    from tests.factories import ApiClient

    staff = ApiClient(client, world.staff_token)
    entry = staff.get(f"/api/projects/{world.project_id}/categories/basic").get_json()[
        "entry"
    ]
    basic = dict(
        VALID_BASIC,
        project_name="桂城翠湖花园",
        address="佛山市南海区桂城街道南海大道18号",
        households=700,
    )
    assert (
        save(staff, world.project_id, "basic", basic, entry["version"]).status_code
        == 200
    )
    admin = console_as(app, "admin")

    page = text_of(admin.get(f"/console/projects/{world.project_id}"))

    basic_section = page.split('id="category-basic"')[1].split("</section>")[0]
    second = basic_section.split('data-revision="2"')[1].split('data-revision="1"')[0]
    assert 'data-field="households"' in second
    assert "<del>640</del>" in second
    assert "<ins>700</ins>" in second
    assert "已入库" in basic_section.split('data-revision="1"')[1]
    assert 'data-action="approve"' in page
    assert "创建项目" in page


def test_history_masks_id_numbers_for_officials(app, world):
    official = console_as(app, "off_gc")
    admin = console_as(app, "admin")

    masked = text_of(official.get(f"/console/projects/{world.project_id}"))
    full = text_of(admin.get(f"/console/projects/{world.project_id}"))

    assert "11010519491231002X" not in masked
    assert "110105********002X" in masked
    assert "11010519491231002X" in full


def test_duplicate_is_left_out_of_counts(app, world, client, sandbox):
    from tests.factories import add_project, register_staff

    staff = register_staff(client, sandbox, name="李秀梅")
    other = add_project(
        staff, world.guicheng_id, name="桂城翠湖花园（二期）", address="南海大道20号"
    )
    with app.app_context():
        db.session.get(Project, other["id"]).duplicate_of_id = world.project_id
        db.session.commit()
    admin = console_as(app, "admin")

    page = text_of(admin.get("/console/dashboard"))

    assert table_row(page, "entry-table", "data-town", "桂城街道")[0] == 1


def test_inactive_towns_snapshots_are_left_out(app, world):
    today = local_date(utcnow())
    with app.app_context():
        db.session.get(Town, world.jiujiang_id).active = False
        db.session.add(
            ProgressSnapshot(
                snapshot_date=today - timedelta(days=1),
                town_id=world.jiujiang_id,
                projects=9,
                submitted=9,
                reviewed=9,
                pending=0,
                approved=9,
                returned=0,
            )
        )
        db.session.commit()
    admin = console_as(app, "admin")

    page = text_of(admin.get("/console/dashboard"))

    trend = page.split('id="trend-table"')[1].split("</table>")[0]
    assert f'data-day="{(today - timedelta(days=1)).isoformat()}"' not in trend
    assert f'data-day="{today.isoformat()}"' in trend


def test_reviewer_approval_moves_numbers(app, world, client):
    reviewer = password_login(client, "rev_gc")
    approve_category(reviewer, world.project_id, "other")
    admin = console_as(app, "admin")

    page = text_of(admin.get("/console/dashboard"))

    assert table_row(page, "entry-table", "data-town", "桂城街道")[:6] == [
        1,
        3,
        2,
        1,
        2,
        0,
    ]
