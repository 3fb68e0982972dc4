"""Property-service companies and their staff: search, and disable or enable.

A disabled company cannot take new registrations; a disabled staff account
can no longer use the mini-program. Personal data is masked in these lists.
"""

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, or_

from models import Company, Project, User, db
from models.account import ROLE_ADMIN, ROLE_STAFF
from models.audit import record
from models.masking import mask_id_number, mask_mobile
from wxapp_backend.console import console_blueprint
from wxapp_backend.console.access import console_login_required
from wxapp_backend.console.pages import paginate

SEARCH_MAX_LENGTH = 40


def _search_text():
    return (request.args.get("q") or "").strip()[:SEARCH_MAX_LENGTH]


def _list_args():
    return {
        key: value for key, value in request.args.items() if key != "page" and value
    }


@console_blueprint.get("/companies")
@console_login_required(ROLE_ADMIN)
def company_list():
    query = Company.query
    text = _search_text()
    if text:
        pattern = f"%{text}%"
        query = query.filter(
            or_(Company.name.like(pattern), Company.credit_code.like(pattern))
        )
    page = paginate(query, (Company.name, Company.id))
    ids = [company.id for company in page.items]
    return render_template(
        "console/companies.html",
        page=page,
        staff_counts=_count_by(User.company_id, ids, User.role == ROLE_STAFF),
        project_counts=_count_by(Project.company_id, ids),
        args=_list_args(),
    )


def _count_by(column, ids, *conditions):
    """Return ``{id: row count}`` grouped by ``column`` for the ids on the page."""
    if not ids:
        return {}
    query = (
        db.session.query(column, func.count())
        .filter(column.in_(ids), *conditions)
        .group_by(column)
    )
    return dict(query.all())


@console_blueprint.post("/companies/<int:company_id>/disabled")
@console_login_required(ROLE_ADMIN)
def company_set_disabled(company_id):
    company = db.session.get(Company, company_id)
    if company is None:
        abort(404)
    company.disabled = request.form.get("disabled") == "1"
    record(
        g.console_user,
        "company",
        company.id,
        "disable" if company.disabled else "enable",
    )
    db.session.commit()
    flash(f"已{'停用' if company.disabled else '启用'}企业“{company.name}”")
    return redirect(url_for("console.company_list", **_list_args()))


@console_blueprint.get("/staff")
@console_login_required(ROLE_ADMIN)
def staff_list():
    query = User.query.filter(User.role == ROLE_STAFF)
    company_id = request.args.get("company", type=int)
    if company_id:
        query = query.filter(User.company_id == company_id)
    text = _search_text()
    if text:
        pattern = f"%{text}%"
        query = query.filter(or_(User.name.like(pattern), User.mobile.like(pattern)))
    page = paginate(query, (User.id.desc(),))
    return render_template(
        "console/staff.html",
        page=page,
        project_counts=_count_by(Project.owner_id, [user.id for user in page.items]),
        company=db.session.get(Company, company_id) if company_id else None,
        mask_id_number=mask_id_number,
        mask_mobile=mask_mobile,
        args=_list_args(),
    )


@console_blueprint.post("/staff/<int:user_id>/disabled")
@console_login_required(ROLE_ADMIN)
def staff_set_disabled(user_id):
    user = db.session.get(User, user_id)
    if user is None or user.role != ROLE_STAFF:
        abort(404)
    user.disabled = request.form.get("disabled") == "1"
    record(g.console_user, "user", user.id, "disable" if user.disabled else "enable")
    db.session.commit()
    flash(f"已{'停用' if user.disabled else '启用'}物业项目用户 {user.name}")
    return redirect(url_for("console.staff_list", **_list_args()))
