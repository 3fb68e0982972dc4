"""Migrations build the models' schema, and tear it down, on SQLite and PostgreSQL.

The PostgreSQL case runs when ``TEST_DATABASE_URL`` points at a PostgreSQL
server. It works in a scratch database beside the test database, so the
rest of the suite keeps its schema.
"""

import flask_migrate
import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from models import db
from tests.conftest import TEST_DATABASE_URL
from wxapp_backend import create_app


def _scratch_postgres_url():
    """Create an empty database next to the test database; return its URL."""
    url = make_url(TEST_DATABASE_URL)
    scratch = f"{url.database}_migrations"
    admin = url.set(drivername="postgresql", database="postgres")
    dsn = admin.render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
        connection.execute(f'CREATE DATABASE "{scratch}"')
    return url.set(database=scratch).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
    if not TEST_DATABASE_URL.startswith("postgres"):
        pytest.skip("TEST_DATABASE_URL does not point at PostgreSQL")
    return _scratch_postgres_url()


def _table_names(app):
    with app.app_context():
        return set(inspect(db.engine).get_table_names())


def _schema_differences(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_upgrade_heads_matches_models(empty_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url})
    directory = str(app.config["MIGRATIONS_DIR"])
    with app.app_context():
        flask_migrate.upgrade(directory=directory, revision="heads")

    expected = {table.name for table in db.metadata.sorted_tables}
    assert _table_names(app) == expected | {"alembic_version"}
    assert _schema_differences(app) == []
    with app.app_context():
        db.engine.dispose()


def test_downgrade_base_then_upgrade_again(empty_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url})
    directory = str(app.config["MIGRATIONS_DIR"])
    with app.app_context():
        flask_migrate.upgrade(directory=directory, revision="heads")
        flask_migrate.downgrade(directory=directory, revision="base")
    assert _table_names(app) <= {"alembic_version"}

    with app.app_context():
        flask_migrate.upgrade(directory=directory, revision="heads")
    expected = {table.name for table in db.metadata.sorted_tables}
    assert _table_names(app) == expected | {"alembic_version"}
    with app.app_context():
        db.engine.dispose()
