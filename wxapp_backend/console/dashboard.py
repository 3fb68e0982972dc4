"""The progress dashboard: the district and each town, as charts and tables.

The numbers 项目数, 已提交, 已复核 and 待复核 come from ``models.progress``,
the same functions the 09:00 digest uses, so the console and the digest
agree for the same moment. Projects marked as a duplicate of another are
left out everywhere, as the digest leaves them out.
"""

from flask import current_app, g, render_template, url_for
from sqlalchemy import func

from jobs.slots import campaign_from_config, local_date
from models import Entry, Project, Town, db, utcnow
from models.progress import district_total, town_progress
from models.project import (
    STATE_DRAFT,
    STATE_EMPTY,
    STATUS_APPROVED,
    STATUS_FILLING,
    STATUS_PENDING,
    STATUS_RETURNED,
)
from models.schedule import ProgressSnapshot
from wxapp_backend.console import console_blueprint
from wxapp_backend.console.access import console_login_required, town_scope
from wxapp_backend.console.charts import Series, daily_lines, stacked_bars

ENTRY_SERIES = (
    Series("empty", "未填写"),
    Series("draft", "草稿"),
    Series("pending", "待复核"),
    Series("approved", "已通过"),
    Series("returned", "已退回"),
)
PROJECT_SERIES = (
    Series(STATUS_FILLING, "填报中"),
    Series(STATUS_PENDING, "待复核"),
    Series(STATUS_RETURNED, "已退回"),
    Series(STATUS_APPROVED, "已通过"),
)
TREND_SERIES = (
    Series("submitted", "已提交"),
    Series("reviewed", "已复核"),
    Series("pending", "待复核"),
)
TREND_FIELDS = ("projects", "submitted", "reviewed", "pending", "approved", "returned")


@console_blueprint.get("/dashboard")
@console_login_required()
def dashboard():
    scope = town_scope(g.console_user)
    town_ids = None if scope is None else [scope]
    rows = town_progress(town_ids)
    total = district_total(rows, _district_name())
    unfilled = _unfilled_entries(town_ids)
    statuses = _project_statuses(town_ids)
    now = utcnow()
    trend = _daily_trend([row.town_id for row in rows], total, now)
    return render_template(
        "console/dashboard.html",
        rows=rows,
        total=total,
        unfilled=unfilled,
        statuses=statuses,
        entry_chart=_entry_chart(rows, unfilled),
        project_chart=_project_chart(rows, statuses),
        trend=trend,
        trend_chart=daily_lines(
            "每日已提交、已复核与待复核数",
            TREND_SERIES,
            [(day.strftime("%m-%d"), values) for day, values in trend],
        ),
        entry_series=ENTRY_SERIES,
        project_series=PROJECT_SERIES,
        trend_series=TREND_SERIES,
        as_of=now,
    )


def _district_name():
    town = Town.query.order_by(Town.sort_order).first()
    return town.district_name if town is not None else "全区"


def _counted_projects(town_ids):
    """Filter of projects that count: not a marked duplicate, in scope."""
    conditions = [Project.duplicate_of_id.is_(None)]
    if town_ids is not None:
        conditions.append(Project.town_id.in_(town_ids))
    return conditions


def _unfilled_entries(town_ids):
    """Return ``{town_id: {"empty": n, "draft": n}}``: entries not yet submitted."""
    query = (
        db.session.query(Project.town_id, Entry.state, func.count(Entry.id))
        .join(Entry, Entry.project_id == Project.id)
        .filter(*_counted_projects(town_ids))
        .filter(Entry.state.in_((STATE_EMPTY, STATE_DRAFT)))
        .group_by(Project.town_id, Entry.state)
    )
    result = {}
    for town_id, state, count in query:
        result.setdefault(town_id, {"empty": 0, "draft": 0})[state] = count
    return result


def _project_statuses(town_ids):
    """Return ``{town_id: {status: project count}}``."""
    query = (
        db.session.query(Project.town_id, Project.status, func.count(Project.id))
        .filter(*_counted_projects(town_ids))
        .group_by(Project.town_id, Project.status)
    )
    result = {}
    for town_id, status, count in query:
        result.setdefault(town_id, {})[status] = count
    return result


def _town_url(row):
    return url_for("console.project_list", town=row.town_id)


def _entry_chart(rows, unfilled):
    bars = []
    for row in rows:
        values = dict(unfilled.get(row.town_id, {"empty": 0, "draft": 0}))
        values.update(pending=row.pending, approved=row.approved, returned=row.returned)
        bars.append((row.town_name, values, _town_url(row)))
    return stacked_bars("各镇街信息分类状态", ENTRY_SERIES, bars)


def _project_chart(rows, statuses):
    bars = [
        (row.town_name, statuses.get(row.town_id, {}), _town_url(row)) for row in rows
    ]
    return stacked_bars("各镇街物业项目状态", PROJECT_SERIES, bars)


def _daily_trend(town_ids, live_total, now):
    """Return ``[(date, {field: n})]`` per day since the campaign start.

    Only the snapshots of ``town_ids`` (the active towns in scope) count.

    Past days come from the snapshots the 09:00 digest stored; today is the
    live total, so the last point always equals the numbers above it.
    """
    today = local_date(now)
    campaign = campaign_from_config(current_app.config, now)
    query = db.session.query(
        ProgressSnapshot.snapshot_date,
        *(func.sum(getattr(ProgressSnapshot, name)) for name in TREND_FIELDS),
    ).filter(ProgressSnapshot.snapshot_date < today)
    if campaign is not None:
        query = query.filter(ProgressSnapshot.snapshot_date >= campaign.start)
    query = query.filter(ProgressSnapshot.town_id.in_(town_ids)).group_by(
        ProgressSnapshot.snapshot_date
    )
    days = [
        (
            row[0],
            {
                name: int(value or 0)
                for name, value in zip(TREND_FIELDS, row[1:], strict=True)
            },
        )
        for row in query.order_by(ProgressSnapshot.snapshot_date)
    ]
    days.append((today, {name: getattr(live_total, name) for name in TREND_FIELDS}))
    return days
