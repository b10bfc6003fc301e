"""Experiment fan-out (BENCHMARKS.md, second round): a 27-point grid x 10 replications of the demo plant on
2 Celery workers against 1, with identical results.

Run from the repo root: `.venv/bin/python bench/experiments.py [--quick]` (needs Redis at REDIS_URL, default
redis://127.0.0.1:6379/0). The script makes its own SQLite database under var/, seeds the demo plant into it,
uses a private broker database and queue, and starts `celery -A metaverse worker -c 1` processes itself (on a
2-core machine, 2 single-process workers are what the fan-out can use). The grid varies what an engineer
would: the CNC operator pool (1, 2, 3 workers), the buffer in front of Press-1 (1, 2, 4 slots) and the bar
stock's interarrival time (50, 60, 70 s). Each configuration is timed from `experiment_create` to the
experiment's `succeeded` in the database, 1 and 2 workers taking turns. Baseline in the same run: the same
27 point models simulated in this process with `runner.simulate()` (one core, no Celery, no database): what
the workers' time is made of besides simulating is the dispatch overhead, reported per point. Every point's results must be equal, number
for number, on 1 worker, on 2 and in-process. `BENCH_WORKER_LOG=INFO` leaves each task's time in
var/bench-experiments-worker*.log.
"""
from __future__ import annotations

import argparse
import itertools
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DB_FILE = ROOT / "var" / "bench-experiments.sqlite3"
REDIS = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
BROKER = REDIS.rsplit("/", 1)[0] + "/" + os.environ.get("BENCH_BROKER_DB", "13")
QUEUE = f"bench-exp-{uuid.uuid4().hex[:8]}"

os.environ.update({
    "DJANGO_SETTINGS_MODULE": "metaverse.settings", "METAVERSE_TESTING": "1", "AXES_ENABLED": "0",
    "DATABASE_URL": f"sqlite:///{DB_FILE}", "CELERY_BROKER_URL": BROKER, "CELERY_RESULT_BACKEND": BROKER,
    "METAVERSE_CHANNEL_PREFIX": f"bench-{uuid.uuid4().hex[:6]}", "DJANGO_LOG_LEVEL": "WARNING", "REDIS_URL": REDIS,
    "SIMULATION_QUEUE": QUEUE,
})

import django

django.setup()

import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

from metaverse.celery import app
from twins.demo import seed_demo
from twins.models import Connection, Experiment, Factory, SimulationRun
from twins.services.experiments import clean_experiment, experiment_create, point_model
from twins.simulation import runner

REPS = 10


def seeded_plant():
    """The demo plant in a fresh database; its seeded scenario's runs are sent to a queue nobody reads, then
    cancelled and the queue deleted, so that the workers start idle."""
    DB_FILE.parent.mkdir(exist_ok=True)
    DB_FILE.unlink(missing_ok=True)
    call_command("migrate", verbosity=0)
    settings.SIMULATION_QUEUE = f"{QUEUE}-seeded"
    seed_demo()
    SimulationRun.objects.update(status="cancelled")
    redis.Redis.from_url(BROKER).delete(f"{QUEUE}-seeded")
    settings.SIMULATION_QUEUE = QUEUE
    return Factory.objects.get(slug="demo-plant").baseline_layout


def grid_body(layout, horizon_s: float) -> dict:
    assets = {a.name: a.id for a in layout.assets.all()}
    press_buffer = Connection.objects.get(layout=layout, target__name="Press-1").id
    return {
        "layout": layout.id, "name": "Operators x press buffer x arrivals",
        "factors": [{"asset": assets["CNC Operators"], "param": "capacity", "values": [1, 2, 3]},
                    {"connection": press_buffer, "field": "buffer_capacity", "values": [1, 2, 4]},
                    {"asset": assets["Bar Stock In"], "param": "interarrival_s", "values": [50.0, 60.0, 70.0]}],
        "horizon_s": horizon_s, "warmup_s": horizon_s / 16, "replications": REPS, "seed": 7,
        "objective": {"kpi": "throughput_per_hour", "sense": "max"}, "search": {"method": "grid"},
    }


def start_workers(n: int) -> list[subprocess.Popen]:
    procs = []
    for i in range(n):
        log = (ROOT / "var" / f"bench-experiments-worker{i}.log").open("wb")
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "metaverse", "worker", "-Q", QUEUE, "-c", "1", "-P", "prefork",
             "-n", f"bench{i}-{QUEUE}@%h", "-l", os.environ.get("BENCH_WORKER_LOG", "WARNING"),
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
    names = [f"bench{i}-{QUEUE}@{os.uname().nodename}" for i in range(n)]
    deadline = time.monotonic() + 120
    while len(app.control.ping(destination=names, timeout=0.5)) < n:
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            stop_workers(procs)
            raise SystemExit("the Celery workers did not start; see var/bench-experiments-worker*.log")
    return procs


def stop_workers(procs) -> None:
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


def timed_experiment(layout, user, body) -> tuple[float, Experiment]:
    t0 = time.perf_counter()
    exp = experiment_create(layout=layout, body=body, by=user)
    while True:
        exp.refresh_from_db()
        if exp.is_finished:
            break
        time.sleep(0.02)
    elapsed = time.perf_counter() - t0
    if exp.status != "succeeded":
        raise SystemExit(f"experiment {exp.id} {exp.status}: {exp.error}")
    return elapsed, exp


def point_results(exp: Experiment) -> list[dict]:
    return [p.run.results for p in exp.points.select_related("run").order_by("index")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 2-hour horizon and one timed run each: checks that it works")
    parser.add_argument("--horizon", type=float, default=8 * 3600.0)
    parser.add_argument("--repeat", type=int, default=2, help="timed experiments per configuration (median reported)")
    args = parser.parse_args()
    horizon, repeat = (2 * 3600.0, 1) if args.quick else (args.horizon, args.repeat)
    layout = seeded_plant()
    user = get_user_model().objects.get(username="alice")
    body = grid_body(layout, horizon)

    # The same 27 point models (checked and built as experiment_create does, in its order), simulated here:
    # the reference answers, and the compute that the workers share.
    spec = clean_experiment(layout, {k: v for k, v in body.items() if k != "layout"})
    points = list(itertools.product(*[f["values"] for f in spec["factors"]]))
    t0 = time.perf_counter()
    local = [runner.simulate(point_model(spec["base"], spec["factors"], list(values)), horizon_s=body["horizon_s"],
                             warmup_s=body["warmup_s"], replications=REPS, seed=body["seed"]) for values in points]
    local_s = time.perf_counter() - t0

    # 1 and 2 workers take turns, so that a change in the machine's load between them shows as spread in both
    # rather than as a ratio; the load average is printed before and after.
    load_before = os.getloadavg()
    times = {1: [], 2: []}
    for k in range(repeat):
        for n in (1, 2):
            procs = start_workers(n)
            try:
                timed_experiment(layout, user, {**body, "name": f"warm-up {n} #{k}", "replications": 2})  # imports done
                elapsed, exp = timed_experiment(layout, user, {**body, "name": f"{n} worker(s) #{k}"})
                times[n].append(elapsed)
                got = point_results(exp)
                if got != local:
                    bad = next(i for i, (a, b) in enumerate(zip(got, local)) if a != b)
                    raise SystemExit(f"{n} worker(s): point {bad} has different results than simulate() in-process")
            finally:
                stop_workers(procs)
    rows = {n: statistics.median(t) for n, t in times.items()}
    print(f"load average (1, 5, 15 min) before {' '.join(f'{v:.1f}' for v in load_before)}, after "
          f"{' '.join(f'{v:.1f}' for v in os.getloadavg())}; runs per configuration "
          + "; ".join(f"{n}: {', '.join(f'{t:.1f}' for t in ts)} s" for n, ts in times.items()))

    count = len(points)
    visits = sum(r["station_visits"] for r in local)
    print(f"Experiment: the demo plant, {count} points x {REPS} replications, horizon {horizon / 3600:g} h "
          f"({visits:,} station visits in all); results identical in every row")
    print(f"{'how':24} {'wall s':>8} {'points/s':>9} {'overhead s/point':>17}")
    print(f"{'in-process simulate()':24} {local_s:8.2f} {count / local_s:9.2f} {'':>17}")
    for n, wall in rows.items():
        overhead = (wall * n - local_s) / count  # worker-seconds spent on anything but simulating, per point
        print(f"{f'{n} worker' + ('s' if n > 1 else ''):24} {wall:8.2f} {count / wall:9.2f} {overhead:17.3f}")
    print(f"experiments: {count} points x {REPS} replications; 2w/1w = {rows[2] / rows[1]:.2f}x "
          f"({rows[1]:.1f} s -> {rows[2]:.1f} s; {count / rows[1]:.2f} -> {count / rows[2]:.2f} points/s); "
          f"dispatch overhead {(rows[1] - local_s) / count * 1000:.0f} ms/point on 1 worker (target 2w/1w <= 0.55x)")


if __name__ == "__main__":
    main()
