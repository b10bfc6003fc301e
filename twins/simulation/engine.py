"""General event-driven engine: a heapq event list, pre-drawn random numbers, any flow network.

Per station the servers are working, down, blocked (holding a finished part, blocking after service) or
idle. A link holds the parts in transit on it plus those waiting at its target; the queue in front of a
station is the FIFO union of its incoming links. A finished part picks its outgoing link at random by
weight at once and waits for that link if it is full. A source behaves like a machine whose work is the
interarrival time: if nobody takes its part it holds it (blocked) and draws the next interarrival only
once the part has left; an unlimited source (no interarrival) has one server per connection and hands
its next part over at once, so no branch behind it starves; a transport time on such a connection delays
only the first part, the later ones having been sent just in time (their lead time includes the trip).
Failures are per server, their clock runs only while it works, and the part resumes after the repair.
Times in each state are added up when an interval is known (a work segment when it is scheduled, a
block when it ends), clipped to [warm-up, horizon], so the hot loop never visits a station just to keep
its clock.
"""
from __future__ import annotations

from collections import deque
from heapq import heappop, heappush

import numpy as np

from .network import SINK, SOURCE, Network, sample

CHUNK = 1024
CANCEL_CHECKS = 64  # how often a replication asks `should_cancel()`: at every 1/64 of its horizon
IDLE, WORKING, BLOCKED, DOWN = 0, 1, 2, 3
_END, _FAIL, _REPAIR, _ARRIVE = 0, 1, 2, 3
# Heap items are (time, key, birth): key < number of servers is that server's pending event, otherwise
# an arrival on link key - servers. Ties break on the key, so the order is deterministic without a counter.


class Cancelled(Exception):
    """`should_cancel()` said stop; no results."""


def run_general(net: Network, *, horizon_s: float, warmup_s: float, seed: int, replication: int,
                playback_t=None, should_cancel=None) -> dict:
    """One replication; returns the raw record that `stats.summarise` turns into results. A long one asks
    `should_cancel()` every 1/CANCEL_CHECKS of its simulated horizon and raises Cancelled when told to."""
    H, warm = float(horizon_s), float(warmup_s)
    n = net.n
    kind, servers = net.kind, net.servers
    streams = net.streams(seed, replication)
    out, cumw = net.out, net.cumw
    dst, tau, cap, lag = net.dst, net.tau, net.cap, net.lag
    is_sink = [k == SINK for k in kind]
    is_source = [k == SOURCE for k in kind]
    fails = [m is not None for m in net.mtbf]
    in_direct = [[j for j in net.inn[i] if cap[j] == 0 and tau[j] == 0.0] for i in range(n)]
    single_out = [outs[0] if len(outs) == 1 else -1 for outs in out]

    # Pre-drawn numbers, refilled a chunk at a time: service times, failure clocks, routing uniforms.
    svc_buf = [[] for _ in range(n)]
    svc_pos = [0] * n
    fail_buf = [[] for _ in range(n)]
    fail_pos = [0] * n
    rt_buf = [[] for _ in range(n)]
    rt_pos = [0] * n

    def refill_svc(s):
        svc_buf[s] = sample(streams(s, 0), net.mean[s], net.cv[s], CHUNK).tolist()

    def draw_fail(s, mean):
        # One stream alternates times-to-failure and repairs; both are exponential, scaled here.
        p = fail_pos[s]
        if p >= len(fail_buf[s]):
            fail_buf[s] = streams(s, 1).standard_exponential(CHUNK).tolist()
            p = 0
        fail_pos[s] = p + 1
        return fail_buf[s][p] * mean

    for s in range(n):
        refill_svc(s)

    st_of = []
    route = []  # the link a server's finished part takes, or -1 to draw one by weight
    for i in range(n):
        k = 0 if is_sink[i] else servers[i]
        st_of += [i] * k
        if net.unlimited[i] and len(out[i]) > 1:
            route += out[i][:k]  # an unlimited source has one server per connection
        else:
            route += [single_out[i]] * k
    ns = len(st_of)
    s_part = [0.0] * ns
    s_rem = [0.0] * ns
    s_ttf = [draw_fail(st_of[g], net.mtbf[st_of[g]]) if fails[st_of[g]] else 0.0 for g in range(ns)]
    s_btime = [0.0] * ns
    s_blocked = [False] * ns
    idle = [[] for _ in range(n)]
    acc_w, acc_d, acc_b, acc_q = [0.0] * n, [0.0] * n, [0.0] * n, [0.0] * n
    dep = [0] * n
    waiting = [deque() for _ in range(n)]
    cnt = [0] * len(dst)
    blocked = [deque() for _ in range(len(dst))]
    births, end_birth, end_time = [], [], []
    visits = 0
    heap = []
    s_ev = [0] * ns  # the one pending event of each server: _END, _FAIL or _REPAIR
    now = 0.0
    sampling = playback_t is not None
    pb_t = [float(t) for t in playback_t] if sampling else []
    pb_n = len(pb_t)
    pb_next = [0] * n
    pb = [[] for _ in range(n)]
    counts = [[0, 0, 0] for _ in range(n)]  # working, down, blocked servers (replication 0 only)
    # The trace for parts playback (replication 0): parts waiting per station and in transit per link.
    transit = [deque() for _ in range(len(dst))] if sampling else None  # arrival times, in order (one tau a link)
    tr_queue = [[] for _ in range(n)]
    tr_transit = [[] for _ in range(len(dst))]
    tr_k = 0
    tr_at = pb_t[0] if sampling and pb_n else float("inf")

    def mark(s, dw, dd, db):
        # Playback samples before `now` see the state that held until now; then apply the change.
        c = counts[s]
        p = pb_next[s]
        if p < pb_n and pb_t[p] < now:
            code = _code(c)
            while p < pb_n and pb_t[p] < now:
                pb[s].append(code)
                p += 1
            pb_next[s] = p
        c[0] += dw
        c[1] += dd
        c[2] += db

    def process(g, s):
        # Resume work after a repair: schedule its end, or the next failure if that comes first.
        rem = s_rem[g]
        if s_ttf[g] < rem:
            rem = s_ttf[g]
            s_rem[g] -= rem
            s_ev[g] = _FAIL
        else:
            s_ttf[g] -= rem
            s_ev[g] = _END
        heappush(heap, (now + rem, g, 0.0))
        end = now + rem
        if end > warm:
            acc_w[s] += (end if end < H else H) - (now if now > warm else warm)  # noqa: FURB136 (faster than min/max here)

    def start(g, s, birth):
        """Server g of station s begins a part: draw its work, schedule its end (or first failure)."""
        s_part[g] = birth
        p = svc_pos[s]
        if p == CHUNK:
            refill_svc(s)
            p = 0
        svc_pos[s] = p + 1
        rem = svc_buf[s][p]
        if sampling:
            mark(s, 1, 0, 0)
        if fails[s]:
            ttf = s_ttf[g]
            if ttf < rem:
                s_rem[g] = rem - ttf
                rem = ttf
                s_ev[g] = _FAIL
            else:
                s_ttf[g] = ttf - rem
                s_ev[g] = _END
        heappush(heap, (now + rem, g, 0.0))
        end = now + rem
        if end > warm:
            acc_w[s] += (end if end < H else H) - (now if now > warm else warm)  # noqa: FURB136 (faster than min/max here)

    def put(birth, j):
        """Try to move a part onto link j; True if it left."""
        if tau[j] > 0.0:
            if cnt[j] < cap[j]:
                cnt[j] += 1
                heappush(heap, (now + tau[j], ns + j, birth))
                if sampling:
                    transit[j].append(now + tau[j])
                return True
            return False
        t = dst[j]
        if is_sink[t]:
            if now >= warm:
                dep[t] += 1
            end_birth.append(birth)
            end_time.append(now)
            return True
        if idle[t]:
            start(idle[t].pop(), t, birth)
            return True
        if cnt[j] < cap[j]:
            cnt[j] += 1
            waiting[t].append((birth, j, now))
            return True
        return False

    def unblock(j):
        """Link j has room: the longest-blocked server waiting for it moves; returns it, or -1."""
        bj = blocked[j]
        if not bj:
            return -1
        up = bj.popleft()
        su = st_of[up]
        s_blocked[up] = False
        if now > warm:
            bt = s_btime[up]
            acc_b[su] += now - (bt if bt > warm else warm)  # noqa: FURB136 (faster than min/max here)
        if sampling:
            mark(su, 0, 0, -1)
        if is_source[su]:
            b = now - lag[j]
            if b < 0.0:
                b = 0.0
            put(b, j)
            births.append(b)
        else:
            put(s_part[up], j)
        if now >= warm:
            dep[su] += 1
        return up

    def free(g):
        """Server g has just lost its part: refill it, then let the chain of unblocked servers move."""
        while g >= 0:
            s = st_of[g]
            if is_source[s]:
                start(g, s, 0.0)
                return
            w = waiting[s]
            if w:
                birth, j, tq = w.popleft()
                if now > warm:
                    acc_q[s] += now - (tq if tq > warm else warm)  # noqa: FURB136 (faster than min/max here)
                cnt[j] -= 1
                start(g, s, birth)
                g = unblock(j) if blocked[j] else -1
                continue
            idle[s].append(g)
            best = -1
            for j in in_direct[s]:
                if blocked[j] and (best < 0 or s_btime[blocked[j][0]] < s_btime[blocked[best][0]]):
                    best = j
            # A zero-slot link: its blocked part goes straight into the idle server g.
            g = unblock(best) if best >= 0 else -1

    for g in range(ns):
        s = st_of[g]
        if is_source[s] and route[g] >= 0 and lag[route[g]] > 0.0:
            # The first part of a supply link travels; the later ones were sent just in time.
            heappush(heap, (lag[route[g]], g, 0.0))
            end = lag[route[g]]
            if end > warm:
                acc_w[s] += min(end, H) - warm
            if sampling:
                mark(s, 1, 0, 0)
        elif is_source[s]:
            start(g, s, 0.0)
        else:
            idle[s].append(g)

    def trace_until(t_end):
        nonlocal tr_k, tr_at
        while tr_k < pb_n and pb_t[tr_k] < t_end:
            t = pb_t[tr_k]
            for s in range(n):
                tr_queue[s].append(len(waiting[s]))
            for j in range(len(dst)):
                if tau[j] > 0.0:
                    tr_transit[j].append([round(1.0 - (arr - t) / tau[j], 3) for arr in transit[j]])
            tr_k += 1
        tr_at = pb_t[tr_k] if tr_k < pb_n else float("inf")

    check_every = H / CANCEL_CHECKS
    check_at = check_every if should_cancel is not None else float("inf")
    stop_at = min(check_at, tr_at)
    while heap:
        item = heappop(heap)
        if item[0] > H:
            break
        now, g, birth = item
        if now >= stop_at:  # one float compare per event when nobody samples or can cancel
            if now > tr_at:
                trace_until(now)
            if now >= check_at:
                check_at = now + check_every
                if should_cancel():
                    raise Cancelled()
            stop_at = min(check_at, tr_at)
        ev = s_ev[g] if g < ns else _ARRIVE
        if ev == _END:
            s = st_of[g]
            if sampling:
                mark(s, -1, 0, 0)
            j = route[g]
            if j < 0:
                u = rt_pos[s]
                if u >= len(rt_buf[s]):
                    rt_buf[s] = streams(s, 2).random(CHUNK).tolist()
                    u = 0
                rt_pos[s] = u + 1
                u = rt_buf[s][u]
                cw = cumw[s]
                k = 0
                while cw[k] < u:
                    k += 1
                j = out[s][k]
            if is_source[s]:
                b = now - lag[j]
                if b < 0.0:
                    b = 0.0
                if put(b, j):
                    births.append(b)
                    if now >= warm:
                        dep[s] += 1
                    start(g, s, 0.0)
                    continue
            else:
                visits += 1
                if put(s_part[g], j):
                    if now >= warm:
                        dep[s] += 1
                    free(g)
                    continue
            s_blocked[g] = True
            s_btime[g] = now
            blocked[j].append(g)
            if sampling:
                mark(s, 0, 0, 1)
        elif ev == _ARRIVE:
            j = g - ns
            t = dst[j]
            if sampling:
                transit[j].popleft()
            if is_sink[t]:
                cnt[j] -= 1
                if now >= warm:
                    dep[t] += 1
                end_birth.append(birth)
                end_time.append(now)
            elif idle[t]:
                cnt[j] -= 1
                start(idle[t].pop(), t, birth)
            else:
                waiting[t].append((birth, j, now))
                continue
            up = unblock(j)
            if up >= 0:
                free(up)
        elif ev == _FAIL:
            s = st_of[g]
            r = draw_fail(s, net.mttr[s])
            if now + r > warm:
                acc_d[s] += min(now + r, H) - max(now, warm)
            if sampling:
                mark(s, -1, 1, 0)
            s_ev[g] = _REPAIR
            heappush(heap, (now + r, g, 0.0))
        else:  # _REPAIR
            s = st_of[g]
            if sampling:
                mark(s, 1, -1, 0)
            s_ttf[g] = draw_fail(s, net.mtbf[s])
            process(g, s)

    if sampling:
        trace_until(float("inf"))
    for g in range(ns):
        if s_blocked[g]:
            acc_b[st_of[g]] += H - max(s_btime[g], warm)
    for s in range(n):
        for _, _, tq in waiting[s]:
            acc_q[s] += H - max(tq, warm)
    return {
        "births": np.asarray(births, dtype=float),
        "end_birth": np.asarray(end_birth, dtype=float),
        "end_time": np.asarray(end_time, dtype=float),
        "working": acc_w, "down": acc_d, "blocked": acc_b, "queue": acc_q,
        "departures": dep, "visits": visits,
        "playback": [pb[s] + [_code(counts[s])] * (pb_n - len(pb[s])) for s in range(n)] if sampling else None,
        "trace": {"queues": tr_queue, "transit": tr_transit} if sampling else None,
    }


def _code(counts) -> int:
    """One state for a station with several servers: down, else working, else blocked, else idle."""
    return DOWN if counts[1] else WORKING if counts[0] else BLOCKED if counts[2] else IDLE
