"""Telemetry ingestion (BENCHMARKS.md §3): points/s stored and ingest → `twin.changed` latency at N viewers.

For each database (a fresh SQLite file under var/, a scratch PostgreSQL database `bench_ingest`) in one run:
  1. in-process: the baseline (one ORM `save()` per point, one transaction per batch) and
     `telemetry_ingest` (the product's one ingestion path: validation, COPY/executemany, twin state,
     alarm rules, anomaly flags) on the same points;
  2. the limit: a bare `COPY` (SQLite: a bare `executemany`) of the very rows the REST phase will send, into the
     same table, rendered beforehand, from as many connections as there are posting clients, one transaction per
     batch; the table is emptied before and after, so the limit and the product start from the same state;
  3. over the wire: daphne (with --pin: on core 0, the generator on core 1) serving POST /api/telemetry/ while N websocket viewers sit in
     a layout room of the factory; throughput of 5,000-point batches (encoded beforehand) from 2 posting clients, reported
     also as a share of the bare limit; then a latency phase (20 points every 50 ms) whose `twin.changed` frames the viewers
     time (one clock: this process);
  4. the MQTT bridge (when a broker answers at $MQTT_URL): N QoS 1 messages, time until all are stored.

Run from the repo root: `.venv/bin/python bench/ingest.py [--dbs sqlite,postgres] [--viewers 50] [--quick]` (or `make bench
NAME=ingest`, which finds PostgreSQL and Mosquitto first). PostgreSQL is the server at $BENCH_PG_URL (default
postgres://postgres@127.0.0.1:5432/bench_ingest; its `postgres` database is used to create the scratch one).
"""
from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
PY = os.path.join(ROOT, ".venv", "bin", "python")
TWINS = 20
BATCH = 5000
POSTERS = 2  # posting clients over REST, and connections of the bare COPY
SQLITE_FILE = f"{ROOT}/var/bench_ingest.sqlite3"
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/bench_ingest")
PG_ADMIN = PG_URL.rsplit("/", 1)[0] + "/postgres"
TABLE = "twins_telemetrypoint"
COLUMNS = ("twin_id", "name", "ts", "value", "text", "anomaly")


def db_url(kind: str) -> str:
    return f"sqlite:///{SQLITE_FILE}" if kind == "sqlite" else PG_URL


def env_for(kind: str) -> dict:
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": db_url(kind), "DJANGO_SECRET_KEY": "bench-only-secret-key-" + "x" * 30, "DJANGO_DEBUG": "0",
        "DJANGO_SECURE_SSL_REDIRECT": "0", "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "METAVERSE_CHANNEL_PREFIX": f"bench-{os.getpid()}", "DJANGO_LOG_LEVEL": "WARNING", "AXES_ENABLED": "0",
        "MQTT_URL": os.environ.get("MQTT_URL", "mqtt://127.0.0.1:1883"),
    })
    env.pop("METAVERSE_TESTING", None)
    return env


def fresh_database(kind: str) -> None:
    if kind == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            path = f"{SQLITE_FILE}{suffix}"
            if os.path.exists(path):
                os.remove(path)
        return
    import psycopg

    name = db_url(kind).rsplit("/", 1)[1]
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise SystemExit(f"PostgreSQL does not answer at {PG_ADMIN} ({exc}); set BENCH_PG_URL or run --dbs sqlite") from None
    with admin as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def points_for(keys: list[str], n: int, *, start: datetime, name: str = "v", rng=random.Random(1)) -> list[dict]:
    return [{"twin": keys[i % len(keys)], "ts": (start + timedelta(microseconds=i * 100)).isoformat(),
             "values": {name: round(rng.gauss(50, 5), 3)}} for i in range(n)]


def rest_batches(keys: list[str], points: int) -> list[list[dict]]:
    """The throughput phase's batches: the REST clients and the bare COPY store exactly these rows."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=6)
    rng = random.Random(2)
    return [points_for(keys, BATCH, start=start + timedelta(seconds=i), rng=rng) for i in range(points // BATCH)]


# --- Worker: runs inside Django, one database per process --------------------------------------------

def worker(mode: str, viewers: int, points: int, baseline_points: int) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "metaverse.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import transaction
    from rest_framework.authtoken.models import Token

    from tests.builders import make_factory, make_layout, make_user
    from twins.models import AlarmRule, Membership, Role, TelemetryPoint, Twin
    from twins.services.telemetry import telemetry_ingest

    if mode == "setup":
        call_command("migrate", verbosity=0)
        dev = make_user("bench-dev")
        factory = make_factory(name="Bench", slug="bench", members={dev: Role.ENGINEER})
        layout = make_layout(factory=factory, assets=3)
        twins = [Twin.objects.create(factory=factory, key=f"m-{i:02d}", name=f"Machine {i}") for i in range(TWINS)]
        for twin in twins[:5]:
            AlarmRule.objects.create(factory=factory, twin=twin, name="v", op=">", threshold=80, hysteresis=2)
        tokens = []
        for i in range(viewers):
            user = make_user(f"viewer-{i:03d}")
            Membership.objects.create(factory=factory, user=user, role=Role.VIEWER)
            tokens.append(Token.objects.create(user=user).key)
        return {"factory": factory.id, "layout": layout.id, "keys": [t.key for t in twins], "twin_ids": {t.key: t.id for t in twins},
                "dev_token": Token.objects.create(user=dev).key, "viewer_tokens": tokens}

    from twins.models import Factory

    factory = Factory.objects.get(slug="bench")
    twins = list(Twin.objects.filter(factory=factory).order_by("key"))
    keys = [t.key for t in twins]
    by_key = {t.key: t for t in twins}
    start = datetime.now(UTC) - timedelta(days=1)
    # Baseline: the naive design, one ORM save() per point (one transaction per batch, like a request).
    base = points_for(keys, baseline_points, start=start)
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(0, len(base), BATCH):
        with transaction.atomic():
            for p in base[i:i + BATCH]:
                ((name, value),) = p["values"].items()
                TelemetryPoint(twin=by_key[p["twin"]], name=name, ts=datetime.fromisoformat(p["ts"]), value=value).save()
    baseline_s, baseline_cpu = time.perf_counter() - t0, time.process_time() - c0
    TelemetryPoint.objects.all().delete()
    product = points_for(keys, points, start=start + timedelta(hours=1))
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(0, len(product), BATCH):
        telemetry_ingest(factory=factory, points=product[i:i + BATCH], source="bench")
    product_s, product_cpu = time.perf_counter() - t0, time.process_time() - c0
    stored = TelemetryPoint.objects.count()
    TelemetryPoint.objects.all().delete()
    return {"baseline_pps": baseline_points / baseline_s, "product_pps": points / product_s, "stored": stored, "expected": points,
            "baseline_per_cpu_s": baseline_points / baseline_cpu, "product_per_cpu_s": points / product_cpu,
            "load_avg": os.getloadavg()[0]}


def run_worker(kind: str, mode: str, args) -> dict:
    out = subprocess.run([PY, __file__, "--worker", mode, "--viewers", str(args.viewers), "--points", str(args.points),
                          "--baseline-points", str(args.baseline_points)], env=env_for(kind), capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"worker {mode} on {kind} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def scalar(kind: str, sql: str, *params) -> int:
    """One number from the bench database (SQL with %s placeholders)."""
    if kind == "sqlite":
        import sqlite3

        with sqlite3.connect(SQLITE_FILE, timeout=30) as conn:
            return conn.execute(sql.replace("%s", "?"), params).fetchone()[0]
    import psycopg

    with psycopg.connect(db_url(kind)) as conn:
        return conn.execute(sql, params).fetchone()[0]


def count_points(kind: str, after_id: int = 0) -> int:
    """Rows with an id above `after_id` (a range over the primary key: cheap however big the table is)."""
    return scalar(kind, "SELECT COUNT(*) FROM twins_telemetrypoint WHERE id > %s", after_id)


def last_point_id(kind: str) -> int:
    return scalar(kind, "SELECT COALESCE(MAX(id), 0) FROM twins_telemetrypoint")


def empty_table(kind: str) -> None:
    """No rows and no dead tuples: the bare limit and the REST phase each start from this state."""
    if kind == "sqlite":
        import sqlite3

        with sqlite3.connect(SQLITE_FILE, timeout=30) as conn:
            conn.execute(f"DELETE FROM {TABLE}")
        return
    import psycopg

    with psycopg.connect(db_url(kind), autocommit=True) as conn:
        conn.execute(f"TRUNCATE {TABLE}")


# --- The limit: the database's own bulk load of the same rows, nothing of the product --------------------

def bare_limit(kind: str, batches: list[list[dict]], twin_ids: dict[str, int]) -> dict:
    """Rows/s of a bare COPY (SQLite: executemany with the product's PRAGMAs) of `batches` into the points table,
    one transaction per batch, from POSTERS connections side by side; the rows are rendered before the clock starts."""
    if kind == "sqlite":
        import sqlite3

        rows = [[(twin_ids[p["twin"]], "v", datetime.fromisoformat(p["ts"]).replace(tzinfo=None).isoformat(" "), p["values"]["v"], "", False)
                 for p in batch] for batch in batches]
        sql = f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join(['?'] * len(COLUMNS))})"
        # SQLite has one writer at a time, so one connection: more would only queue on the file lock.
        with sqlite3.connect(SQLITE_FILE, timeout=30, isolation_level=None) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            t0 = time.perf_counter()
            for batch in rows:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(sql, batch)
                conn.execute("COMMIT")
            elapsed = time.perf_counter() - t0
        return {"bare_pps": sum(map(len, rows)) / elapsed, "bare_kind": "executemany", "bare_connections": 1}
    import psycopg

    texts = ["".join(f"{twin_ids[p['twin']]}\tv\t{p['ts']}\t{p['values']['v']!r}\t\tf\n" for p in batch).encode() for batch in batches]
    sql = f"COPY {TABLE} ({', '.join(COLUMNS)}) FROM STDIN"
    conns = [psycopg.connect(db_url(kind)) for _ in range(POSTERS)]

    def load(conn, mine):
        for text in mine:
            with conn.transaction(), conn.cursor() as cursor, cursor.copy(sql) as copy:
                copy.write(text)

    try:
        threads = [threading.Thread(target=load, args=(conn, texts[k::POSTERS])) for k, conn in enumerate(conns)]
        t0 = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - t0
    finally:
        for conn in conns:
            conn.close()
    stored = count_points(kind)
    expected = sum(map(len, batches))
    if stored != expected:
        raise SystemExit(f"bare COPY stored {stored} rows, expected {expected}")
    return {"bare_pps": expected / elapsed, "bare_kind": "COPY", "bare_connections": POSTERS}


# --- Orchestrator: daphne, viewers, posting clients --------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Poster:
    def __init__(self, port: int, token: str, factory: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        self.factory = factory

    def body(self, points: list[dict]) -> bytes:
        return json.dumps({"factory": self.factory, "points": points}).encode()

    def post(self, points: list[dict] | bytes) -> int:
        body = points if isinstance(points, bytes) else self.body(points)
        self.conn.request("POST", "/api/telemetry/", body, self.headers)
        response = self.conn.getresponse()
        body = response.read()
        if response.status != 202:
            raise RuntimeError(f"POST /api/telemetry/ → {response.status}: {body[:300]!r}")
        return json.loads(body)["accepted"]


async def viewers_phase(port: int, setup: dict, args, daphne_pid: int, batches: list[list[dict]]) -> dict:
    import websockets

    url = f"ws://127.0.0.1:{port}/ws/layouts/{setup['layout']}/"
    sent: dict[int, float] = {}
    latencies: list[float] = []
    frames = [0]

    async def viewer(token: str, ready: asyncio.Event, counter: list):
        async with websockets.connect(url, origin=f"http://127.0.0.1:{port}", additional_headers={"Authorization": f"Token {token}"},
                                      max_size=2 ** 22, open_timeout=30) as ws:
            async for raw in ws:
                frame = json.loads(raw)
                if frame["type"] == "welcome":
                    counter[0] += 1
                    if counter[0] == len(setup["viewer_tokens"]):
                        ready.set()
                elif frame["type"] == "twin.changed":
                    now = time.perf_counter()
                    frames[0] += 1
                    seqs = [u["values"].get("seq") for u in frame["updates"] if "seq" in u["values"]]
                    if seqs and int(max(seqs)) in sent:
                        latencies.append(now - sent[int(max(seqs))])

    ready, counter = asyncio.Event(), [0]
    tasks = [asyncio.create_task(viewer(t, ready, counter)) for t in setup["viewer_tokens"]]
    await asyncio.wait_for(ready.wait(), 60)

    # Throughput: 5,000-point batches from two keep-alive clients while the viewers watch.
    keys = setup["keys"]
    posters = [Poster(port, setup["dev_token"], setup["factory"]) for _ in range(POSTERS)]
    # Bodies encoded beforehand: the generator's own JSON encoding is not the product's cost.
    bodies = [posters[0].body(batch) for batch in batches]
    cpu0, t0 = cpu_seconds(daphne_pid), time.perf_counter()
    await asyncio.gather(*(asyncio.to_thread(lambda p=p, k=k: [p.post(b) for b in bodies[k::POSTERS]]) for k, p in enumerate(posters)))
    rest_s = time.perf_counter() - t0
    rest_cpu = (cpu_seconds(daphne_pid) - cpu0) / rest_s

    # Latency: 20 points (one per twin) every 50 ms; each carries `seq`, the viewers time the frames.
    await asyncio.sleep(0.5)
    frames[0] = 0
    cpu0, t0 = cpu_seconds(daphne_pid), time.perf_counter()
    poster = posters[0]
    for seq in range(1, int(args.latency_s / 0.05) + 1):
        next_at = t0 + seq * 0.05
        sent[seq] = time.perf_counter()
        await asyncio.to_thread(poster.post, [{"twin": k, "values": {"seq": seq, "v": 50.0}} for k in keys])
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
    await asyncio.sleep(1.0)
    lat_s = time.perf_counter() - t0
    lat_cpu = (cpu_seconds(daphne_pid) - cpu0) / lat_s
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    latencies.sort()
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 100 else [float("nan")] * 99
    return {"rest_pps": len(bodies) * BATCH / rest_s, "rest_cpu": rest_cpu, "p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000,
            "max_ms": latencies[-1] * 1000 if latencies else float("nan"), "samples": len(latencies),
            "frames_per_viewer_s": frames[0] / len(setup["viewer_tokens"]) / lat_s, "latency_cpu": lat_cpu}


def mqtt_phase(kind: str, setup: dict, n: int) -> dict | None:
    import paho.mqtt.client as mqtt
    from urllib.parse import urlparse

    url = urlparse(os.environ.get("MQTT_URL", "mqtt://127.0.0.1:1883"))
    try:
        socket.create_connection((url.hostname, url.port or 1883), timeout=1).close()
    except OSError:
        return None
    base = last_point_id(kind)
    client_id = f"bench-{os.getpid()}-{kind}"
    env = {**env_for(kind), "DJANGO_LOG_LEVEL": "INFO"}
    bridge = subprocess.Popen([PY, "manage.py", "mqtt_bridge", "--client-id", client_id], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    log = open(f"{ROOT}/var/bench_ingest_mqtt_{kind}.log", "w")
    try:
        for line in bridge.stderr:  # publish only once the bridge has subscribed
            if "subscribed to" in line:
                break
        threading.Thread(target=lambda: [log.write(line) for line in bridge.stderr], daemon=True).start()
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{os.getpid()}")
        client.max_inflight_messages_set(100)
        client.max_queued_messages_set(0)
        client.connect(url.hostname, url.port or 1883)
        client.loop_start()
        keys = setup["keys"]
        t0 = time.perf_counter()
        # Paced in chunks of 500: mosquitto queues at most 1,000 messages per subscriber (max_queued_messages)
        # and drops QoS 1 messages beyond that, so an unpaced burst measures the broker's limit, not the bridge.
        deadline = time.monotonic() + 180
        for start in range(0, n, 500):
            infos = [client.publish(f"metaverse/bench/{keys[i % len(keys)]}/telemetry", json.dumps({"values": {"mq": i}}), qos=1)
                     for i in range(start, min(n, start + 500))]
            for info in infos:
                info.wait_for_publish(60)
            while count_points(kind, base) < min(n, start + 500) - 300 and time.monotonic() < deadline:
                time.sleep(0.01)
        while count_points(kind, base) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        elapsed = time.perf_counter() - t0
        stored = count_points(kind, base)
        client.disconnect()
        client.loop_stop()
        return {"mqtt_pps": stored / elapsed, "stored": stored, "sent": n}
    finally:
        bridge.terminate()
        bridge.wait(10)
        cleaner = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)  # drop the session
        cleaner.connect(url.hostname, url.port or 1883)
        cleaner.disconnect()


def bench_db(kind: str, args) -> dict:
    print(f"==> {kind}: fresh database, migrate, {args.viewers} viewers", flush=True)
    fresh_database(kind)
    setup = run_worker(kind, "setup", args)
    inproc = run_worker(kind, "inprocess", args)
    assert inproc["stored"] == inproc["expected"], inproc
    batches = rest_batches(setup["keys"], args.points)
    empty_table(kind)
    print(f"==> {kind}: bare bulk load of the REST phase's {sum(map(len, batches)):,} rows", flush=True)
    bare = bare_limit(kind, batches, setup["twin_ids"])
    empty_table(kind)
    port = free_port()
    cmd = [PY, "-m", "metaverse.server", "-b", "127.0.0.1", "-p", str(port), "metaverse.asgi:application"]  # daphne as deployed
    daphne = subprocess.Popen((["taskset", "-c", "0"] if args.pin else []) + cmd, env=env_for(kind), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        wire = asyncio.run(viewers_phase(port, setup, args, daphne.pid, batches))
    finally:
        daphne.terminate()
        daphne.wait(10)
    mqtt = mqtt_phase(kind, setup, args.mqtt_messages) if args.mqtt_messages else None
    return {**inproc, **bare, **wire, "mqtt": mqtt}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dbs", default=os.environ.get("BENCH_DBS", "sqlite,postgres"))
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--points", type=int, default=400_000)
    parser.add_argument("--baseline-points", type=int, default=10_000)
    parser.add_argument("--latency-s", type=float, default=10.0)
    parser.add_argument("--mqtt-messages", type=int, default=5_000)
    parser.add_argument("--pin", action="store_true", help="daphne on core 0, this generator on core 1 (on a quiet machine)")
    parser.add_argument("--quick", action="store_true", help="a small run that checks the script works (no figures)")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.viewers, args.points, args.baseline_points = min(args.viewers, 5), min(args.points, 20_000), min(args.baseline_points, 2_000)
        args.latency_s, args.mqtt_messages = min(args.latency_s, 6.0), min(args.mqtt_messages, 500)
    if args.worker:
        print(json.dumps(worker(args.worker, args.viewers, args.points, args.baseline_points)))
        return
    if args.pin:
        os.sched_setaffinity(0, {1})  # the load generator on core 1, daphne on core 0
    results = {kind: bench_db(kind, args) for kind in args.dbs.split(",")}
    print()
    print(f"{'db':<9} {'save()/point':>13} {'ingest in-proc':>15} {'ratio':>6} {'per CPU-s':>10} {'bare limit':>20} {'REST+viewers':>13} "
          f"{'of limit':>8} {'daphne CPU':>10} {'MQTT':>8} {'p50 ms':>7} {'p99 ms':>7} {'frames/s':>8} {'load':>5}")
    for kind, r in results.items():
        mq = f"{r['mqtt']['mqtt_pps']:8.0f}" if r["mqtt"] else f"{'-':>8}"
        bare = f"{r['bare_pps']:.0f} ({r['bare_kind']})"
        print(f"{kind:<9} {r['baseline_pps']:13.0f} {r['product_pps']:15.0f} {r['product_pps'] / r['baseline_pps']:5.1f}x "
              f"{r['product_per_cpu_s']:10.0f} {bare:>20} {r['rest_pps']:13.0f} {r['rest_pps'] / r['bare_pps']:7.2f}x {r['rest_cpu'] * 100:9.0f}% "
              f"{mq} {r['p50_ms']:7.1f} {r['p99_ms']:7.1f} {r['frames_per_viewer_s']:8.1f} {r['load_avg']:5.1f}")
    print()
    print("points/s stored (in-process / REST with viewers), REST as a share of a bare bulk load of the same rows in the same "
          f"table, and ingest→twin.changed p99 at {args.viewers} viewers: " + "; ".join(
              f"{k} {r['product_pps']:.0f} / {r['rest_pps']:.0f} pts/s ({r['product_pps'] / r['baseline_pps']:.1f}x save()), "
              f"REST {r['rest_pps'] / r['bare_pps']:.2f}x bare {r['bare_kind']} ({r['bare_pps']:.0f} rows/s), p99 {r['p99_ms']:.0f} ms"
              for k, r in results.items()))

if __name__ == "__main__":
    main()
