"""A save that meets a locked SQLite database gets a retry-able 503, not a 500."""

import sqlite3

import pytest

from models import Entry
from tests.conftest import TEST_DATABASE_URL
from tests.factories import (
    VALID_OTHER,
    ApiClient,
    add_project,
    register_staff,
    save,
    town,
)
from wxapp_backend import create_app

pytestmark = [
    pytest.mark.sqlite_only,
    pytest.mark.skipif(TEST_DATABASE_URL != "", reason="the lock is SQLite's"),
]


def _short_timeout_client(app_config, sandbox, token):
    impatient = create_app(
        {
            **app_config,
            "WECHAT_API_BASE_URL": sandbox.url,
            "SQLITE_BUSY_TIMEOUT_MS": 100,
        }
    )
    return impatient, ApiClient(impatient.test_client(), token)


def test_locked_database_answers_503(app, client, sandbox, app_config):
    with app.app_context():
        town_id = town("guicheng").id
    staff = register_staff(client, sandbox)
    project = add_project(staff, town_id)
    impatient, api = _short_timeout_client(app_config, sandbox, staff.token)
    path = app_config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")

    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        locked = save(api, project["id"], "other", VALID_OTHER, 0)
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert locked.status_code == 503
    assert locked.headers["Retry-After"] == "1"
    error = locked.get_json()["error"]
    assert error["code"] == "database_busy"
    assert error["message"] == "系统繁忙，请稍后重试"
    assert error["fields"] == {}

    retried = save(api, project["id"], "other", VALID_OTHER, 0)
    assert retried.status_code == 200
    assert retried.get_json()["entry"]["version"] == 1
    with impatient.app_context():
        entry = Entry.query.filter_by(project_id=project["id"], category="other").one()
        assert entry.version == 1
        assert entry.data["lifts"] == VALID_OTHER["lifts"]
