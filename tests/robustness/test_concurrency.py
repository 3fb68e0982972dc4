"""Concurrent saves against a real gunicorn server, over real HTTP.

Runs on SQLite by default and on PostgreSQL when ``TEST_DATABASE_URL`` is
set. On SQLite two writers can collide on the database lock. The server
must then respond with a retry-able 503 in the common error shape, never
a 500, and a retried save must land.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

from models import AuditEvent, Entry, Revision, db
from tests.factories import VALID_BASIC, VALID_OTHER, add_project, register_staff, town
from tests.robustness.conftest import HttpApi

RACE_ROUNDS = 8
PARALLEL_PROJECTS = 50
MAX_BUSY_RETRIES = 20


def _staff_with_projects(app, client, sandbox, count):
    with app.app_context():
        town_id = town("guicheng").id
    staff = register_staff(client, sandbox)
    projects = [
        add_project(
            staff,
            town_id,
            name=f"桂城并发测试花园{index}期",
            address=f"佛山市南海区桂城街道南海大道{index + 1}号",
        )
        for index in range(count)
    ]
    return staff, [project["id"] for project in projects]


def _save_until_not_busy(api, project_id, category, data, version):
    """PUT once, repeating only while the server returns a retry-able 503."""
    for _ in range(MAX_BUSY_RETRIES):
        response = api.save(project_id, category, data, version)
        if response.status_code != 503:
            return response
        assert response.json()["error"]["code"] == "database_busy"
        assert response.headers["Retry-After"] == "1"
    return response


def _race(live_server, token, project_id, bodies):
    """Send the bodies at the same instant from separate connections."""
    barrier = threading.Barrier(len(bodies))
    apis = [HttpApi(live_server.url, token) for _ in bodies]

    def send(pair):
        api, data = pair
        barrier.wait(timeout=10)
        return _save_until_not_busy(api, project_id, "other", data, 0)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        responses = list(pool.map(send, zip(apis, bodies)))
    for api in apis:
        api.close()
    return responses


def test_same_version_race_has_one_winner(app, client, sandbox, live_server):
    staff, project_ids = _staff_with_projects(app, client, sandbox, RACE_ROUNDS)

    for round_number, project_id in enumerate(project_ids):
        first = dict(VALID_OTHER, lifts=100 + round_number)
        second = dict(VALID_OTHER, lifts=200 + round_number)
        responses = _race(live_server, staff.token, project_id, [first, second])

        statuses = sorted(response.status_code for response in responses)
        assert statuses == [200, 409], [r.text for r in responses]
        winner = next(r for r in responses if r.status_code == 200).json()["entry"]
        loser = next(r for r in responses if r.status_code == 409).json()["error"]
        assert loser["code"] == "version_conflict"
        assert loser["current"]["version"] == 1
        assert loser["current"]["data"]["lifts"] == winner["data"]["lifts"]

        with app.app_context():
            entry = Entry.query.filter_by(project_id=project_id, category="other").one()
            assert entry.version == 1
            assert entry.data["lifts"] == winner["data"]["lifts"]
            assert Revision.query.filter_by(entry_id=entry.id).count() == 1
            saves = AuditEvent.query.filter_by(object_id=entry.id, action="save")
            assert saves.count() == 1
    assert "Traceback" not in live_server.log_text()


def test_fifty_parallel_saves_all_stored(app, client, sandbox, live_server):
    staff, project_ids = _staff_with_projects(app, client, sandbox, PARALLEL_PROJECTS)
    barrier = threading.Barrier(PARALLEL_PROJECTS)

    def send(project_id):
        api = HttpApi(live_server.url, staff.token)
        data = dict(
            VALID_BASIC,
            project_name=f"并发保存花园{project_id}",
            address=f"佛山市南海区桂城街道海八路{project_id}号",
        )
        barrier.wait(timeout=30)
        try:
            return project_id, _save_until_not_busy(api, project_id, "basic", data, 0)
        finally:
            api.close()

    with ThreadPoolExecutor(max_workers=PARALLEL_PROJECTS) as pool:
        results = list(pool.map(send, project_ids))

    failures = {pid: r.text for pid, r in results if r.status_code != 200}
    assert failures == {}
    with app.app_context():
        entries = Entry.query.filter(
            Entry.project_id.in_(project_ids), Entry.category == "basic"
        ).all()
        assert len(entries) == PARALLEL_PROJECTS
        for entry in entries:
            assert entry.version == 1
            assert entry.state == "submitted"
            assert entry.data["project_name"] == f"并发保存花园{entry.project_id}"
        revisions = db.session.query(Revision).filter(
            Revision.entry_id.in_([entry.id for entry in entries])
        )
        assert revisions.count() == PARALLEL_PROJECTS
    assert "Traceback" not in live_server.log_text()
