"""Which optimiser an `optimize` experiment uses (CONTRACT.md §8, issue 15): the product's own Optuna TPE
suggestions (`twins.services.experiments._optimiser_ask`, called as an experiment calls it) against nevergrad's
DiscreteOnePlusOne and NGOpt, and plain random sampling as the floor, on a buffer-allocation problem whose best
point a full grid computes.

The problem: a saturated serial line of four exponential machines (mean cycles 10, 12, 11, 10 s) with three
buffers of 0..7 slots each (512 points); the objective is the hourly profit, throughput_per_hour - WIP - 3 x
slots (a part earns 1, a part on the floor costs 1 an hour and a buffer slot 3), so the best allocation is
interior. Every point is
simulated once by the product's engine with one seed (common random numbers, as every point of an experiment):
the objective is then a fixed function of the point, the grid's best is *the* best, and each optimiser's
evaluations are look-ups in that table. Like the product, every optimiser proposes points in rounds of
PARALLEL_POINTS (the points an experiment keeps in flight) and is only charged for points it has not tried
before (the product never runs a point twice); a proposal it made before is told its known value for free.

Reported per optimiser and budget over many seeds: how often it finds the best within the budget, the
evaluations it took when it did (median), the mean regret (best objective minus best found) and the time
per suggestion. Run from the repo root: `.venv/bin/python bench/optimizers.py [--quick]`.
"""
from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# _optimiser_ask lives in a Django service module; it reads no database, but importing it needs settings.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "metaverse.settings")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench-optimizers.sqlite3'}")
os.environ.setdefault("METAVERSE_TESTING", "1")

import django

django.setup()

import nevergrad as ng
import numpy as np

from twins.services.experiments import PARALLEL_POINTS, _optimiser_ask
from twins.simulation.model import Link, Model, Station
from twins.simulation.runner import simulate

CYCLES = (10.0, 12.0, 11.0, 10.0)
SLOTS = list(range(8))
WIP_COST, SLOT_COST = 1.0, 3.0
SIM = {"horizon_s": 20_000.0, "warmup_s": 2_000.0, "replications": 2, "seed": 11}


def line(buffers) -> Model:
    """Unlimited supply -> M1 .. M4 (exponential) with `buffers` slots between them -> sink."""
    m = len(CYCLES)
    stations = [Station(0, "supply", "source")]
    stations += [Station(i, f"M{i}", "machine", x=float(i), cycle_time_s=c, cycle_cv=1.0) for i, c in enumerate(CYCLES, 1)]
    stations.append(Station(m + 1, "out", "sink", x=m + 1.0))
    links = [Link(100 + i, i, i + 1, buffers[i - 1] if 1 <= i < m else None) for i in range(m + 1)]
    return Model(tuple(stations), tuple(links))


def profit(results: dict, buffers) -> float:
    return results["throughput_per_hour"]["mean"] - WIP_COST * results["wip"]["mean"] - SLOT_COST * sum(buffers)


def grid_table() -> tuple[dict, float]:
    t0 = time.perf_counter()
    table = {point: profit(simulate(line(point), **SIM), point) for point in itertools.product(SLOTS, repeat=len(CYCLES) - 1)}
    return table, time.perf_counter() - t0


# --- the optimisers, each as an ask(n) -> list of index tuples / tell(point, value) pair -------------------

class ProductTPE:
    """The product's suggestions: `_optimiser_ask` on an experiment-shaped object whose finished points carry
    their objective where a run's results would; the study is rebuilt from them every round, as in the product."""

    def __init__(self, seed: int, budget: int):
        self.exp = SimpleNamespace(
            factors=[{"values": SLOTS} for _ in range(len(CYCLES) - 1)], params={"seed": seed},
            search={"points": budget}, objective={"kpi": "profit", "sense": "max"})
        self.points = []

    def ask(self, n: int) -> list[tuple]:
        return [tuple(v) for v in _optimiser_ask(self.exp, self.points, n)]

    def tell(self, point: tuple, value: float) -> None:
        run = SimpleNamespace(status="succeeded", results={"profit": {"mean": value}})
        self.points.append(SimpleNamespace(values=list(point), run=run))


class Nevergrad:
    def __init__(self, name: str, seed: int, budget: int):
        param = ng.p.Tuple(*[ng.p.TransitionChoice(SLOTS) for _ in range(len(CYCLES) - 1)])
        param.random_state = np.random.RandomState(seed)
        self.opt = ng.optimizers.registry[name](parametrization=param, budget=budget * 20, num_workers=PARALLEL_POINTS)
        self.pending = {}

    def ask(self, n: int) -> list[tuple]:
        out = []
        for _ in range(n):
            cand = self.opt.ask()
            point = tuple(int(v) for v in cand.value)
            self.pending.setdefault(point, []).append(cand)
            out.append(point)
        return out

    def tell(self, point: tuple, value: float) -> None:
        for cand in self.pending.pop(point, []):
            self.opt.tell(cand, -value)  # nevergrad minimises


class RandomSampling:
    def __init__(self, seed: int, budget: int):
        self.rng = np.random.default_rng(seed)

    def ask(self, n: int) -> list[tuple]:
        return [tuple(int(v) for v in self.rng.choice(SLOTS, size=len(CYCLES) - 1)) for _ in range(n)]

    def tell(self, point: tuple, value: float) -> None:
        pass


OPTIMISERS = {
    "Optuna TPE (product)": ProductTPE,
    "nevergrad DiscreteOnePlusOne": lambda seed, budget: Nevergrad("DiscreteOnePlusOne", seed, budget),
    "nevergrad NGOpt": lambda seed, budget: Nevergrad("NGOpt", seed, budget),
    "random sampling": RandomSampling,
}


def search(make, seed: int, budget: int, table: dict, best: float) -> dict:
    """Rounds of PARALLEL_POINTS proposals until `budget` distinct points are evaluated (or the optimiser stops
    proposing new ones); returns the evaluations it took to reach the best (None if it did not), the best found
    and the time spent asking."""
    opt = make(seed, budget)
    seen: dict = {}
    found_at, asked_s, proposals = None, 0.0, 0
    while len(seen) < budget and proposals < 20 * budget:
        t0 = time.perf_counter()
        batch = opt.ask(min(PARALLEL_POINTS, budget - len(seen)))
        asked_s += time.perf_counter() - t0
        if not batch:
            break
        proposals += len(batch)
        for point in batch:
            fresh = point not in seen
            if fresh and len(seen) < budget:
                seen[point] = table[point]
                if found_at is None and seen[point] >= best - 1e-9:
                    found_at = len(seen)
            if point in seen:
                opt.tell(point, seen[point])
    return {"found_at": found_at, "best_found": max(seen.values()), "ask_s": asked_s, "evaluated": len(seen)}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="few seeds and one budget: checks that it works")
    ap.add_argument("--seeds", type=int, default=30)
    ap.add_argument("--budgets", default="30,60")
    args = ap.parse_args(argv)
    seeds = range(3 if args.quick else args.seeds)
    budgets = [30] if args.quick else [int(b) for b in args.budgets.split(",")]
    table, grid_s = grid_table()
    ranked = sorted(table.items(), key=lambda kv: -kv[1])
    (best_point, best), (second_point, second) = ranked[0], ranked[1]
    print(f"Buffer allocation: 4 exponential machines {CYCLES} s, 3 buffers of 0..7 slots = {len(table)} points, "
          f"profit = throughput/h - {WIP_COST:g} x WIP - {SLOT_COST:g} x slots; each point simulated once ({SIM['replications']} replications, "
          f"{SIM['horizon_s']:.0f} s, seed {SIM['seed']}), grid in {grid_s:.1f} s")
    print(f"grid best {best_point} = {best:.3f}; runner-up {second_point} = {second:.3f}; median point "
          f"{statistics.median(table.values()):.3f}")
    print(f"{len(seeds)} seeds per row; rounds of {PARALLEL_POINTS} proposals; a point is charged once\n")
    print(f"{'optimiser':30} {'budget':>6} {'found best':>10} {'evals to best (median)':>23} {'mean regret':>12} "
          f"{'ms/suggestion':>14}")
    summary = []
    for budget in budgets:
        for name, make in OPTIMISERS.items():
            rows = [search(make, seed, budget, table, best) for seed in seeds]
            hits = [r["found_at"] for r in rows if r["found_at"] is not None]
            regret = statistics.fmean(best - r["best_found"] for r in rows)
            ms = 1000 * sum(r["ask_s"] for r in rows) / max(1, sum(r["evaluated"] for r in rows))
            median = f"{statistics.median(hits):.0f}" if hits else "-"
            print(f"{name:30} {budget:>6} {len(hits):>4} / {len(rows):<3} {median:>23} {regret:>12.3f} {ms:>14.1f}")
            summary.append(f"{name} {len(hits)}/{len(rows)} at {budget}")
    print(f"\nNGOpt delegates to {Nevergrad('NGOpt', 0, budgets[-1]).opt.optim.name} for this parametrisation.")
    print("optimizers: " + "; ".join(summary))


if __name__ == "__main__":
    main()
