"""Turns one replication's raw record into a small JSON-able dict, and combines replications into results.

Bottleneck (documented choice): the blocking/starvation "arrow" rule of Kuo, Lim & Meerkov (1996),
generalised to any graph: a machine is a bottleneck candidate when some station feeding it is blocked
more often than the machine is starved (idle), and every station it feeds (a sink counts as always
starved) is starved more often than the machine is blocked. Among candidates, and if there is none
among all machines, the one with the largest active fraction (working + down) wins; ties go to the one
that is blocked less. Without machines, the busiest other station.

`lead_time_s.p95` is the mean over replications of each replication's 95th percentile. A station's
`mean_queue` is the time-average number of parts waiting in front of it (arrived, not started; parts still
in transit are not in it). Utilisation: sources are `working` while the next interarrival runs and
`blocked` while they hold a part nobody takes; buffers are `blocked` for each occupied slot (their parts
wait for room downstream); sinks are always `idle`. `timeseries` has 60 bins over the statistics window,
`playback` 200 samples over the whole horizon of replication 0.
"""
from __future__ import annotations

import math

import numpy as np

from .engine import BLOCKED, DOWN, IDLE, WORKING
from .network import MACHINE, SINK, SOURCE, Network

TIMESERIES_BINS = 60
MSER_BINS = 1000  # WIP is averaged over this many bins of the whole horizon before MSER-5 batches them
MSER_BATCH = 5
PLAYBACK_SAMPLES = 200
STATE_NAMES = {IDLE: "idle", WORKING: "working", BLOCKED: "blocked", DOWN: "down"}


def playback_times(horizon_s: float) -> np.ndarray:
    return np.linspace(0.0, float(horizon_s), PLAYBACK_SAMPLES)


def _integral_below(x_sorted: np.ndarray, t: np.ndarray) -> np.ndarray:
    """F(t) = sum over x <= t of (t - x): the integral up to t of the count of x values <= t."""
    csum = np.concatenate(([0.0], np.cumsum(x_sorted)))
    m = np.searchsorted(x_sorted, t, side="right")
    return m * t - csum[m]


def in_system_integral(starts, ends, t) -> np.ndarray:
    """Integral from 0 to each t of the number of parts that started and have not ended."""
    return _integral_below(np.sort(starts), t) - _integral_below(np.sort(ends), t)


def summarise(net: Network, raw: dict, *, horizon_s: float, warmup_s: float, replication: int,
              engine: str) -> dict:
    H, w = float(horizon_s), float(warmup_s)
    T = H - w
    births = raw["births"][raw["births"] <= H]
    ends = raw["end_time"]
    keep = ends >= w
    lead = ends[keep] - raw["end_birth"][keep]
    edges = np.linspace(w, H, TIMESERIES_BINS + 1)
    width = T / TIMESERIES_BINS
    g = in_system_integral(births, ends, edges)
    wip = float((g[-1] - g[0]) / T)
    ts_wip = (np.diff(g) / width).tolist()
    ts_tp = (np.histogram(ends, bins=edges)[0] * (3600.0 / width)).tolist()
    stations = []
    for i in range(net.n):
        if net.kind[i] == SINK:
            work = down = blk = 0.0
        else:
            denom = net.servers[i] * T
            work, down, blk = raw["working"][i] / denom, raw["down"][i] / denom, raw["blocked"][i] / denom
        stations.append({
            "asset": net.ids[i],
            "throughput_per_hour": float(raw["departures"][i] * 3600.0 / T),
            "mean_queue": float(raw["queue"][i] / T),
            "working": float(work), "down": float(down), "blocked": float(blk),
            "idle": float(max(0.0, 1.0 - work - down - blk)),
        })
    rep = {
        "replication": int(replication),
        "engine": engine,
        "visits": int(raw["visits"]),
        "throughput_per_hour": float(len(lead) * 3600.0 / T),
        "lead_time_mean": float(lead.mean()) if len(lead) else None,
        "lead_time_p95": float(np.percentile(lead, 95)) if len(lead) else None,
        "lead_count": len(lead),
        "wip": wip,
        "stations": stations,
        "ts_throughput": [float(v) for v in ts_tp],
        "ts_wip": [float(v) for v in ts_wip],
        "wip_fine": wip_fine(births, ends, H),
        "playback": None,
    }
    if raw.get("playback") is not None:
        rep["playback"] = {
            "t": [float(v) for v in playback_times(H)],
            "states": {str(net.ids[i]): [STATE_NAMES[c] for c in raw["playback"][i]] for i in range(net.n)},
        }
    if raw.get("trace") is not None:
        tr = raw["trace"]
        rep["trace"] = {
            "t": rep["playback"]["t"], "states": rep["playback"]["states"],
            "queues": {str(net.ids[i]): tr["queues"][i] for i in range(net.n) if net.kind[i] not in (SOURCE, SINK)},
            "transit": {str(net.link_ids[j]): tr["transit"][j] for j in range(len(net.link_ids)) if net.tau[j] > 0.0},
            "riding": {},
        }
    return rep


def mser5(series: np.ndarray, dt: float) -> float:
    """The truncation point (seconds from 0) that MSER-5 picks: batch means of 5 bins, then the d in the
    first half that minimises the squared standard error of the mean of what is left."""
    y = np.asarray(series, dtype=float)
    b = len(y) // MSER_BATCH
    if b < 4:
        return 0.0
    Y = y[:b * MSER_BATCH].reshape(b, MSER_BATCH).mean(axis=1)
    rev = Y[::-1]
    s1 = np.cumsum(rev)[::-1]
    s2 = np.cumsum(rev * rev)[::-1]
    m = np.arange(b, 0, -1, dtype=float)  # batches left after dropping d = 0..b-1
    sse = s2 - s1 * s1 / m
    crit = sse / (m * m)
    half = b // 2
    d = int(np.argmin(crit[:half]))
    return float(d * MSER_BATCH * dt)


def wip_fine(starts, ends, H: float) -> list:
    """Mean WIP over MSER_BINS bins of the whole horizon, for the warm-up suggestion."""
    edges = np.linspace(0.0, H, MSER_BINS + 1)
    return [float(v) for v in np.diff(in_system_integral(starts, ends, edges)) / (H / MSER_BINS)]


def replication_kpis(reps: list) -> dict:
    """Each replication's throughput, lead time and WIP in replication order, for paired comparisons
    between runs that share a seed (twins/services/compare.py)."""
    return {"throughput_per_hour": [r["throughput_per_hour"] for r in reps],
            "lead_time_s": [r["lead_time_mean"] for r in reps],
            "wip": [r["wip"] for r in reps]}


def mean_ci(values) -> dict:
    """Mean and Student-t 95% half-width over replications (0 with a single replication)."""
    v = np.asarray([x for x in values if x is not None], dtype=float)
    if len(v) == 0:
        return {"mean": 0.0, "ci95": 0.0}
    mean = float(v.mean())
    if len(v) < 2:
        return {"mean": mean, "ci95": 0.0}
    from scipy.special import (
        stdtrit,  # the Student-t quantile (scipy.stats.t.ppf), far lighter to import
    )

    half = float(stdtrit(len(v) - 1, 0.975) * v.std(ddof=1) / math.sqrt(len(v)))
    return {"mean": mean, "ci95": half}


def _bottleneck(net: Network, stations: list) -> int | None:
    u = [row["utilization"] for row in stations]
    machines = [i for i in range(net.n) if net.kind[i] == MACHINE]
    pool = machines or [i for i in range(net.n) if net.kind[i] not in (SINK, SOURCE)] or \
        [i for i in range(net.n) if net.kind[i] == SOURCE]
    if not pool:
        return None

    def arrows_point_here(j):
        held_back = max(u[net.src[k]]["blocked"] for k in net.inn[j]) > u[j]["idle"]
        fed = [1.0 if net.kind[net.dst[k]] == SINK else u[net.dst[k]]["idle"] for k in net.out[j]]
        return held_back and min(fed) > u[j]["blocked"]

    cands = [j for j in machines if arrows_point_here(j)] or pool
    best = max(cands, key=lambda i: (round(u[i]["working"] + u[i]["down"], 12), -u[i]["blocked"], -i))
    return net.ids[best]


def combine_reps(net: Network, reps: list, *, horizon_s: float, warmup_s: float) -> dict:
    if not reps:
        raise ValueError("no replications to combine")
    reps = sorted(reps, key=lambda r: r["replication"])
    H, w = float(horizon_s), float(warmup_s)
    lead = mean_ci([r["lead_time_mean"] for r in reps])
    p95 = [r["lead_time_p95"] for r in reps if r["lead_time_p95"] is not None]
    lead["p95"] = float(np.mean(p95)) if p95 else 0.0
    stations = []
    for i in range(net.n):
        rows = [r["stations"][i] for r in reps]

        def avg(key, rows=rows):
            return float(np.mean([row[key] for row in rows]))

        stations.append({
            "asset": net.ids[i],
            "name": net.names[i],
            "kind": net.model_kinds[i],
            "throughput_per_hour": avg("throughput_per_hour"),
            "mean_queue": avg("mean_queue"),
            "utilization": {k: avg(k) for k in ("working", "idle", "blocked", "down")},
        })
    width = (H - w) / TIMESERIES_BINS
    engines = sorted({r["engine"] for r in reps})
    results = {
        "throughput_per_hour": mean_ci([r["throughput_per_hour"] for r in reps]),
        "lead_time_s": lead,
        "wip": mean_ci([r["wip"] for r in reps]),
        "stations": stations,
        "bottleneck": _bottleneck(net, stations),
        "timeseries": {
            "t": [float(w + (k + 0.5) * width) for k in range(TIMESERIES_BINS)],
            "throughput_per_hour": np.mean([r["ts_throughput"] for r in reps], axis=0).tolist(),
            "wip": np.mean([r["ts_wip"] for r in reps], axis=0).tolist(),
        },
        "playback": reps[0]["playback"],
        "replications": len(reps),
        "engine": engines[0] if len(engines) == 1 else "mixed",
        "station_visits": int(sum(r["visits"] for r in reps)),
        "horizon_s": H,
        "warmup_s": w,
        "replication_kpis": replication_kpis(reps),
    }
    if reps[0].get("trace") is not None:
        results["trace"] = reps[0]["trace"]
    _line_model_keys(net, results, reps)
    return results


def _line_model_keys(net: Network, results: dict, reps: list) -> None:
    """The §7 result keys that a §4 layout has too (CONTRACT.md §7): one part type, no scrap, no setups, no
    operators, always on shift; OEE from the working and down shares; the MSER-5 warm-up suggestion. Added
    beside §4's figures, which stay exactly as they were. (Bottleneck shares need the line engine's
    active periods, so a §4 run has none.)"""
    results["throughput_by_type"] = {"part": dict(results["throughput_per_hour"])}
    results["scrap_per_hour"] = {"mean": 0.0, "ci95": 0.0}
    results["resources"] = []
    for i, st in enumerate(results["stations"]):
        u = st["utilization"]
        u.update(setup=0.0, waiting_operator=0.0, off_shift=0.0)
        st["scrapped"] = 0.0
        st["oee"] = None
        if net.kind[i] == MACHINE:
            avail = 1.0 - u["down"]
            perf = net.mean[i] * st["throughput_per_hour"] / 3600.0 / (net.servers[i] * avail) if avail > 0 else 0.0
            st["oee"] = {"availability": avail, "performance": perf, "quality": 1.0, "oee": avail * perf}
    if all(r.get("wip_fine") for r in reps):
        results["warmup_suggested_s"] = mser5(np.mean([r["wip_fine"] for r in reps], axis=0), results["horizon_s"] / MSER_BINS)
