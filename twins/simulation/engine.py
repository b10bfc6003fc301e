"""General event-driven engine: a heapq event list, pre-drawn random numbers, any flow network.

Per station the servers are working, down, blocked (holding a finished part, blocking after service) or
idle. A link holds the parts in transit on it plus those waiting at its target; the queue in front of a
station is the FIFO union of its incoming links. A finished part picks its outgoing link at random by
weight at once and waits for that link if it is full.
"""
from __future__ import annotations

from collections import deque
from heapq import heappop, heappush

import numpy as np

from .network import BUFFER, MACHINE, SINK, SOURCE, Network, sample

CHUNK = 1024
IDLE, WORKING, BLOCKED, DOWN = 0, 1, 2, 3
_END, _FAIL, _REPAIR, _ARRIVE = 0, 1, 2, 3


class _Draws:
    """Pre-drawn numbers from one generator, handed out one by one (numpy per call would be too slow)."""

    __slots__ = ("gen", "mean", "cv", "buf", "pos")

    def __init__(self, gen, mean, cv):
        self.gen, self.mean, self.cv = gen, mean, cv
        self.buf, self.pos = [], 0

    def __call__(self) -> float:
        if self.pos >= len(self.buf):
            if self.cv is None:
                self.buf = self.gen.random(CHUNK).tolist()
            else:
                self.buf = sample(self.gen, self.mean, self.cv, CHUNK).tolist()
            self.pos = 0
        v = self.buf[self.pos]
        self.pos += 1
        return v


def run_general(net: Network, *, horizon_s: float, warmup_s: float, seed: int, replication: int,
                playback_t=None) -> dict:
    """One replication; returns the raw record that `stats.summarise` turns into results."""
    H, warm = float(horizon_s), float(warmup_s)
    n = net.n
    kind, servers = net.kind, net.servers
    streams = net.streams(seed, replication)
    svc = [_Draws(streams[i][0], net.mean[i], net.cv[i]) for i in range(n)]
    ttf_draw = [_Draws(streams[i][1], net.mtbf[i], 1.0) if net.mtbf[i] else None for i in range(n)]
    ttr_draw = [_Draws(streams[i][1], net.mttr[i], 1.0) if net.mtbf[i] else None for i in range(n)]
    route = [_Draws(streams[i][2], 0.0, None) if len(net.out[i]) > 1 else None for i in range(n)]
    out, cumw = net.out, net.cumw
    dst, tau, cap = net.dst, net.tau, net.cap
    is_sink = [k == SINK for k in kind]
    is_source = [k == SOURCE for k in kind]
    in_direct = [[j for j in net.inn[i] if cap[j] == 0 and tau[j] == 0.0] for i in range(n)]

    # Servers are numbered globally; st_of maps a server to its station.
    st_of = []
    for i in range(n):
        st_of += [i] * (0 if is_sink[i] else servers[i])
    ns = len(st_of)
    s_part = [0.0] * ns          # birth time of the part a server holds
    s_rem = [0.0] * ns           # remaining work of that part
    s_ttf = [ttf_draw[st_of[g]]() if ttf_draw[st_of[g]] else 0.0 for g in range(ns)]
    s_link = [0] * ns            # link a blocked server waits for
    s_btime = [0.0] * ns         # when it blocked (FIFO among blocked servers)
    idle = [[] for _ in range(n)]
    nw, nd, nb = [0] * n, [0] * n, [0] * n
    acc_w, acc_d, acc_b, acc_q = [0.0] * n, [0.0] * n, [0.0] * n, [0.0] * n
    last = [0.0] * n
    dep = [0] * n
    waiting = [deque() for _ in range(n)]
    cnt = [0] * len(dst)
    blocked = [deque() for _ in range(len(dst))]
    births, end_birth, end_time = [], [], []
    visits = 0
    heap = []
    seq = 0
    now = 0.0

    sampling = playback_t is not None
    pb_t = list(playback_t) if sampling else []
    pb_ptr = [0] * n
    pb = [[] for _ in range(n)] if sampling else None

    def touch(s):
        lt = last[s]
        if now > lt:
            if sampling:
                p = pb_ptr[s]
                if p < len(pb_t) and pb_t[p] < now:
                    code = DOWN if nd[s] else WORKING if nw[s] else BLOCKED if nb[s] else IDLE
                    while p < len(pb_t) and pb_t[p] < now:
                        pb[s].append(code)
                        p += 1
                    pb_ptr[s] = p
            if now > warm:
                dt = now - (lt if lt > warm else warm)
                acc_w[s] += nw[s] * dt
                if nd[s]:
                    acc_d[s] += nd[s] * dt
                if nb[s]:
                    acc_b[s] += nb[s] * dt
                if waiting[s]:
                    acc_q[s] += len(waiting[s]) * dt
            last[s] = now

    def process(g, s):
        # Schedule the end of the current work, or the failure that interrupts it first.
        nonlocal seq
        rem = s_rem[g]
        seq += 1
        if ttf_draw[s] is not None and s_ttf[g] < rem:
            s_rem[g] = rem - s_ttf[g]
            heappush(heap, (now + s_ttf[g], seq, _FAIL, g, 0.0))
        else:
            if ttf_draw[s] is not None:
                s_ttf[g] -= rem
            heappush(heap, (now + rem, seq, _END, g, 0.0))

    def start(g, s, birth):
        touch(s)
        nw[s] += 1
        s_part[g] = birth
        s_rem[g] = svc[s]()
        process(g, s)

    def absorb(birth):
        end_birth.append(birth)
        end_time.append(now)

    def put(birth, j):
        """Try to move a part onto link j; True if it left."""
        nonlocal seq
        if tau[j] > 0.0:
            if cnt[j] < cap[j]:
                cnt[j] += 1
                seq += 1
                heappush(heap, (now + tau[j], seq, _ARRIVE, j, birth))
                return True
            return False
        t = dst[j]
        if is_sink[t]:
            dep[t] += now >= warm
            absorb(birth)
            return True
        if idle[t]:
            start(idle[t].pop(), t, birth)
            return True
        if cnt[j] < cap[j]:
            cnt[j] += 1
            touch(t)
            waiting[t].append((birth, j))
            return True
        return False

    def leave(g, s, j):
        """Server g of station s hands its part to link j; False if the link is full."""
        birth = now if is_source[s] else s_part[g]
        if not put(birth, j):
            return False
        if is_source[s]:
            births.append(now)
        if now >= warm:
            dep[s] += 1
        return True

    def free(g):
        """Server g has just lost its part: refill it, then let the chain of unblocked servers move."""
        todo = [g]
        while todo:
            g = todo.pop()
            s = st_of[g]
            if is_source[s]:
                start(g, s, 0.0)
                continue
            w = waiting[s]
            if w:
                touch(s)
                birth, j = w.popleft()
                cnt[j] -= 1
                start(g, s, birth)
                up = _unblock(j)
                if up >= 0:
                    todo.append(up)
                continue
            touch(s)
            idle[s].append(g)
            best = -1
            for j in in_direct[s]:
                if blocked[j] and (best < 0 or s_btime[blocked[j][0]] < s_btime[blocked[best][0]]):
                    best = j
            if best >= 0:
                up = _unblock(best)  # a zero-slot link: its part goes straight into the idle server g
                todo.append(up)

    def _unblock(j):
        """Link j has room: the longest-blocked server waiting for it moves; returns that server or -1."""
        if not blocked[j]:
            return -1
        up = blocked[j].popleft()
        su = st_of[up]
        touch(su)
        nb[su] -= 1
        leave(up, su, j)
        return up

    for g in range(ns):
        s = st_of[g]
        if is_source[s]:
            start(g, s, 0.0)
        else:
            idle[s].append(g)

    while heap:
        item = heappop(heap)
        if item[0] > H:
            break
        now, _, ev, g, birth = item
        if ev == _END:
            s = st_of[g]
            touch(s)
            nw[s] -= 1
            if kind[s] != SOURCE:
                visits += 1
            outs = out[s]
            if len(outs) == 1:
                j = outs[0]
            else:
                u = route[s]()
                cw = cumw[s]
                k = 0
                while cw[k] < u:
                    k += 1
                j = outs[k]
            if leave(g, s, j):
                free(g)
            else:
                nb[s] += 1
                s_link[g] = j
                s_btime[g] = now
                blocked[j].append(g)
        elif ev == _ARRIVE:
            j = g
            t = dst[j]
            if is_sink[t]:
                cnt[j] -= 1
                dep[t] += now >= warm
                absorb(birth)
            elif idle[t]:
                cnt[j] -= 1
                start(idle[t].pop(), t, birth)
            else:
                touch(t)
                waiting[t].append((birth, j))
                continue
            up = _unblock(j)
            if up >= 0:
                free(up)
        elif ev == _FAIL:
            s = st_of[g]
            touch(s)
            nw[s] -= 1
            nd[s] += 1
            seq += 1
            heappush(heap, (now + ttr_draw[s](), seq, _REPAIR, g, 0.0))
        else:  # _REPAIR
            s = st_of[g]
            touch(s)
            nd[s] -= 1
            nw[s] += 1
            s_ttf[g] = ttf_draw[s]()
            process(g, s)

    now = H
    for s in range(n):
        touch(s)
    if sampling:
        for s in range(n):
            code = DOWN if nd[s] else WORKING if nw[s] else BLOCKED if nb[s] else IDLE
            pb[s].extend([code] * (len(pb_t) - len(pb[s])))
    return {
        "births": np.asarray(births, dtype=float),
        "end_birth": np.asarray(end_birth, dtype=float),
        "end_time": np.asarray(end_time, dtype=float),
        "working": acc_w, "down": acc_d, "blocked": acc_b, "queue": acc_q,
        "departures": dep, "visits": visits, "playback": pb,
    }
