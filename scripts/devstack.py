"""Run the development stack: Redis, migrations, demo data, then the Procfile.

Used by ``make run``. Starts a real ``redis-server`` on 127.0.0.1 unless one
already listens on the configured port, migrates the SQLite database, loads
the demo data for the seven towns, prints the URLs and logins, then runs
every Procfile process with its output prefixed until Ctrl-C.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
COLOURS = ("\033[36m", "\033[33m", "\033[35m", "\033[32m", "\033[34m")
RESET = "\033[0m"


def port_open(host, port):
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex((host, port)) == 0


def wait_for(host, port, name, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        time.sleep(0.1)
    raise SystemExit(f"{name} did not start on {host}:{port} within {timeout:.0f}s")


def start_redis(env):
    url = urlparse(env["REDIS_URL"])
    host, port = url.hostname or "127.0.0.1", url.port or 6379
    if port_open(host, port):
        print(f"using the Redis already listening on {host}:{port}")
        return None
    binary = VENV_BIN / "redis-server"
    if not binary.exists():
        binary = "redis-server"
    data_dir = ROOT / "instance" / "redis"
    data_dir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [str(binary), "--bind", "127.0.0.1", "--port", str(port), "--dir", str(data_dir),
         "--appendonly", "yes", "--save", "60 1"],
        stdout=subprocess.DEVNULL,
    )
    wait_for(host, port, "redis-server")
    print(f"started redis-server on {host}:{port} (pid {process.pid})")
    return process


def flask(env, *args):
    command = [str(VENV_BIN / "flask"), *args]
    result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"flask {' '.join(args)} failed")
    return result.stdout


def read_procfile():
    entries = []
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#") and ":" in line:
            name, command = line.split(":", 1)
            entries.append((name.strip(), command.strip()))
    return entries


def pipe_output(name, colour, stream):
    for line in iter(stream.readline, ""):
        sys.stdout.write(f"{colour}{name:<10}|{RESET} {line}")
        sys.stdout.flush()


def run_procfile(env):
    processes = []
    for index, (name, command) in enumerate(read_procfile()):
        process = subprocess.Popen(
            ["bash", "-c", command], env=env, cwd=ROOT, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )
        colour = COLOURS[index % len(COLOURS)]
        threading.Thread(target=pipe_output, args=(name, colour, process.stdout),
                         daemon=True).start()
        processes.append((name, process))
    return processes


def stop_all(processes):
    for _, process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for _, process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def main():
    env = dict(os.environ)
    env.setdefault("APP_ENV", "development")
    env.setdefault("FLASK_APP", "wxapp_backend:create_app")
    env.setdefault("PORT", "8000")
    env.setdefault("SANDBOX_PORT", "8100")
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    env.setdefault("WECHAT_API_BASE_URL", f"http://127.0.0.1:{env['SANDBOX_PORT']}")
    env.setdefault("SANDBOX_CALLBACK_URL",
                   f"http://127.0.0.1:{env['PORT']}/wechat/callback")
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    (ROOT / "instance").mkdir(exist_ok=True)

    redis_process = start_redis(env)
    flask(env, "db", "upgrade", "heads")
    print(flask(env, "demo", "seed"))
    processes = run_procfile(env)
    wait_for("127.0.0.1", int(env["PORT"]), "web")
    wait_for("127.0.0.1", int(env["SANDBOX_PORT"]), "sandbox")
    print_banner(env)
    try:
        while all(process.poll() is None for _, process in processes):
            time.sleep(0.5)
        for name, process in processes:
            if process.poll() is not None:
                print(f"{name} exited with status {process.returncode}; stopping")
    except KeyboardInterrupt:
        print("stopping")
    finally:
        stop_all(processes)
        if redis_process is not None:
            redis_process.terminate()


def print_banner(env):
    web = f"http://127.0.0.1:{env['PORT']}"
    sandbox = f"http://127.0.0.1:{env['SANDBOX_PORT']}"
    lines = [
        "",
        "南海区物业项目信息数据采集 — development stack is up",
        f"  API:            {web}/api/  (OpenAPI: {web}/api/openapi.json)",
        f"  health:         {web}/healthz",
        f"  admin console:  {web}/console/   login: admin / Nanhai2026",
        f"  WeChat sandbox: {sandbox}/sandbox/  (each user's phone view)",
        "  mini-program:   open miniprogram/ in WeChat DevTools, AppID "
        f"{env.get('MINIPROGRAM_APP_ID', 'wxsandboxminiapp0001')}, base URL {web}"
        " (miniprogram/config.js); tick 不校验合法域名",
        "  demo story:     make demo   (in another terminal)",
        "",
    ]
    print("\n".join(lines))
    status = subprocess.run([str(VENV_BIN / "flask"), "schedule", "status"], env=env,
                            cwd=ROOT, capture_output=True, text=True)
    if status.returncode == 0:
        print(status.stdout)


if __name__ == "__main__":
    main()
