"""``flask`` commands: load towns, seed demo data, manage accounts."""

import secrets

import click
from flask import current_app
from flask.cli import AppGroup

from models import User, db
from models.account import ROLE_ADMIN
from models.town import load_district_file

towns_cli = AppGroup("towns", help="镇街数据 / Town data.")
demo_cli = AppGroup("demo", help="演示数据 / Demo data (development only).")
accounts_cli = AppGroup("accounts", help="账号管理 / Accounts.")


@towns_cli.command("load")
@click.argument("path", required=False)
def load_towns(path):
    """Insert or update the towns of a district file (DISTRICT_FILE by default)."""
    path = path or current_app.config["DISTRICT_FILE"]
    count = load_district_file(path)
    click.echo(f"loaded {count} towns from {path}")


@demo_cli.command("seed")
@click.option("--force", is_flag=True, help="Seed even if projects already exist.")
def seed_demo(force):
    """Load the towns and demo companies, accounts and projects in every state."""
    from wxapp_backend.demo.seed import seed

    if current_app.config["APP_ENV"] == "production":
        raise click.ClickException("demo data is for development only")
    summary = seed(force=force)
    click.echo(summary)


@accounts_cli.command("create-admin")
@click.argument("username")
@click.option("--name", default="系统管理员", help="Display name.")
def create_admin(username, name):
    """Create an admin with a generated initial password, printed once."""
    if User.query.filter_by(username=username).first():
        raise click.ClickException(f"username {username!r} already exists")
    password = secrets.token_urlsafe(9)
    user = User(
        role=ROLE_ADMIN, name=name, username=username, must_change_password=True
    )
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"admin {username} created; initial password (shown once): {password}")


def init_app(app):
    app.cli.add_command(towns_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(accounts_cli)
