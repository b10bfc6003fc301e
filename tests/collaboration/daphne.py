"""Start real daphne processes against the test database and Redis (for multi-process tests)."""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url() -> str:
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s.get('USER') or ''}{':' + s['PASSWORD'] if s.get('PASSWORD') else ''}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


def start_daphne(port: int, *, extra_env=None, cpu=None, log_path=None):
    from django.conf import settings

    env = {
        **os.environ,
        "METAVERSE_TESTING": "1",
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "METAVERSE_CHANNEL_PREFIX": settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"],
        "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
        **(extra_env or {}),
    }
    cmd = [sys.executable, "-m", "metaverse.server", "-b", "127.0.0.1", "-p", str(port),  # daphne, as `make run` starts it
           "--ping-interval", "5", "--ping-timeout", "10",
           "metaverse.asgi:application"]
    if cpu is not None:
        cmd = ["taskset", "-c", str(cpu)] + cmd
    out = open(log_path, "wb") if log_path else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"daphne on port {port} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"daphne on port {port} did not start")


def stop(proc) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
