"""The real stack for browser tests: a seeded database, daphne (HTTP + websockets), a Celery worker, and
Debian's Chromium driven by Playwright. Nothing here is mocked."""
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist", "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    """A running server on its own database; `manage()` runs management commands against it."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen] = []
        self.pg_db = None
        database_url = os.environ.get("DATABASE_URL", "")
        if database_url.startswith("postgres"):
            self.pg_db = f"mv_e2e_{os.getpid()}_{uuid.uuid4().hex[:6]}"
            self._pg(f'CREATE DATABASE "{self.pg_db}"')
            database_url = database_url.rsplit("/", 1)[0] + "/" + self.pg_db
        else:
            database_url = f"sqlite:///{tmp / 'e2e.sqlite3'}"
        self.env = {
            **os.environ, "DATABASE_URL": database_url, "DJANGO_DEBUG": "0", "METAVERSE_TESTING": "1",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost", "METAVERSE_MEDIA_ROOT": str(tmp / "media"),
            "METAVERSE_CHANNEL_PREFIX": f"e2e-{uuid.uuid4().hex[:8]}", "AXES_ENABLED": "0", "PYTHONUNBUFFERED": "1",
            "CELERY_TASK_DEFAULT_QUEUE": f"e2e-{uuid.uuid4().hex[:6]}",
            "DATABASE_POOL": "1",  # on PostgreSQL, daphne and the worker run with the production connection pool
        }
        self.env.pop("DJANGO_SETTINGS_MODULE", None)

    def _pg(self, sql: str):
        import psycopg

        base = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(base.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
            conn.execute(sql)

    def manage(self, *args, check=True) -> str:
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300)
        if check and result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def start(self, *, worker: bool = False):
        self.manage("migrate", "--noinput", "-v0")
        self.manage("seed_demo")
        self.procs.append(self._start_web())
        if worker:
            self.start_worker()
        self._wait_http()
        return self

    def _start_web(self) -> subprocess.Popen:
        log = open(self.tmp / "daphne.log", "a")
        return subprocess.Popen(
            [sys.executable, "-m", "metaverse.server", "-b", "127.0.0.1", "-p", str(self.port), "metaverse.asgi:application"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )

    def restart_web(self, while_down=None):
        """Stop daphne, run `while_down()` if given, and start daphne again on the same port (the database,
        Redis and the worker stay up)."""
        web = self.procs[0]
        web.terminate()
        web.wait(timeout=20)
        if while_down is not None:
            while_down()
        self.procs[0] = self._start_web()
        self._wait_http()

    def start_worker(self):
        log = open(self.tmp / "worker.log", "a")
        self.procs.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "metaverse", "worker", "-l", "warning", "-c", "2", "-n", f"e2e-{uuid.uuid4().hex[:6]}@%h",
             "-Q", self.env["CELERY_TASK_DEFAULT_QUEUE"]],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        ))

    def _wait_http(self, timeout=60):
        import urllib.request

        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.base_url + "/healthz", timeout=2)
                return
            except Exception:
                if self.procs[0].poll() is not None:
                    raise RuntimeError((self.tmp / "daphne.log").read_text())
                time.sleep(0.3)
        raise RuntimeError("daphne did not answer in time:\n" + (self.tmp / "daphne.log").read_text())

    def layout_id(self) -> int:
        out = self.manage("shell", "-c", "from twins.models import Factory; print(Factory.objects.get(slug='demo-plant').baseline_layout_id)")
        return int(out.strip().splitlines()[-1])

    def stop(self):
        for proc in reversed(self.procs):
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if self.pg_db:
            try:
                self._pg(f'DROP DATABASE IF EXISTS "{self.pg_db}" WITH (FORCE)')
            except Exception:
                pass


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """daphne + a Celery worker on a freshly seeded demo database."""
    s = Stack(tmp_path_factory.mktemp("stack"))
    try:
        yield s.start(worker=True)
    finally:
        s.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
    if not Path(executable).exists():
        pytest.fail(f"Chromium not found at {executable}: install Debian's chromium package (make test does).")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def open_as(stack, browser):
    """open_as("alice") -> a logged-in Playwright page (own context = own user); console errors collected."""
    contexts = []

    def make(username: str, *, password: str | None = None, viewport=(1280, 800)):
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, base_url=stack.base_url)
        contexts.append(context)
        response = context.request.post("/api/auth/login/", data={"username": username, "password": password or username})
        assert response.ok, response.text()
        page = context.new_page()
        page.console_errors = []
        page.on("console", lambda msg: page.console_errors.append(msg.text) if msg.type in ("error",) else None)
        page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
        return page

    yield make
    for context in contexts:
        context.close()


def shot(page, name: str):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def wait_scene(page, timeout=30_000):
    # An attribute selector rather than wait_for_function: the page's CSP forbids eval, as it should.
    page.locator("html[data-scene-ready='true']").wait_for(state="attached", timeout=timeout)


__all__ = ["shot", "wait_scene", "Stack"]
