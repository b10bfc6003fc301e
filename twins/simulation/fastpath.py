"""Serial lines as a max-plus (departure-time) recursion, vectorised over stations and replications.

For a line source -> m1 -> ... -> sink of single-server machines, with blocking after service, part n's
times at station i are
    S_i(n) = max(A_i(n), D_i(n-1))             start: the part is there and the server is free
    C_i(n) = S_i(n) + p_i(n)                    completion (p includes repairs of failures in service)
    D_i(n) = max(C_i(n), S_{i+1}(n - b_i))      departure: room on link i (b_i >= 1 slots, transit counts)
           = max(C_i(n), D_{i+1}(n - 1))        for a zero-slot link without transport
    A_{i+1}(n) = D_i(n) + tau_i
Cell (i, n) only needs cells of the anti-diagonal k = i + n before it (or, for b_i = 1 and zero-slot
links, cells of the same diagonal computed earlier in it), so we store the cells skewed by diagonal and
compute a whole diagonal of all stations x all replications with a few numpy operations.
Failures are operation-dependent and exponential, so the failures during a part's p are Poisson(p/MTBF)
and their total repair time is Gamma(count, MTTR): the effective service time is drawn directly.
"""
from __future__ import annotations

import math

import numpy as np

from .engine import BLOCKED, DOWN, IDLE, WORKING
from .network import MACHINE, SINK, SOURCE, UNBOUNDED, Network, sample

BUDGET_CELLS = 6_000_000  # cells (levels x stations x replications) per stored array in one batch
MAX_CELLS_PER_REPLICATION = 12_000_000  # beyond this (about 100 MB an array) the general engine runs it


def _chain(net: Network):
    """Station order source -> ... -> sink if the network is a serial line of single servers, else None."""
    if net.n < 3 or len(net.src) != net.n - 1:
        return None
    sources = [i for i in range(net.n) if net.kind[i] == SOURCE]
    if len(sources) != 1:
        return None
    order, links = [sources[0]], []
    while len(net.out[order[-1]]) == 1:
        j = net.out[order[-1]][0]
        if len(net.inn[net.dst[j]]) != 1:
            return None
        links.append(j)
        order.append(net.dst[j])
        if len(order) > net.n:
            return None
    if len(order) != net.n or net.kind[order[-1]] != SINK:
        return None
    if any(net.kind[i] != MACHINE or net.servers[i] != 1 for i in order[1:-1]):
        return None
    return order, links


def applicable(net: Network, horizon_s: float | None = None) -> bool:
    """A serial line of single servers, small enough that one replication's arrays fit in memory."""
    if _chain(net) is None:
        return False
    return horizon_s is None or (_parts_estimate(net, horizon_s) + net.n) * net.n <= MAX_CELLS_PER_REPLICATION


def batch_size(net: Network, horizon_s: float) -> int:
    order, _ = _chain(net)
    levels = _parts_estimate(net, horizon_s) + len(order)
    return max(1, min(64, BUDGET_CELLS // (levels * len(order))))


def _parts_estimate(net: Network, horizon_s: float) -> int:
    """Parts that leave the source by the horizon, generously: the slowest station up to the first
    unbounded link sets the pace, plus what the line can store."""
    order, links = _chain(net)
    rate, storage = math.inf, 0
    for i, j in zip(order, links + [None]):
        if net.kind[i] != SINK:
            mean = net.mean[i]
            if net.mtbf[i]:
                mean *= (net.mtbf[i] + net.mttr[i]) / net.mtbf[i]
            rate = min(rate, 1.0 / mean if mean > 0 else math.inf)
            storage += 1
        if j is None or net.cap[j] >= UNBOUNDED:
            break
        storage += net.cap[j]
    base = rate * horizon_s if math.isfinite(rate) else 0.0
    return int(base * 1.05 + 8.0 * math.sqrt(base + 1.0) + storage + 32)


def _draw(net, order, seed, replications, N):
    """Effective and pure service times, drawn straight into the diagonal layout (K, L, R): part n of
    column c sits at level n + c. Each replication reads only its own streams."""
    L, R = len(order), len(replications)
    K = N + L
    P = np.zeros((K, L, R))
    fails = any(net.mtbf[i] for i in order)
    W = np.zeros((K, L, R)) if fails else P
    for r, rep in enumerate(replications):
        streams = net.streams(seed, rep)
        for col, i in enumerate(order):
            p = sample(streams(i, 0), net.mean[i], net.cv[i], N)
            if col == 0 and net.lag[net.out[i][0]] > 0.0:
                p[0] = net.lag[net.out[i][0]]  # a supply link: only the first part travels (Network)
            if fails:
                W[col:col + N, col, r] = p
                if net.mtbf[i] and net.mttr[i] > 0:
                    g = streams(i, 1)
                    count = g.poisson(p / net.mtbf[i])
                    p = p + g.gamma(count.astype(float), net.mttr[i])
            P[col:col + N, col, r] = p
    return P, W


def _recursion(net, order, links, P):
    """S and D in the diagonal layout: X[k, c] is part k - c at column c."""
    K, L, R = P.shape
    S = np.empty((K, L, R))
    D = np.empty((K, L, R))
    tau = np.array([net.tau[j] for j in links])[:, None]
    moving = bool(tau.any())
    sink_direct = net.tau[links[-1]] == 0.0
    groups = {}
    zero = []
    for col, j in enumerate(links):
        b = net.cap[j]
        if b >= UNBOUNDED or (col == L - 2 and sink_direct):
            continue
        if b == 0:
            zero.append(col)
        else:
            groups.setdefault(b, []).append(col)
    runs = []  # contiguous runs of columns with the same b, so that slices (not fancy indexing) do
    for b, c in sorted(groups.items()):
        start = c[0]
        for x, y in zip(c, c[1:] + [None]):
            if y != x + 1:
                runs.append((b, slice(start, x + 1), slice(start + 1, x + 2)))
                start = y
    zero.sort(reverse=True)
    A = np.empty((L, R))
    A[0] = 0.0
    A[1:] = -np.inf
    S[0] = A
    np.add(S[0], P[0], out=D[0])
    D[0, -1] = -np.inf
    for k in range(K):
        Sk, Dk = S[k], D[k]
        if k:
            prev = D[k - 1]
            if moving:
                np.add(prev[:-1], tau, out=A[1:])
                np.maximum(A, prev, out=Sk)
            else:
                np.maximum(prev[:-1], prev[1:], out=Sk[1:])
                np.maximum(prev[0], 0.0, out=Sk[0])
                A[-1] = prev[-2]
            Sk[-1] = A[-1]
            np.add(Sk, P[k], out=Dk)
        for b, c, c1 in runs:
            if k + 1 - b >= 0:
                np.maximum(Dk[c], S[k + 1 - b, c1], out=Dk[c])
        for c in zero:
            np.maximum(Dk[c], Dk[c + 1], out=Dk[c])
        Dk[-1] = Sk[-1]
    return S, D


def _clipped_sum(x, w, H, out):
    """Per column and replication (shape (L, R)), the sum over levels of x clipped to the window [w, H];
    `out` is scratch space at least as large as x. numpy sums over the outer axis level by level, but a
    single column of a single replication is a contiguous vector that it would sum pairwise: a running
    sum keeps a replication's figures independent of its batch, bit for bit."""
    o = out[:x.shape[0], :x.shape[1]]
    np.clip(x, w, H, out=o)
    if o[0].size == 1:
        return np.cumsum(o, axis=0)[-1]
    return o.sum(axis=0)


def run_fastpath(net: Network, *, horizon_s: float, warmup_s: float, seed: int, replications: list,
                 playback_t=None) -> list:
    """Raw records (as engine.run_general returns) for the given replications."""
    order, links = _chain(net)
    H, w = float(horizon_s), float(warmup_s)
    L = len(order)
    N = _parts_estimate(net, H)
    while True:
        P, Wk = _draw(net, order, seed, replications, N)
        S, D = _recursion(net, order, links, P)
        if np.all(D[N - 1, 0] > H):  # the last part drawn left the source after the horizon: enough
            break
        N *= 2
    # Every cell has S <= S + work <= C <= D, so the time an interval [a, b] spends in the window is
    # clip(b) - clip(a), and a station's totals are differences of column sums of clipped times. Cells
    # before the first part (-inf) or past the last one (after the horizon) clip to equal values and
    # cancel out.
    C = S + P
    buf = np.empty_like(S)
    sum_s = _clipped_sum(S, w, H, buf)
    sum_c = _clipped_sum(C, w, H, buf)
    if Wk is P:
        working, down = sum_c - sum_s, np.zeros_like(sum_s)
    else:
        sum_w = _clipped_sum(S + Wk, w, H, buf)
        working, down = sum_w - sum_s, sum_c - sum_w
    blocked = _clipped_sum(D, w, H, buf) - sum_c
    # Part n reaches column c (level n + c) when it left column c - 1 (level n + c - 1), plus the trip.
    tau = np.array([net.tau[j] for j in links])
    arrive = D[:-1, :-2] + tau[:-1, None]
    queue = _clipped_sum(S[1:, 1:-1], w, H, buf) - _clipped_sum(arrive, w, H, buf)
    departures = (D <= H).sum(axis=0) - (D < w).sum(axis=0)
    inner = C[:, 1:-1]
    visits = (inner <= H).sum(axis=(0, 1)) - (inner == -np.inf).sum(axis=(0, 1))  # not cells before part 0
    raws = []
    for r, rep in enumerate(replications):
        birth = D[:N, 0, r]
        handed = birth <= H
        lag = net.lag[links[0]]
        if lag > 0.0:
            # Sent just in time for a handover; like the event engine, only handovers by the horizon exist.
            birth = np.maximum(birth - lag, 0.0)
        arrive = S[L - 1:L - 1 + N, L - 1, r]
        done = arrive <= H
        raw = {
            "births": birth[handed],
            "end_birth": birth[done],
            "end_time": arrive[done],
            "working": [0.0] * net.n, "down": [0.0] * net.n, "blocked": [0.0] * net.n,
            "queue": [0.0] * net.n, "departures": [0] * net.n,
            "visits": int(visits[r]),
            "playback": None,
        }
        for col, i in enumerate(order):
            if col == L - 1:
                raw["departures"][i] = int(((arrive >= w) & done).sum())
                continue
            raw["working"][i] = float(working[col, r])
            raw["down"][i] = float(down[col, r])
            raw["blocked"][i] = float(blocked[col, r])
            raw["queue"][i] = float(queue[col - 1, r]) if col else 0.0
            raw["departures"][i] = int(departures[col, r])
        if playback_t is not None and rep == 0:
            cells = (np.arange(N)[:, None] + np.arange(L)[None, :], np.arange(L)[None, :], r)
            raw["playback"] = _playback(net, order, S[cells], Wk[cells], C[cells], D[cells],
                                        np.asarray(playback_t, dtype=float))
            raw["trace"] = _trace(net, order, links, S[cells], D[cells], np.asarray(playback_t, dtype=float))
        raws.append(raw)
    return raws


def _playback(net, order, s, wk, c, d, times):
    codes = [None] * net.n
    for col, i in enumerate(order):
        if col == len(order) - 1:
            codes[i] = [IDLE] * len(times)
            continue
        idx = np.searchsorted(s[:, col], times, side="right") - 1
        ok = idx >= 0
        k = np.where(ok, idx, 0)
        tw, tc, td = s[k, col] + wk[k, col], c[k, col], d[k, col]
        code = np.where(times < tw, WORKING, np.where(times < tc, DOWN, np.where(times < td, BLOCKED, IDLE)))
        codes[i] = np.where(ok & (times < td), code, IDLE).astype(int).tolist()
    return codes


def _trace(net, order, links, s, d, times):
    """Parts waiting in front of each station and in transit on each link at the sample times: a line is
    first in first out, so arrival, start and departure times grow with the part number and each count is
    a difference of two searchsorted positions."""
    queues = [[0] * len(times) for _ in range(net.n)]
    transit = [[[] for _ in times] for _ in range(len(net.dst))]
    for col in range(1, len(order)):
        j = links[col - 1]
        arrive = d[:, col - 1] + net.tau[j]
        if col < len(order) - 1:
            waiting = np.searchsorted(arrive, times, side="right") - np.searchsorted(s[:, col], times, side="right")
            queues[order[col]] = np.maximum(waiting, 0).astype(int).tolist()
        if net.tau[j] > 0.0:
            left = d[:, col - 1]
            lo = np.searchsorted(arrive, times, side="right")
            hi = np.searchsorted(left, times, side="right")
            transit[j] = [[round(float((t - left[k]) / net.tau[j]), 3) for k in range(a, b)]
                          for t, a, b in zip(times, lo, hi)]
    return {"queues": queues, "transit": transit}

