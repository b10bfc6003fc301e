"""Real Celery workers, a real Redis broker and a channel-layer listener for the simulation job tests.

Isolation from everything else on this Redis: the broker is a separate Redis database (SIM_TEST_BROKER_DB,
default 14) and every test session uses its own queue names, so neither a developer's worker nor another
test run ever sees these tasks. The worker shares the test database: on SQLite the test DB file
(settings set TEST NAME to a file), on PostgreSQL the test database, passed as DATABASE_URL.
"""
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
import redis
from channels.layers import channel_layers
from channels_redis.core import RedisChannelLayer
from django.conf import settings as django_settings
from django.db import connections

from metaverse.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]
SESSION = uuid.uuid4().hex[:8]


def broker_url() -> str:
    parts = urlsplit(django_settings.REDIS_URL)
    return urlunsplit(parts._replace(path=f"/{os.environ.get('SIM_TEST_BROKER_DB', '14')}"))


def new_queue(name: str = "q") -> str:
    return f"simtest-{SESSION}-{name}-{uuid.uuid4().hex[:6]}"


def test_database_url() -> str:
    db = connections["default"].settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = quote(db.get("USER") or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    host = f"{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
    return f"postgres://{auth}@{host}/{db['NAME']}"


@pytest.fixture(scope="session", autouse=True)
def _test_broker():
    """Point this process's Celery producer at the test broker database for the whole session."""
    old = celery_app.conf.broker_url
    celery_app.conf.broker_url = broker_url()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    yield broker_url()
    celery_app.conf.broker_url = old
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker():
    client = redis.Redis.from_url(broker_url())
    yield client
    client.close()


@pytest.fixture(autouse=True)
def sim_queue(settings):
    """Every run a test creates is enqueued on a queue of this session only."""
    settings.SIMULATION_QUEUE = new_queue("api")
    yield settings.SIMULATION_QUEUE
    redis.Redis.from_url(broker_url()).delete(settings.SIMULATION_QUEUE)


class Worker:
    """`celery worker` in its own process group, logging to a file we can read."""

    def __init__(self, *, queue: str, name: str, log_dir: Path, visibility_timeout: float | None = None, concurrency: int = 1,
                 redis_url: str | None = None, watchdog_s: float | None = None):
        """`redis_url`: a Redis of the test's own for everything (broker, channel layer, room state) instead
        of the shared one; `watchdog_s`: also run Celery beat in this worker, with the simulation watchdog
        on this queue every `watchdog_s` seconds."""
        self.queue, self.name = queue, f"{name}-{SESSION}"
        self.log = log_dir / f"{self.name}.log"
        broker = redis_url or broker_url()
        env = {**os.environ, "DATABASE_URL": test_database_url(), "CELERY_BROKER_URL": broker,
               "CELERY_RESULT_BACKEND": broker, "METAVERSE_TESTING": "1", "PYTHONUNBUFFERED": "1"}
        if redis_url:
            env["REDIS_URL"] = redis_url
        if visibility_timeout:
            env["SIM_TEST_VISIBILITY_TIMEOUT"] = str(visibility_timeout)
        beat = []
        if watchdog_s:
            env.update(SIMULATION_QUEUE=queue, SIMULATION_WATCHDOG_S=str(watchdog_s))
            beat = ["-B", "-s", str(log_dir / f"{self.name}-beat-schedule")]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tests.simulation_jobs.worker_app", "worker", "-Q", queue,
             "-n", f"{self.name}@%h", "-c", str(concurrency), "-P", "prefork", "-l", "INFO", *beat,
             "--without-gossip", "--without-mingle", "--without-heartbeat", "--prefetch-multiplier", "1"],
            cwd=ROOT, env=env, stdout=self.log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
        )

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_ready(self, timeout: float = 60) -> "Worker":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.text():
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker {self.name} exited:\n{self.text()[-3000:]}")
            time.sleep(0.1)
        raise RuntimeError(f"worker {self.name} not ready after {timeout}s:\n{self.text()[-3000:]}")

    def kill9(self) -> None:
        """kill -9 the whole worker (main process and pool children), like a machine that dies."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


@pytest.fixture
def start_worker(tmp_path):
    started = []

    def start(queue: str, name: str, **kwargs) -> Worker:
        worker = Worker(queue=queue, name=name, log_dir=tmp_path, **kwargs)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture(scope="module")
def worker_pair(django_db_setup, django_db_blocker, tmp_path_factory):
    """Two single-process workers on one queue, shared by the tests of a module (booting one takes seconds)."""
    with django_db_blocker.unblock():
        queue = new_queue("pair")
        log_dir = tmp_path_factory.mktemp("workers")
        workers = [Worker(queue=queue, name=f"w{i}", log_dir=log_dir) for i in (1, 2)]
    try:
        for worker in workers:
            worker.wait_ready()
        yield queue, workers
    finally:
        for worker in workers:
            worker.stop()
        redis.Redis.from_url(broker_url()).delete(queue)


class GroupListener:
    """Collects the `room.event` frames sent to a channel-layer group (e.g. `layout.7`) in a thread; on the
    shared Redis, or on `redis_url`."""

    def __init__(self, group: str, redis_url: str | None = None):
        self.group, self.events, self._stop, self.error = group, [], threading.Event(), None
        self.redis_url = redis_url
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self):
        if self.redis_url:
            config = {**django_settings.CHANNEL_LAYERS["default"]["CONFIG"], "hosts": [self.redis_url]}
            layer = RedisChannelLayer(**config)
        else:
            layer = channel_layers.make_backend("default")  # its own connections, on this thread's loop
        channel = await layer.new_channel()
        await layer.group_add(self.group, channel)
        self._ready.set()
        # Never time out a receive(): a cancelled receive can drop the message it was taking.
        pump = asyncio.ensure_future(self._pump(layer, channel))
        while not self._stop.is_set():
            await asyncio.sleep(0.05)
        pump.cancel()
        await layer.group_discard(self.group, channel)

    async def _pump(self, layer, channel):
        failures = 0
        while True:
            try:
                message = await layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # e.g. a read timeout after seconds of silence: nothing was taken, retry
                failures += 1
                if failures > 20:
                    self.error = exc  # surfaced by sim(): a broken listener must not look like silence
                    raise
                await asyncio.sleep(0.05)
                continue
            if message.get("type") == "room.event":
                self.events.append((time.monotonic(), json.loads(message["text"])))

    def __enter__(self):
        self._thread.start()
        assert self._ready.wait(10), "channel-layer listener did not start"
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)

    def sim(self, run_id: int) -> list[dict]:
        if self.error is not None:
            raise AssertionError(f"the channel-layer listener failed: {self.error!r}")
        return [e for _, e in self.events if e.get("type") == "sim.progress" and e.get("id") == run_id]

    def timed(self, run_id: int) -> list[tuple[float, dict]]:
        return [(t, e) for t, e in self.events if e.get("type") == "sim.progress" and e.get("id") == run_id]


class PrivateRedis:
    """A redis-server of the test's own, without persistence (like scripts/redis.sh): it can be killed and
    started again, empty, on the same port, or flushed, without touching anyone else's Redis."""

    def __init__(self, workdir: Path):
        self.bin = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(self.bin).exists():
            pytest.fail("redis-server not found: install Debian's redis-server (scripts/redis.sh needs it too).")
        self.dir = workdir
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.bin, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(self.dir)],
            cwd=ROOT, stdout=(self.dir / "redis.log").open("ab"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port, socket_timeout=0.5).ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start; see {self.dir / 'redis.log'}")

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    if server.proc.poll() is None:
        server.kill()


@pytest.fixture
def producer_on():
    """Point this process's Celery producer at another broker for one test (then back at the test broker)."""
    def point(url: str) -> None:
        celery_app.conf.broker_url = url
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    yield point
    point(broker_url())
