"""Results of the §7 engine (CONTRACT.md §7): everything of §4 plus throughput by type, scrap, the setup,
waiting-for-operator and off-shift shares, OEE, operator-pool utilisation, bottleneck shares and the
MSER-5 warm-up suggestion.

Bottleneck shares follow the active-period method (Roser, Nakano & Tanaka, 2001): a station is active
while it sets up, works, waits for a worker or is down; at each moment the station whose current active
period is the longest is the momentary bottleneck, and its share is the fraction of the statistics window
it holds that role (times when no station is active belong to nobody, so the shares may add up to < 1).

OEE uses planned time = on-shift time: availability = (planned − down − setup) / planned, performance =
ideal cycle time × parts processed / (planned − down − setup), with the ideal cycle time of each part's
type (`cycle_time_by_type`, else `cycle_time_s`), quality = good parts / parts processed.
"""
from __future__ import annotations

import heapq

import numpy as np

from .line import ASM, CONV, MAC, SNK, SRC, STATE_KEYS, LineNet
from .stats import MSER_BINS, TIMESERIES_BINS, in_system_integral, mean_ci, mser5, playback_times, replication_kpis, wip_fine

FORECAST_BINS = 48  # a forecast's bands: parts out per bin of the horizon, from now (t = 0)


def bottleneck_time(periods: list, lo: float, hi: float, bins: int = 0):
    """Per station, the time within [lo, hi] it was the momentary bottleneck (longest active period);
    with `bins`, also that time per bin of equal width (a list per station), for the shifting bottleneck
    over time."""
    intervals = sorted((a, b, i) for i, ps in enumerate(periods) for a, b in ps if b > a)
    times = sorted({lo, hi} | {a for a, _, _ in intervals} | {b for _, b, _ in intervals})
    out = [0.0] * len(periods)
    per_bin = [[0.0] * bins for _ in periods] if bins else None
    width = (hi - lo) / bins if bins else 0.0
    heap = []  # (-duration, end, station): the longest period covering the current segment on top
    k = 0
    for t0, t1 in zip(times, times[1:]):
        while k < len(intervals) and intervals[k][0] <= t0:
            a, b, i = intervals[k]
            heapq.heappush(heap, (a - b, b, i))
            k += 1
        while heap and heap[0][1] <= t0:
            heapq.heappop(heap)
        if heap and t1 > lo and t0 < hi:
            a, b, s = max(t0, lo), min(t1, hi), heap[0][2]
            out[s] += b - a
            if bins:
                q = min(bins - 1, int((a - lo) / width))
                while a < b:
                    edge = b if q == bins - 1 else min(b, lo + (q + 1) * width)
                    per_bin[s][q] += edge - a
                    a, q = edge, q + 1
    return (out, per_bin) if bins else out


def summarise(net: LineNet, raw: dict, *, horizon_s: float, warmup_s: float, replication: int) -> dict:
    H, w = float(horizon_s), float(warmup_s)
    T = H - w
    starts = raw["wip_starts"][raw["wip_starts"] <= H]
    ends = raw["wip_ends"]
    ends_t = raw["end_time"]
    keep = ends_t >= w
    lead = ends_t[keep] - raw["end_birth"][keep]
    edges = np.linspace(w, H, TIMESERIES_BINS + 1)
    width = T / TIMESERIES_BINS
    g = in_system_integral(starts, ends, edges)
    by_type = {}
    for t, e in zip(raw["end_type"], ends_t):
        if e >= w:
            by_type[t] = by_type.get(t, 0) + 1
    shares, shares_ts = bottleneck_time(raw["periods"], w, H, TIMESERIES_BINS)
    stations = []
    for i in range(net.n):
        k = net.kind[i]
        row = dict.fromkeys(STATE_KEYS, 0.0)
        if k == CONV:
            denom = net.slots[i] * T
            row["working"] = raw["conv_ride"][i] / denom
            row["blocked"] = raw["conv_wait"][i] / denom
        elif k != SNK:
            denom = net.servers[i] * T
            for s, key in enumerate(STATE_KEYS):
                row[key] = raw["acc"][i][s] / denom
        if k == SNK:
            row = dict.fromkeys(STATE_KEYS, 0.0)
        busy = sum(v for key, v in row.items() if key != "idle")
        row["idle"] = max(0.0, 1.0 - busy)
        processed = raw["processed"][i]
        oee = None
        if k in (MAC, ASM):
            planned = 1.0 - row["off_shift"]
            run = planned - row["down"] - row["setup"]
            avail = run / planned if planned > 0 else 0.0
            perf = raw["ideal"][i] / (net.servers[i] * T * run) if run > 0 else 0.0
            quality = (processed - raw["scrapped"][i]) / processed if processed else 0.0
            oee = {"availability": avail, "performance": perf, "quality": quality, "oee": avail * perf * quality}
        stations.append({
            "asset": net.ids[i],
            "throughput_per_hour": float(raw["departures"][i] * 3600.0 / T),
            "mean_queue": float(raw["queue"][i] / T),
            "scrapped": float(raw["scrapped"][i] * 3600.0 / T),
            "processed": int(processed),
            "oee": oee,
            "bottleneck": float(shares[i] / T),
            "bottleneck_ts": [float(v / (T / TIMESERIES_BINS)) for v in shares_ts[i]],
            **{key: float(v) for key, v in row.items()},
        })
    on_time = raw["on_time"]
    resources = [float(raw["pool_busy"][p] / (net.pool_cap[p] * on_time)) if on_time > 0 else 0.0
                 for p in range(len(net.pool_cap))]
    rep = {
        "replication": int(replication),
        "engine": "line",
        "visits": int(raw["visits"]),
        "throughput_per_hour": float(len(lead) * 3600.0 / T),
        "throughput_by_type": {t: c * 3600.0 / T for t, c in by_type.items()},
        "scrap_per_hour": float(sum(raw["scrapped"]) * 3600.0 / T),
        "lead_time_mean": float(lead.mean()) if len(lead) else None,
        "lead_time_p95": float(np.percentile(lead, 95)) if len(lead) else None,
        "lead_count": len(lead),
        "wip": float((g[-1] - g[0]) / T),
        "stations": stations,
        "resources": resources,
        "ts_throughput": [float(v) for v in np.histogram(ends_t, bins=edges)[0] * (3600.0 / width)],
        "ts_wip": [float(v) for v in (np.diff(g) / width)],
        "wip_fine": wip_fine(starts, ends, H),
        "forecast_counts": np.histogram(ends_t, bins=np.linspace(0.0, H, FORECAST_BINS + 1))[0].tolist()
        if net.forecast else None,
        "playback": None,
    }
    if raw.get("playback") is not None:
        rep["playback"] = {"t": [float(v) for v in playback_times(H)],
                           "states": {str(net.ids[i]): raw["playback"][i] for i in range(net.n)}}
    if raw.get("trace") is not None:
        tr = raw["trace"]
        rep["trace"] = {
            "t": rep["playback"]["t"], "states": rep["playback"]["states"],
            "queues": {str(net.ids[i]): tr["queues"][i] for i in range(net.n) if net.kind[i] not in (SRC, SNK)},
            "transit": {str(net.link_ids[j]): tr["transit"][j] for j in range(len(net.link_ids)) if net.tau[j] > 0.0},
            "riding": {str(net.ids[i]): tr["riding"][i] for i in range(net.n) if net.kind[i] == CONV},
        }
    return rep


def forecast(reps: list, H: float) -> dict:
    """§9: from now (t = 0) to the horizon, per bin: the mean over the replications and a 95 % band (the
    2.5th and 97.5th percentiles of the replications), of the throughput and of the cumulative output."""
    counts = np.asarray([r["forecast_counts"] for r in reps], dtype=float)
    width = H / FORECAST_BINS
    rate = counts * (3600.0 / width)
    cum = np.cumsum(counts, axis=1)

    def band(x):
        lo, hi = np.percentile(x, [2.5, 97.5], axis=0)
        return {"mean": x.mean(axis=0).tolist(), "lo": lo.tolist(), "hi": hi.tolist()}

    return {"t": [float((k + 1) * width) for k in range(FORECAST_BINS)], "throughput_per_hour": band(rate),
            "cumulative": band(cum)}


def _bottleneck(net: LineNet, stations: list) -> int | None:
    """§4's rule (stats._bottleneck) with assemblies counted as machines."""
    u = [row["utilization"] for row in stations]
    machines = [i for i in range(net.n) if net.kind[i] in (MAC, ASM)]
    pool = machines or [i for i in range(net.n) if net.kind[i] not in (SNK, SRC)] or \
        [i for i in range(net.n) if net.kind[i] == SRC]
    if not pool:
        return None

    def arrows_point_here(j):
        held_back = max((u[net.src[k]]["blocked"] for k in net.inn[j]), default=0.0) > u[j]["idle"]
        fed = [1.0 if net.kind[net.dst[k]] == SNK else u[net.dst[k]]["idle"] for k in net.out[j]]
        return held_back and min(fed, default=1.0) > u[j]["blocked"]

    cands = [j for j in machines if arrows_point_here(j)] or pool
    best = max(cands, key=lambda i: (round(u[i]["working"] + u[i]["down"] + u[i]["setup"]
                                           + u[i]["waiting_operator"], 12), -u[i]["blocked"], -i))
    return net.ids[best]


def combine(net: LineNet, reps: list, *, horizon_s: float, warmup_s: float) -> dict:
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

        oee = None
        if rows[0]["oee"] is not None:
            oee = {k: float(np.mean([row["oee"][k] for row in rows])) for k in rows[0]["oee"]}
        stations.append({
            "asset": net.ids[i],
            "name": net.names[i],
            "kind": net.model_kinds[i],
            "throughput_per_hour": avg("throughput_per_hour"),
            "mean_queue": avg("mean_queue"),
            "utilization": {k: avg(k) for k in STATE_KEYS},
            "scrapped": avg("scrapped"),
            "oee": oee,
        })
    types = sorted({t for r in reps for t in r["throughput_by_type"]})
    width = (H - w) / TIMESERIES_BINS
    fine = np.mean([r["wip_fine"] for r in reps], axis=0)
    return {
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
        "trace": reps[0].get("trace"),
        "replications": len(reps),
        "engine": "line",
        "station_visits": int(sum(r["visits"] for r in reps)),
        "horizon_s": H,
        "warmup_s": w,
        "replication_kpis": replication_kpis(reps),
        "throughput_by_type": {t: mean_ci([r["throughput_by_type"].get(t, 0.0) for r in reps]) for t in types},
        "scrap_per_hour": mean_ci([r["scrap_per_hour"] for r in reps]),
        "resources": [{"asset": net.pool_ids[p], "name": net.pool_names[p], "capacity": net.pool_cap[p],
                       "utilization": float(np.mean([r["resources"][p] for r in reps]))}
                      for p in range(len(net.pool_cap))],
        "bottleneck_shares": {str(net.ids[i]): float(np.mean([r["stations"][i]["bottleneck"] for r in reps]))
                              for i in range(net.n) if net.kind[i] not in (SNK, SRC)},
        # The shifting bottleneck over time: per timeseries bin, each station's share of it as the bottleneck.
        "bottleneck_timeseries": {str(net.ids[i]): np.mean([r["stations"][i]["bottleneck_ts"] for r in reps], axis=0).tolist()
                                  for i in range(net.n) if net.kind[i] not in (SNK, SRC)},
        "warmup_suggested_s": mser5(fine, H / MSER_BINS),
        **({"forecast": forecast(reps, H)} if net.forecast else {}),
    }

