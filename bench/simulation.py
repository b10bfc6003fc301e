"""Simulation speed (BENCHMARKS.md §2): the product's engine against a straightforward SimPy model of the
same layout, side by side in one run. The product's first call in a fresh process (a child started for it, its
modules imported as a worker's are: what a user of a newly started worker waits for) is timed apart from a
repeated call here; the ratios use the repeated call and the first call's ratio is printed beside them. Run from the repo root: `.venv/bin/python bench/simulation.py [--quick]`."""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np
import simpy
from scipy.special import stdtrit

from twins.simulation.model import Link, Model, Station
from twins.simulation.runner import simulate

REPS = 30


# --- The layouts, as product models and as plain descriptions for SimPy -------------------------------

def serial_layout(m=20, buffer=2):
    """Unlimited supply -> m exponential machines (mean 1 s) with `buffer` slots between them -> sink."""
    stations = [Station(0, "supply", "source")]
    stations += [Station(i, f"m{i}", "machine", x=float(i), cycle_time_s=1.0, cycle_cv=1.0) for i in range(1, m + 1)]
    stations.append(Station(m + 1, "out", "sink", x=m + 1.0))
    links = [Link(i, i, i + 1, buffer if 1 <= i < m else None) for i in range(m + 1)]
    return Model(tuple(stations), tuple(links))


def general_layout(buffer=2):
    """A split and a merge, twice, with a two-server machine:
    supply -> A -> {B1, B2} -> C -> {D1, D2 (2 servers)} -> E -> sink."""
    spec = [  # id, name, mean cycle, servers
        (1, "A", 1.0, 1), (2, "B1", 1.8, 1), (3, "B2", 1.8, 1), (4, "C", 1.0, 1),
        (5, "D1", 2.5, 1), (6, "D2", 2.5, 2), (7, "E", 1.0, 1)]
    stations = [Station(0, "supply", "source")]
    stations += [Station(i, n, "machine", cycle_time_s=c, cycle_cv=1.0, capacity=k) for i, n, c, k in spec]
    stations.append(Station(8, "out", "sink"))
    edges = [(0, 1, None, 1.0), (1, 2, buffer, 1.0), (1, 3, buffer, 1.0), (2, 4, buffer, 1.0), (3, 4, buffer, 1.0),
             (4, 5, buffer, 1.0), (4, 6, buffer, 2.0), (5, 7, buffer, 1.0), (6, 7, buffer, 1.0), (7, 8, None, 1.0)]
    links = [Link(10 + k, a, b, cap, None, w) for k, (a, b, cap, w) in enumerate(edges)]
    return Model(tuple(stations), tuple(links))


LINE_TYPES = {"a": (0.5, 1.0), "b": (0.3, 1.5), "c": (0.2, 2.0)}  # type: (mix weight, mean cycle s)
LINE_SETUP_S = 2.0
LINE_CALENDAR = {"period_s": 100.0, "on": [[0.0, 45.0], [50.0, 95.0]]}  # two "shifts" of 45 s in every 100 s


def line_model():
    """CONTRACT §7: a three-type mix with setups, an assembly, a shared operator pool and a shift calendar.
    supply A (mix a/b/c) -> M1 (cycle by type, setup on a type change) -> 3 slots -> ASM (1 of these)
    supply B -> M2 -> 3 slots -> ASM (2 of these) -> 3 slots -> M3 -> sink; M1, M2 and M3 each need one of the
    pool's 2 workers for every setup and processing; every time is exponential."""
    stations = (
        Station(1, "supply A", "source", mix={t: w for t, (w, _) in LINE_TYPES.items()}),
        Station(2, "supply B", "source"),
        Station(3, "M1", "machine", cycle_time_s=1.0, cycle_cv=1.0, setup_time_s=LINE_SETUP_S, setup_cv=1.0,
                cycle_time_by_type={t: c for t, (_, c) in LINE_TYPES.items()}, operator=9),
        Station(4, "M2", "machine", cycle_time_s=0.8, cycle_cv=1.0, operator=9),
        Station(5, "ASM", "assembly", cycle_time_s=1.2, cycle_cv=1.0),
        Station(6, "M3", "machine", cycle_time_s=1.0, cycle_cv=1.0, operator=9),
        Station(7, "out", "sink"),
        Station(9, "crew", "operator", capacity=2),
    )
    links = (Link(11, 1, 3, None), Link(12, 2, 4, None), Link(13, 3, 5, 3), Link(14, 4, 5, 3, quantity=2),
             Link(15, 5, 6, 3), Link(16, 6, 7, None))
    return Model(stations, links, calendar=LINE_CALENDAR)


# --- The SimPy reference: stations as processes, Stores as buffers, blocking after service ------------

def simpy_serial(m, buffer, horizon, warmup, seed):
    env = simpy.Environment()
    rng = np.random.default_rng(seed)
    stores = [simpy.Store(env, capacity=buffer) for _ in range(m - 1)]
    out = [0, 0]  # parts finished after warm-up, station visits

    def station(i):
        while True:
            if i > 0:
                yield stores[i - 1].get()
            yield env.timeout(rng.exponential(1.0))
            out[1] += 1
            if i < m - 1:
                yield stores[i].put(1)  # blocks while the next buffer is full
            elif env.now >= warmup:
                out[0] += 1

    for i in range(m):
        env.process(station(i))
    env.run(until=horizon)
    return out[0] * 3600.0 / (horizon - warmup), out[1]


def simpy_general(model, horizon, warmup, seed):
    """Any layout: a Store per link (its capacity); a station with several inputs takes from a FIFO queue
    Store that is the union of its links, the link Stores then holding slot tokens. A process per server."""
    env = simpy.Environment()
    rng = np.random.default_rng(seed)
    st = {s.id: s for s in model.stations}
    outs = {s.id: [ln for ln in model.links if ln.source == s.id] for s in model.stations}
    n_in = {s.id: sum(1 for ln in model.links if ln.target == s.id) for s in model.stations}
    store = {ln.id: simpy.Store(env, capacity=ln.buffer_capacity if ln.buffer_capacity is not None else math.inf)
             for ln in model.links}
    single = {ln.target: store[ln.id] for ln in model.links if n_in[ln.target] == 1}
    queue = {s.id: simpy.Store(env) for s in model.stations if n_in[s.id] > 1}
    # A machine fed by an unlimited supply never starves: it simply has no input to wait for.
    supplied = {ln.target for ln in model.links if st[ln.source].kind == "source" and st[ln.source].interarrival_s is None}
    out = [0, 0]

    cumw = {sid: np.cumsum([ln.weight for ln in links]) / sum(ln.weight for ln in links)
            for sid, links in outs.items() if links}

    def pick(sid):
        links = outs[sid]
        if len(links) == 1:
            return links[0]
        return links[int(np.searchsorted(cumw[sid], rng.random()))]

    def server(sid):
        s = st[sid]
        while True:
            if sid in supplied:
                pass
            elif sid in single:
                yield single[sid].get()
            else:
                ln_in = yield queue[sid].get()
                yield store[ln_in.id].get()  # frees the slot on the link the part came by
            yield env.timeout(rng.exponential(s.cycle_time_s))
            out[1] += 1
            ln = pick(sid)
            if st[ln.target].kind == "sink":
                if env.now >= warmup:
                    out[0] += 1
                continue
            yield store[ln.id].put(ln)  # blocks while the link is full
            if ln.target in queue:
                yield queue[ln.target].put(ln)

    for s in model.stations:
        if s.kind == "machine":
            for _ in range(s.capacity):
                env.process(server(s.id))
    env.run(until=horizon)
    return out[0] * 3600.0 / (horizon - warmup), out[1]


def simpy_line(horizon, warmup, seed):
    """line_model() in SimPy: a process per machine, a Store per link, a Resource for the worker pool (FIFO, as
    the product grants workers), the assembly waiting until both links hold their quantities and then taking
    them at once, and every setup and processing paused off shift and resumed at the next interval."""
    env = simpy.Environment()
    rng = np.random.default_rng(seed)
    period, shifts = LINE_CALENDAR["period_s"], LINE_CALENDAR["on"]
    crew = simpy.Resource(env, capacity=2)
    to_asm_a, to_asm_b, to_m3 = (simpy.Store(env, capacity=3) for _ in range(3))
    arrived = [env.event()]  # fired whenever a part reaches the assembly's links
    types, weights = list(LINE_TYPES), np.array([w for w, _ in LINE_TYPES.values()])
    out = [0, 0]  # parts out after warm-up, processings

    def on_shift_left(t):
        """Seconds of shift left from t (0 if off shift) and, if off, the wait until the next shift."""
        r = t % period
        for a, b in shifts:
            if a <= r < b:
                return b - r, 0.0
            if r < a:
                return 0.0, a - r
        return 0.0, period - r + shifts[0][0]

    def work(d):
        """d seconds of on-shift time: pauses off shift and resumes at the next interval."""
        while d > 1e-12:
            left, wait = on_shift_left(env.now)
            if wait > 0:
                yield env.timeout(wait)
                continue
            step = min(d, left)
            yield env.timeout(step)
            d -= step

    def tell_assembly():
        arrived[0].succeed()
        arrived[0] = env.event()

    def machine(kind):
        last = None
        while True:
            if kind == "M3":
                yield to_m3.get()
            with crew.request() as worker:
                yield worker
                if kind == "M1":
                    t = types[int(np.searchsorted(np.cumsum(weights), rng.random() * weights.sum()))]
                    if last is not None and t != last:
                        yield from work(rng.exponential(LINE_SETUP_S))
                    last = t
                    yield from work(rng.exponential(LINE_TYPES[t][1]))
                else:
                    yield from work(rng.exponential(0.8 if kind == "M2" else 1.0))
            out[1] += 1
            if kind == "M3":
                if env.now >= warmup:
                    out[0] += 1
            else:
                yield (to_asm_a if kind == "M1" else to_asm_b).put(1)  # blocks while the link is full
                tell_assembly()

    def assembly():
        while True:
            while len(to_asm_a.items) < 1 or len(to_asm_b.items) < 2:
                yield arrived[0]
            yield to_asm_a.get()
            yield to_asm_b.get()
            yield to_asm_b.get()
            yield from work(rng.exponential(1.2))
            out[1] += 1
            yield to_m3.put(1)

    for kind in ("M1", "M2", "M3"):
        env.process(machine(kind))
    env.process(assembly())
    env.run(until=horizon)
    return out[0] * 3600.0 / (horizon - warmup), out[1]


# --- Running and reporting ------------------------------------------------------------------------------

def mean_ci(values):
    v = np.asarray(values, dtype=float)
    return float(v.mean()), float(stdtrit(len(v) - 1, 0.975) * v.std(ddof=1) / math.sqrt(len(v)))


def run_simpy(fn, reps, *args):
    t0, c0 = time.perf_counter(), time.process_time()
    rows = [fn(*args, seed) for seed in range(reps)]
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    tp, ci = mean_ci([r[0] for r in rows])
    return {"wall": wall, "cpu": cpu, "visits": sum(r[1] for r in rows), "tp": tp, "ci": ci}


def run_product(model, reps, horizon, warmup, engine="auto"):
    t0, c0 = time.perf_counter(), time.process_time()
    res = simulate(model, horizon_s=horizon, warmup_s=warmup, replications=reps, seed=1, engine=engine)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"wall": wall, "cpu": cpu, "visits": res["station_visits"], "tp": res["throughput_per_hour"]["mean"],
            "ci": res["throughput_per_hour"]["ci95"], "engine": res["engine"]}


def first_call(layout: str, reps, horizon, warmup):
    """run_product in a fresh child process: its first call, nothing warmed up before it."""
    out = subprocess.run([sys.executable, __file__, "--first-call", layout, "--reps", str(reps), "--horizon", str(horizon),
                          "--warmup", str(warmup)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def demo_api(repeat: int) -> dict:
    """In a child process (Django and a worker of its own; this process stays free of both): the demo plant
    seeded into a throwaway SQLite database, one `celery -A metaverse worker -c 1` on a private queue, and
    `POST /api/simulations/` of an 8-hour, 10-replication run as alice through Django's test client (the
    product's middleware, DRF views and services, no HTTP socket), polled with `GET /api/simulations/{id}/`
    every 10 ms until it returns the results. The worker's first run (its first task since it started and
answered a ping) is timed apart from the repeated ones."""
    import signal
    import uuid

    db = os.path.join(ROOT, "var", "bench-simulation-api.sqlite3")
    queue = f"bench-api-{uuid.uuid4().hex[:8]}"
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    broker = redis_url.rsplit("/", 1)[0] + "/" + os.environ.get("BENCH_BROKER_DB", "13")
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "metaverse.settings", "METAVERSE_TESTING": "1", "AXES_ENABLED": "0",
        "DATABASE_URL": f"sqlite:///{db}", "CELERY_BROKER_URL": broker, "CELERY_RESULT_BACKEND": broker,
        "METAVERSE_CHANNEL_PREFIX": f"bench-{uuid.uuid4().hex[:6]}", "DJANGO_LOG_LEVEL": "WARNING",
        "REDIS_URL": redis_url, "SIMULATION_QUEUE": queue,
    })
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from twins.demo import seed_demo
    from twins.models import Factory, SimulationRun

    os.makedirs(os.path.dirname(db), exist_ok=True)
    if os.path.exists(db):
        os.unlink(db)
    call_command("migrate", verbosity=0)
    settings.SIMULATION_QUEUE = f"{queue}-seeded"  # the seeded scenario's runs go nowhere: nobody listens there
    seed_demo()
    SimulationRun.objects.update(status="cancelled")
    import redis

    redis.Redis.from_url(broker).delete(f"{queue}-seeded")
    settings.SIMULATION_QUEUE = queue
    layout = Factory.objects.get(slug="demo-plant").baseline_layout_id
    client = Client(HTTP_HOST="localhost")
    client.force_login(get_user_model().objects.get(username="alice"))
    body = {"layout": layout, "horizon_s": 8 * 3600, "warmup_s": 1800, "replications": 10, "seed": 1}

    def timed() -> tuple[float, dict]:
        t0 = time.perf_counter()
        created = client.post("/api/simulations/", body, content_type="application/json")
        assert created.status_code == 201, created.content
        url = f"/api/simulations/{created.json()['id']}/"
        while True:
            got = client.get(url).json()
            if got["status"] in ("succeeded", "failed", "cancelled"):
                break
            time.sleep(0.01)
        elapsed = time.perf_counter() - t0
        assert got["status"] == "succeeded" and got["results"], got
        return elapsed, got["results"]

    with open(os.path.join(ROOT, "var", "bench-simulation-api-worker.log"), "wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "metaverse", "worker", "-Q", queue, "-c", "1", "-P", "prefork",
             "-n", f"{queue}@%h", "-l", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        from metaverse.celery import app

        deadline = time.monotonic() + 120
        while not app.control.ping(destination=[f"{queue}@{os.uname().nodename}"], timeout=0.5):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the Celery worker did not start; see var/bench-simulation-api-worker.log")
        first, results = timed()
        times = [timed()[0] for _ in range(repeat)]
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(30)
    tp = results["throughput_per_hour"]
    return {"first": first, "times": times, "tp": tp["mean"], "ci": tp["ci95"], "engine": results["engine"],
            "visits": results["station_visits"]}


def row(name, r):
    print(f"{name:<46} {r['wall']:>9.2f} {r['cpu']:>8.2f} {r['visits']:>11,d} {r['visits'] / r['wall']:>13,.0f} "
          f"{r['tp']:>10.1f} ± {r['ci']:<7.1f}")


def agree(a, b):
    return abs(a["tp"] - b["tp"]) <= 2.0 * math.hypot(a["ci"], b["ci"])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="a short run (a few seconds)")
    ap.add_argument("--reps", type=int, default=REPS)
    ap.add_argument("--first-call", choices=["serial", "general", "line"], help=argparse.SUPPRESS)
    ap.add_argument("--demo-api", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--repeat", type=int, default=5, help="timed API runs of the demo plant after the first")
    ap.add_argument("--no-api", action="store_true", help="skip the demo plant through the API (needs Redis)")
    ap.add_argument("--horizon", type=float, help=argparse.SUPPRESS)
    ap.add_argument("--warmup", type=float, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.demo_api:
        print(json.dumps(demo_api(args.repeat)))
        return
    if args.first_call:
        model = {"serial": serial_layout, "general": general_layout, "line": line_model}[args.first_call]()
        print(json.dumps(run_product(model, args.reps, args.horizon, args.warmup)))
        return
    serial_h = 1_000.0 if args.quick else 5_000.0
    general_h = 2_000.0 if args.quick else 10_000.0
    line_h = 2_000.0 if args.quick else 20_000.0
    reps = args.reps
    # Warmed up here, so that the product's rows below are repeated calls; first calls run in fresh processes.
    simulate(serial_layout(), horizon_s=100, warmup_s=10, replications=2, seed=0)
    simulate(general_layout(), horizon_s=100, warmup_s=10, replications=2, seed=0)
    simulate(line_model(), horizon_s=100, warmup_s=10, replications=2, seed=0)

    print(f"Serial line: 20 exponential stations (mean 1 s), buffers of 2, {reps} replications, "
          f"horizon {serial_h:.0f} s (warm-up 10%)")
    print(f"{'model':<46} {'wall s':>9} {'cpu s':>8} {'visits':>11} {'visits/s':>13} {'parts/h':>10}   ci95")
    ref = run_simpy(simpy_serial, reps, 20, 2, serial_h, serial_h / 10)
    row("SimPy reference", ref)
    first = first_call("serial", reps, serial_h, serial_h / 10)
    row(f"product, first call (fresh process) [{first['engine']}]", first)
    fast = run_product(serial_layout(), reps, serial_h, serial_h / 10)
    row(f"product simulate() [{fast['engine']}]", fast)
    gen_s = run_product(serial_layout(), reps, serial_h, serial_h / 10, engine="general")
    row("product, general engine forced", gen_s)

    model = general_layout()
    print(f"\nGeneral layout: split/merge twice, a 2-server machine, 8 machines, buffers of 2, {reps} "
          f"replications, horizon {general_h:.0f} s")
    print(f"{'model':<46} {'wall s':>9} {'cpu s':>8} {'visits':>11} {'visits/s':>13} {'parts/h':>10}   ci95")
    ref_g = run_simpy(simpy_general, reps, model, general_h, general_h / 10)
    row("SimPy reference", ref_g)
    first_g = first_call("general", reps, general_h, general_h / 10)
    row(f"product, first call (fresh process) [{first_g['engine']}]", first_g)
    gen = run_product(model, reps, general_h, general_h / 10)
    row(f"product simulate() [{gen['engine']}]", gen)

    print(f"\n§7 line: a three-type mix with setups, an assembly (1 + 2 parts), 2 shared workers for 3 machines, "
          f"shifts of 45 s in 100 s; {reps} replications, horizon {line_h:.0f} s")
    print(f"{'model':<46} {'wall s':>9} {'cpu s':>8} {'visits':>11} {'visits/s':>13} {'parts/h':>10}   ci95")
    ref_l = run_simpy(simpy_line, reps, line_h, line_h / 10)
    row("SimPy reference", ref_l)
    first_l = first_call("line", reps, line_h, line_h / 10)
    row(f"product, first call (fresh process) [{first_l['engine']}]", first_l)
    lin = run_product(line_model(), reps, line_h, line_h / 10)
    row(f"product simulate() [{lin['engine']}]", lin)

    ratio = lambda a, b, k="wall": a[k] / b[k]
    print(f"\nsimulation: serial {ratio(ref, fast):.1f}x SimPy (cpu {ratio(ref, fast, 'cpu'):.1f}x, first call {ratio(ref, first):.1f}x, "
          f"answer {'agrees' if agree(ref, fast) else 'DIFFERS'}), serial on the general engine {ratio(ref, gen_s):.1f}x, "
          f"general layout {ratio(ref_g, gen):.1f}x SimPy (cpu {ratio(ref_g, gen, 'cpu'):.1f}x, first call {ratio(ref_g, first_g):.1f}x, "
          f"answer {'agrees' if agree(ref_g, gen) else 'DIFFERS'}); §7 line {ratio(ref_l, lin):.1f}x SimPy (cpu "
          f"{ratio(ref_l, lin, 'cpu'):.1f}x, first call {ratio(ref_l, first_l):.1f}x, answer "
          f"{'agrees' if agree(ref_l, lin) else 'DIFFERS'}); targets 50x, 10x and 5x (second round)")
    if not args.no_api:
        out = subprocess.run([sys.executable, __file__, "--demo-api", "--repeat", str(1 if args.quick else args.repeat)],
                             capture_output=True, text=True, check=True)
        api = json.loads(out.stdout.strip().splitlines()[-1])
        times = sorted(api["times"])
        print(f"demo plant through the API, 8 h x 10 replications on 1 idle worker [{api['engine']}, "
              f"{api['visits']:,} visits, {api['tp']:.1f} ± {api['ci']:.1f} parts/h]: the worker's first run "
              f"{api['first']:.2f} s, then median {times[len(times) // 2]:.2f} s of {len(times)} "
              f"(min {times[0]:.2f}, max {times[-1]:.2f}); target <= 2 s")

if __name__ == "__main__":
    main()
