"""A real gunicorn server for the robustness tests, and HTTP helpers.

The server runs ``wsgi:app`` in a child process on 127.0.0.1 with a free
port. It uses the same database and Redis as the test's ``app`` fixture, so
a test prepares rows in-process (accounts, tokens, projects) and then
drives the server over real HTTP from several threads.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import ROOT, free_port

SERVER_START_TIMEOUT = 30.0


class LiveServer:
    """gunicorn with several gthread workers, started and stopped by PID."""

    def __init__(self, environment, log_path, workers=3, threads=8):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        gunicorn = Path(sys.executable).parent / "gunicorn"
        self.command = [
            str(gunicorn),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
            "--timeout",
            "60",
            "--graceful-timeout",
            "5",
            "wsgi:app",
        ]
        self.environment = environment
        self.process = None

    def start(self):
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            self._wait_until_ready()
        except Exception:
            # The fixture never yields, so its teardown would not stop it.
            self.stop()
            raise

    def _wait_until_ready(self):
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited early; see {self.log_path}")
            try:
                requests.get(self.url + "/healthz", timeout=2)
                return
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.05)
        raise RuntimeError(f"gunicorn not ready after {SERVER_START_TIMEOUT}s")

    def log_text(self):
        return Path(self.log_path).read_text(errors="replace")

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def server_environment(app_config, sandbox):
    """Environment that points ``wsgi:app`` at the test's database and Redis."""
    environment = dict(os.environ)
    environment.update(
        APP_ENV="testing",
        LOG_LEVEL="WARNING",
        DATABASE_URL=app_config["SQLALCHEMY_DATABASE_URI"],
        REDIS_URL=app_config["REDIS_URL"],
        WECHAT_API_BASE_URL=sandbox.url,
        UPLOAD_DIR=app_config["UPLOAD_DIR"],
        EXPORT_DIR=app_config["EXPORT_DIR"],
    )
    return environment


@pytest.fixture()
def live_server(app, app_config, sandbox, tmp_path):
    """gunicorn serving the test's database; the ``app`` fixture has emptied it."""
    server = LiveServer(
        server_environment(app_config, sandbox), tmp_path / "gunicorn.log"
    )
    server.start()
    yield server
    server.stop()


class HttpApi:
    """One user's bearer token against the live server, over real HTTP."""

    def __init__(self, base_url, token):
        self.base_url = base_url
        self.token = token
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def get(self, path, **kwargs):
        return self.session.get(self.base_url + path, timeout=30, **kwargs)

    def put(self, path, **kwargs):
        return self.session.put(self.base_url + path, timeout=30, **kwargs)

    def post(self, path, **kwargs):
        return self.session.post(self.base_url + path, timeout=30, **kwargs)

    def save(self, project_id, category, data, version):
        return self.put(
            f"/api/projects/{project_id}/categories/{category}",
            json={"version": version, "data": data},
        )

    def close(self):
        self.session.close()
