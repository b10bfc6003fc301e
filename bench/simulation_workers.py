"""Simulation fan-out (BENCHMARKS.md §2, last line): one 30-replication run on 1 Celery worker vs 2.

Run from the repo root: `.venv/bin/python bench/simulation_workers.py` (needs Redis at REDIS_URL, default
redis://127.0.0.1:6379/0). The script makes its own SQLite database under var/, a private broker database
and queue, starts `celery -A metaverse worker -c 1` processes itself, and times each run from
`simulation_create` to `succeeded` in the database. A "worker" is one single-process worker: on a 2-core
machine, 2 of them is what the fan-out can use. Baseline in the same run: the same replications in this
process with `runner.simulate()` (one core, no Celery). The answers must be identical across all of them.
"""
from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DB_FILE = ROOT / "var" / "bench-simulation-workers.sqlite3"
REDIS = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
BROKER = REDIS.rsplit("/", 1)[0] + "/" + os.environ.get("BENCH_BROKER_DB", "13")
QUEUE = f"bench-sim-{uuid.uuid4().hex[:8]}"
PREFIX = f"bench-{uuid.uuid4().hex[:6]}"

os.environ.update({
    "DJANGO_SETTINGS_MODULE": "metaverse.settings", "METAVERSE_TESTING": "1", "AXES_ENABLED": "0",
    "DATABASE_URL": f"sqlite:///{DB_FILE}", "CELERY_BROKER_URL": BROKER, "CELERY_RESULT_BACKEND": BROKER,
    "METAVERSE_CHANNEL_PREFIX": PREFIX, "DJANGO_LOG_LEVEL": "WARNING", "REDIS_URL": REDIS,
})

import django

django.setup()

from django.conf import settings
from django.core.management import call_command

from twins.models import (
    Asset,
    AssetType,
    Connection,
    Factory,
    Layout,
    Membership,
    Role,
    SimulationRun,
)
from twins.services.simulations import simulation_create
from twins.simulation import runner
from twins.simulation_model import model_from_dict

REPS = 30


def build_layouts():
    """The 20-station line of §2 (unlimited supply, exponential 1 s machines, buffers of 2) and a general
    variant of it (the middle machine has two servers, so the general engine runs it)."""
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username="bench")
    factory, _ = Factory.objects.get_or_create(slug="bench-workers", defaults={"name": "Bench"})
    Membership.objects.get_or_create(factory=factory, user=user, defaults={"role": Role.ENGINEER})
    source, _ = AssetType.objects.get_or_create(name="Bench supply", defaults={"kind": "source", "defaults": {"interarrival_s": None}})
    machine, _ = AssetType.objects.get_or_create(name="Bench machine", defaults={"kind": "machine", "defaults": {"cycle_time_s": 1.0, "cycle_cv": 1.0}})
    sink, _ = AssetType.objects.get_or_create(name="Bench sink", defaults={"kind": "sink"})
    layouts = {}
    for name, twin in (("serial", None), ("general", 10)):
        Layout.objects.filter(factory=factory, name=name).delete()
        layout = Layout.objects.create(factory=factory, name=name)
        assets = [Asset.objects.create(layout=layout, asset_type=source, name="supply", x=0, z=0)]
        for i in range(1, 21):
            params = {"capacity": 2, "cycle_time_s": 2.0} if i == twin else {}
            assets.append(Asset.objects.create(layout=layout, asset_type=machine, name=f"m{i}", x=2.0 * i, z=0, params=params))
        assets.append(Asset.objects.create(layout=layout, asset_type=sink, name="out", x=44, z=0))
        for k, (a, b) in enumerate(zip(assets, assets[1:])):
            inner = 0 < k < len(assets) - 2
            Connection.objects.create(layout=layout, source=a, target=b, buffer_capacity=2 if inner else None)
        layouts[name] = layout
    return user, layouts


def start_workers(n: int, log_dir: Path) -> list[subprocess.Popen]:
    procs = []
    for i in range(n):
        log = (log_dir / f"worker{i}.log").open("wb")
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "metaverse", "worker", "-Q", QUEUE, "-c", "1", "-P", "prefork",
             "-n", f"bench{i}-{QUEUE}@%h", "-l", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
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


def timed_run(layout, user, params) -> tuple[float, SimulationRun]:
    t0 = time.perf_counter()
    run = simulation_create(layout=layout, params=params, by=user)
    while True:
        run.refresh_from_db()
        if run.is_finished:
            break
        time.sleep(0.02)
    elapsed = time.perf_counter() - t0
    if run.status != "succeeded":
        raise SystemExit(f"run {run.id} {run.status}: {run.error}")
    return elapsed, run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serial-horizon", type=float, default=20_000.0)
    parser.add_argument("--general-horizon", type=float, default=6_000.0)
    parser.add_argument("--repeat", type=int, default=2, help="timed runs per configuration (median reported)")
    args = parser.parse_args()
    DB_FILE.parent.mkdir(exist_ok=True)
    DB_FILE.unlink(missing_ok=True)
    call_command("migrate", verbosity=0)
    settings.SIMULATION_QUEUE = QUEUE
    user, layouts = build_layouts()
    horizons = {"serial": args.serial_horizon, "general": args.general_horizon}
    rows, answers = [], {}
    log_dir = Path(tempfile.mkdtemp(prefix="bench-sim-workers-"))
    for name, layout in layouts.items():
        params = {"horizon_s": horizons[name], "warmup_s": horizons[name] / 10, "replications": REPS, "seed": 1}
        snapshot_run = simulation_create(layout=layout, params=params, by=user)  # queued, nobody listens yet
        SimulationRun.objects.filter(pk=snapshot_run.pk).update(status="cancelled")
        p = snapshot_run.params
        t0 = time.perf_counter()
        local = runner.simulate(model_from_dict(p["model"]), horizon_s=p["horizon_s"], warmup_s=p["warmup_s"],
                                replications=REPS, seed=p["seed"])
        rows.append((name, "in-process simulate()", time.perf_counter() - t0, local))
        answers[name] = local
        for n in (1, 2):
            procs = start_workers(n, log_dir)
            try:
                timed_run(layout, user, {**params, "replications": 2})  # warm-up: workers booted, imports done
                times = []
                for _ in range(args.repeat):
                    elapsed, run = timed_run(layout, user, params)
                    times.append(elapsed)
                    if run.results != local:
                        raise SystemExit(f"{name}: {n} worker(s) gave a different answer than simulate()")
                rows.append((name, f"{n} worker{'s' if n > 1 else ''}", statistics.median(times), run.results))
            finally:
                stop_workers(procs)
    print(f"{'layout':8} {'how':24} {'wall s':>8} {'visits/s':>10}  throughput/h (mean ± ci95)")
    for name, how, wall, res in rows:
        tp = res["throughput_per_hour"]
        print(f"{name:8} {how:24} {wall:8.2f} {res['station_visits'] / wall:10,.0f}  {tp['mean']:.1f} ± {tp['ci95']:.1f}")
    ratios = []
    for name in layouts:
        one = next(w for n, h, w, _ in rows if n == name and h == "1 worker")
        two = next(w for n, h, w, _ in rows if n == name and h == "2 workers")
        ratios.append(f"{name} 2w/1w = {two / one:.2f}x ({one:.1f} s -> {two:.1f} s)")
    print(f"figures: {REPS} replications, same answers everywhere; " + "; ".join(ratios) + " (target <= 0.60x)")


if __name__ == "__main__":
    main()
