"""Towns of the district: the list, and renaming or deactivating one.

The towns themselves come from the district data file (``flask towns
load``); the console edits only a town's display name and whether it is
active. An inactive town drops out of the dashboard, the digest and the
choice of town in the mini-program.
"""

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import func

from models import Project, Town, User, db
from models.account import ROLE_ADMIN
from models.audit import record
from wxapp_backend.console import console_blueprint
from wxapp_backend.console.access import console_login_required

NAME_MAX_LENGTH = 40


@console_blueprint.get("/towns")
@console_login_required(ROLE_ADMIN)
def town_list():
    towns = Town.query.order_by(Town.sort_order).all()
    projects = dict(
        db.session.query(Project.town_id, func.count(Project.id)).group_by(
            Project.town_id
        )
    )
    accounts = dict(
        db.session.query(User.town_id, func.count(User.id))
        .filter(User.town_id.isnot(None))
        .group_by(User.town_id)
    )
    return render_template(
        "console/towns.html", towns=towns, projects=projects, accounts=accounts
    )


@console_blueprint.route("/towns/<int:town_id>", methods=["GET", "POST"])
@console_login_required(ROLE_ADMIN)
def town_edit(town_id):
    town = db.session.get(Town, town_id)
    if town is None:
        abort(404)
    if request.method == "GET":
        return render_template("console/town_edit.html", town=town, errors={})

    name = " ".join((request.form.get("name") or "").split())
    if not name or len(name) > NAME_MAX_LENGTH:
        errors = {"name": f"镇街名称应为1至{NAME_MAX_LENGTH}个字"}
        return render_template("console/town_edit.html", town=town, errors=errors), 422

    before = {"name": town.name, "active": town.active}
    town.name = name
    town.active = request.form.get("active") == "1"
    record(
        g.console_user,
        "town",
        town.id,
        "edit",
        detail={"before": before, "after": {"name": town.name, "active": town.active}},
    )
    db.session.commit()
    flash(f"已保存镇街“{town.name}”")
    return redirect(url_for("console.town_list"))
