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

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

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


def row(name, r):
    print(f"{name:<46} {r['wall']:>9.2f} {r['cpu']:>8.2f} {r['visits']:>11,d} {r['visits'] / r['wall']:>13,.0f} "
          f"{r['tp']:>10.1f} ± {r['ci']:<7.1f}")


def agree(a, b):
    return abs(a["tp"] - b["tp"]) <= 2.0 * math.hypot(a["ci"], b["ci"])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="a short run (a few seconds)")
    ap.add_argument("--reps", type=int, default=REPS)
    ap.add_argument("--first-call", choices=["serial", "general"], help=argparse.SUPPRESS)
    ap.add_argument("--horizon", type=float, help=argparse.SUPPRESS)
    ap.add_argument("--warmup", type=float, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.first_call:
        model = serial_layout() if args.first_call == "serial" else general_layout()
        print(json.dumps(run_product(model, args.reps, args.horizon, args.warmup)))
        return
    serial_h = 1_000.0 if args.quick else 5_000.0
    general_h = 2_000.0 if args.quick else 10_000.0
    reps = args.reps
    # Warmed up here, so that the product's rows below are repeated calls; first calls run in fresh processes.
    simulate(serial_layout(), horizon_s=100, warmup_s=10, replications=2, seed=0)
    simulate(general_layout(), horizon_s=100, warmup_s=10, replications=2, seed=0)

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

    ratio = lambda a, b, k="wall": a[k] / b[k]
    print(f"\nsimulation: serial {ratio(ref, fast):.1f}x SimPy (cpu {ratio(ref, fast, 'cpu'):.1f}x, first call {ratio(ref, first):.1f}x, "
          f"answer {'agrees' if agree(ref, fast) else 'DIFFERS'}), serial on the general engine {ratio(ref, gen_s):.1f}x, "
          f"general layout {ratio(ref_g, gen):.1f}x SimPy (cpu {ratio(ref_g, gen, 'cpu'):.1f}x, first call {ratio(ref_g, first_g):.1f}x, "
          f"answer {'agrees' if agree(ref_g, gen) else 'DIFFERS'}); targets 50x and 10x (second round)")

if __name__ == "__main__":
    main()
