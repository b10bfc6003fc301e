"""Comparing two runs (CONTRACT.md §8 `compare`): paired differences when both used the same seed and
replications (common random numbers: replication r of each saw the same random numbers), Welch's
unequal-variance test otherwise. Pure statistics over the runs' results."""
from __future__ import annotations

import math

import numpy as np

from ..errors import Invalid
from ..models import SimulationRun

KPIS = ("throughput_per_hour", "lead_time_s", "wip")


def _per_replication(run: SimulationRun, kpi: str):
    values = ((run.results or {}).get("replication_kpis") or {}).get(kpi)
    return None if values is None else [v for v in values]


def paired(a: list, b: list) -> dict:
    """Mean difference a − b replication by replication, its 95 % half-width and the two-sided p."""
    from scipy import stats

    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    n = len(d)
    mean = float(d.mean())
    if n < 2:
        return {"diff": mean, "ci95": 0.0, "p": None}
    sd = float(d.std(ddof=1))
    half = float(stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n))
    p = 1.0 if sd == 0 and mean == 0 else (0.0 if sd == 0 else float(2 * stats.t.sf(abs(mean) / (sd / math.sqrt(n)), n - 1)))
    return {"diff": mean, "ci95": half, "p": p}


def welch(mean_a, var_a, n_a, mean_b, var_b, n_b) -> dict:
    from scipy import stats

    diff = float(mean_a - mean_b)
    if n_a < 2 or n_b < 2:
        return {"diff": diff, "ci95": 0.0, "p": None}
    se2 = var_a / n_a + var_b / n_b
    if se2 == 0:
        return {"diff": diff, "ci95": 0.0, "p": 1.0 if diff == 0 else 0.0}
    df = se2 ** 2 / ((var_a / n_a) ** 2 / (n_a - 1) + (var_b / n_b) ** 2 / (n_b - 1))
    half = float(stats.t.ppf(0.975, df) * math.sqrt(se2))
    p = float(2 * stats.t.sf(abs(diff) / math.sqrt(se2), df))
    return {"diff": diff, "ci95": half, "p": p}


def _moments(run: SimulationRun, kpi: str):
    """Mean, variance and n of a KPI over a run's replications; from its ci95 for runs that predate the
    per-replication figures (the half-width is t · sd / √n)."""
    from scipy import stats

    values = _per_replication(run, kpi)
    if values is not None:
        v = np.asarray([x for x in values if x is not None], dtype=float)
        return float(v.mean()) if len(v) else 0.0, float(v.var(ddof=1)) if len(v) > 1 else 0.0, len(v)
    stat = run.results[kpi]
    n = int(run.results.get("replications", run.params.get("replications", 1)))
    sd = stat["ci95"] * math.sqrt(n) / stats.t.ppf(0.975, n - 1) if n > 1 else 0.0
    return stat["mean"], sd * sd, n


def compare_runs(a: SimulationRun, b: SimulationRun) -> dict:
    for run in (a, b):
        if run.status != SimulationRun.Status.SUCCEEDED or not run.results:
            raise Invalid(f"Run {run.id} is {run.status}; only runs with results can be compared.")
    same = a.params.get("seed") == b.params.get("seed") and a.params.get("replications") == b.params.get("replications")
    out = {}
    for kpi in KPIS:
        ra, rb = _per_replication(a, kpi), _per_replication(b, kpi)
        row = {"a": {k: a.results[kpi][k] for k in ("mean", "ci95")}, "b": {k: b.results[kpi][k] for k in ("mean", "ci95")}}
        if same and ra is not None and rb is not None and len(ra) == len(rb) and None not in ra and None not in rb:
            row.update(paired(ra, rb), paired=True)
        else:
            row.update(welch(*_moments(a, kpi), *_moments(b, kpi)), paired=False)
        out[kpi] = row
    return out
