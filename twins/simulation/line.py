"""The engine for a line as a factory has it (CONTRACT.md §7): part types, setups, scrap, assemblies,
operator pools, accumulating conveyors and a shift calendar. Layouts that use none of this run on the
§4 engines (`engine.py`, `fastpath.py`), so their results stay number for number as they were.

Per server the states are idle, setup, working, waiting for an operator, down (failed, waiting for a
repair worker or being repaired) and blocked (holding a finished part); outside the calendar's intervals
every server of every station counts as off shift. A server that takes a part also takes one worker of
its `operator` pool, if it has one, for the setup and the processing; it lets the worker go when the
processing ends or the machine fails, and needs one again to resume after the repair (which itself needs a
worker of `repair_operator`, if set). Workers are granted first come, first served. Off shift, setups,
processing, repairs and sources' interarrival clocks pause and resume at the next interval; parts already
in transit, on conveyors or leaving a buffer still move. An accumulating conveyor carries at most
floor(length / spacing) parts, each for length / speed, first in first out, the first waiting at the end
when there is no room downstream. Unlimited sources supply each connection on demand as in §4.

Random numbers come from one stream per (asset id, purpose), so two layouts that differ only in their
parameters draw the same numbers for the same asset: common random numbers for experiments.
Each server's state is accounted when it changes, clipped to [warm-up, horizon]; that is slower than the
§4 engine's trick of adding known intervals ahead, and simpler to keep right with pauses.
"""
from __future__ import annotations

import math
from collections import deque
from heapq import heappop, heappush

import numpy as np

from .engine import Cancelled
from .model import Model, is_accumulating
from .validate import flow_stations, output_type, source_types, types_flow, validate

SRC, MAC, BUF, SNK, ASM, CONV = range(6)
_KIND = {"source": SRC, "machine": MAC, "conveyor": MAC, "robot": MAC, "buffer": BUF, "sink": SNK,
         "assembly": ASM}
# Server states; OFF is only ever an accounting bucket.
IDLE, SETUP, WORK, WAIT_OP, DOWN, BLOCKED, OFF = range(7)
STATE_KEYS = ("idle", "setup", "working", "waiting_operator", "down", "blocked", "off_shift")
ACTIVE = (SETUP, WORK, WAIT_OP, DOWN)  # the active-period bottleneck method's "active"
# Activities a server can have scheduled.
A_NONE, A_SETUP, A_WORK, A_REPAIR = range(4)
# Events.
EV_ACT, EV_ARRIVE, EV_SHIFT, EV_SUPPLY, EV_CONV = range(5)
# Random stream purposes.
P_SERVICE, P_FAIL, P_ROUTE, P_SETUP, P_SCRAP, P_MIX, P_INIT = range(7)
CHUNK = 1024
CANCEL_CHECKS = 64
UNBOUNDED = 1 << 60
INF = float("inf")


class LineNet:
    """A validated §7 model compiled into index-based lists."""

    def __init__(self, model: Model):
        validate(model)
        self.model = model
        stations = flow_stations(model)
        self.stations = stations
        self.ids = [s.id for s in stations]
        self.keys = [s.stream_key if s.stream_key is not None else s.id for s in stations]
        self.names = [s.name for s in stations]
        self.model_kinds = [s.kind for s in stations]
        index = {s.id: i for i, s in enumerate(stations)}
        self.n = n = len(stations)
        self.kind = [CONV if is_accumulating(s) else _KIND[s.kind] for s in stations]
        pools = [s for s in model.stations if s.kind == "operator"]
        self.pool_ids = [p.id for p in pools]
        self.pool_names = [p.name for p in pools]
        self.pool_cap = [int(p.capacity) for p in pools]
        pidx = {p.id: k for k, p in enumerate(pools)}
        self.op = [pidx.get(s.operator, -1) for s in stations]
        self.rep = [pidx.get(s.repair_operator, -1) for s in stations]
        self.interarrival = [float(s.interarrival_s or 0.0) if s.kind == "source" else 0.0 for s in stations]
        self.unlimited = [k == SRC and self.interarrival[i] == 0.0 for i, k in enumerate(self.kind)]
        self.ia_cv = [float(s.interarrival_cv) for s in stations]
        self.mean = [float(s.cycle_time_s or 0.0) for s in stations]
        self.by_type = [dict(s.cycle_time_by_type or {}) for s in stations]
        self.cv = [float(s.cycle_cv) for s in stations]
        self.setup = [float(s.setup_time_s or 0.0) for s in stations]
        self.setup_cv = [float(s.setup_cv or 0.0) for s in stations]
        self.scrap = [float(s.scrap_rate or 0.0) for s in stations]
        fails = [k in (MAC, ASM) and s.mtbf_s is not None and s.mttr_s is not None
                 for s, k in zip(stations, self.kind)]
        self.mtbf = [float(s.mtbf_s) if f else None for s, f in zip(stations, fails)]
        self.mttr = [float(s.mttr_s) if f else None for s, f in zip(stations, fails)]
        self.out_type = [output_type(s) if k == ASM else None for s, k in zip(stations, self.kind)]
        self.mix = []
        for s in stations:
            types = source_types(s)
            w = np.cumsum([float((s.mix or {"part": 1.0})[t]) for t in types])
            self.mix.append((types, (w / w[-1]).tolist()))
        self.ride = [s.length_m / s.speed_mps if k == CONV else 0.0 for s, k in zip(stations, self.kind)]
        self.slots = [max(1, int(math.floor(s.length_m / s.spacing_m + 1e-9))) if k == CONV else 0
                      for s, k in zip(stations, self.kind)]
        links = list(model.links)
        self.link_ids = [ln.id for ln in links]
        self.src = [index[ln.source] for ln in links]
        self.dst = [index[ln.target] for ln in links]
        self.weight = [float(ln.weight) for ln in links]
        self.accepts = [frozenset(ln.part_types) if ln.part_types is not None else None for ln in links]
        self.quantity = [int(ln.quantity) for ln in links]
        self.tau, self.cap, self.lag = [], [], []
        for ln, a, b in zip(links, self.src, self.dst):
            sa, sb = stations[a], stations[b]
            tau = 0.0
            if ln.transport_speed_mps:
                tau = math.hypot(sa.x - sb.x, sa.z - sb.z) / float(ln.transport_speed_mps)
            cap, lag = ln.buffer_capacity, 0.0
            if self.unlimited[a]:
                lag, tau = tau, 0.0  # supply links: see §4 and network.Network
                if cap is None:
                    cap = 0
            self.tau.append(tau)
            self.lag.append(lag)
            self.cap.append(UNBOUNDED if cap is None else int(cap))
        self.out = [[] for _ in range(n)]
        self.inn = [[] for _ in range(n)]
        for j, (a, b) in enumerate(zip(self.src, self.dst)):
            self.out[a].append(j)
            self.inn[b].append(j)
        self.servers = []
        for s, k, i in zip(stations, self.kind, range(n)):
            if k == SNK:
                self.servers.append(0)
            elif k == SRC:
                self.servers.append(len(self.out[i]) if self.unlimited[i] else 1)
            elif k == CONV:
                self.servers.append(1)  # the head of the conveyor, for blocking; slots are accounted apart
            else:
                self.servers.append(int(s.capacity))
        self._routes = {}
        # A forecast's starting state (§9): parts waiting in front of stations, stations in repair. The
        # waiting parts' types are drawn from the types that can reach the station, by the sources' weights.
        self.initial = {}
        self.forecast = model.initial is not None
        if model.initial:
            seen = types_flow(model, stations)
            weight = {}
            for s in stations:
                if s.kind == "source":
                    for t in source_types(s):
                        weight[t] = weight.get(t, 0.0) + float((s.mix or {"part": 1.0})[t])
            for key, st in model.initial.items():
                i = index[int(key)]
                types = sorted(seen[self.ids[i]]) or ["part"]
                w = np.cumsum([weight.get(t, 1.0) for t in types])
                self.initial[i] = (int(st.get("queue", 0)), bool(st.get("down", False)), types, (w / w[-1]).tolist())
        cal = model.calendar
        self.calendar = None if cal is None else (float(cal["period_s"]), [(float(a), float(b)) for a, b in cal["on"]])

    def routes(self, i: int, t: str):
        """The outgoing links of station i that accept type t, with cumulative weights."""
        key = (i, t)
        r = self._routes.get(key)
        if r is None:
            js = [j for j in self.out[i] if self.accepts[j] is None or t in self.accepts[j]]
            w = np.cumsum([self.weight[j] for j in js]) if js else np.zeros(0)
            r = self._routes[key] = (js, (w / w[-1]).tolist() if len(js) else [])
        return r

    def ideal_cycle(self, i: int, t: str) -> float:
        return float(self.by_type[i].get(t, self.mean[i]))


class _Streams:
    """One generator per (asset stream key, purpose) from SeedSequence([seed, replication, key, purpose])."""

    def __init__(self, seed: int, replication: int):
        self.seed, self.rep = int(seed), int(replication)
        self.gens = {}

    def __call__(self, asset: int, purpose: int):
        key = (asset, purpose)
        g = self.gens.get(key)
        if g is None:
            from numpy.random import SeedSequence
            ss = SeedSequence([self.seed, self.rep, int(asset), purpose])
            g = self.gens[key] = np.random.Generator(np.random.PCG64(ss))
        return g


class _Draws:
    """Chunks of unit-mean variates with a given CV (deterministic, exponential or gamma), or uniforms."""

    def __init__(self, gen, cv: float | None):
        self.gen, self.cv = gen, cv
        self.buf, self.pos = [], 0

    def __call__(self) -> float:
        if self.pos >= len(self.buf):
            g, cv = self.gen, self.cv
            if cv is None:
                self.buf = g.random(CHUNK).tolist()
            elif cv == 0.0:
                self.buf = [1.0] * CHUNK
            elif cv == 1.0:
                self.buf = g.standard_exponential(CHUNK).tolist()
            else:
                k = 1.0 / (cv * cv)
                self.buf = (g.gamma(k, 1.0 / k, CHUNK)).tolist()
            self.pos = 0
        v = self.buf[self.pos]
        self.pos += 1
        return v


def _shift_toggles(calendar, H):
    """(time, on?) changes over [0, H] and whether the plant is on at t = 0."""
    if calendar is None:
        return True, []
    period, on = calendar
    toggles = []
    k = 0
    while k * period <= H:
        base = k * period
        for a, b in on:
            toggles.append((base + a, True))
            toggles.append((base + b, False))
        k += 1
    toggles.sort(key=lambda x: (x[0], x[1]))
    # Merge an off at the same instant as the next on (an interval ending at the period's end).
    merged = []
    for t, v in toggles:
        if merged and merged[-1][0] == t and merged[-1][1] != v:
            merged.pop()
            continue
        merged.append((t, v))
    start_on = bool(merged) and merged[0][0] == 0.0 and merged[0][1]
    if start_on:
        merged = merged[1:]
    return start_on, [x for x in merged if 0.0 < x[0] <= H]


def run_line(net: LineNet, *, horizon_s: float, warmup_s: float, seed: int, replication: int,
             playback_t=None, should_cancel=None) -> dict:
    """One replication; returns the raw record that `line_stats.summarise` turns into results."""
    H, warm = float(horizon_s), float(warmup_s)
    n, kind, ids, keys = net.n, net.kind, net.ids, net.keys
    streams = _Streams(seed, replication)
    out, inn, dst, src = net.out, net.inn, net.dst, net.src
    tau, cap, lag = net.tau, net.cap, net.lag
    op_of, rep_of = net.op, net.rep

    svc = [_Draws(streams(keys[i], P_SERVICE), net.cv[i]) for i in range(n)]
    ia = [_Draws(streams(keys[i], P_SERVICE), net.ia_cv[i]) for i in range(n)]
    fail_d = [_Draws(streams(keys[i], P_FAIL), 1.0) for i in range(n)]
    route_u = [_Draws(streams(keys[i], P_ROUTE), None) for i in range(n)]
    setup_d = [_Draws(streams(keys[i], P_SETUP), net.setup_cv[i]) for i in range(n)]
    scrap_u = [_Draws(streams(keys[i], P_SCRAP), None) for i in range(n)]
    mix_u = [_Draws(streams(keys[i], P_MIX), None) for i in range(n)]

    on, toggles = _shift_toggles(net.calendar, H)
    off = not on
    heap = []
    seq = 0

    def push(t, code, a, tok=0, payload=None):
        nonlocal seq
        seq += 1
        heappush(heap, (t, seq, code, a, tok, payload))

    for t, v in toggles:
        push(t, EV_SHIFT, int(v))

    # Servers.
    st_of, first = [], []
    for i in range(n):
        first.append(len(st_of))
        st_of += [i] * net.servers[i]
    ns = len(st_of)
    state = [IDLE] * ns
    t_state = [0.0] * ns
    part = [None] * ns  # (type, lead birth, wip start)
    last_type = [None] * ns
    act = [A_NONE] * ns
    act_left = [0.0] * ns
    act_t0 = [0.0] * ns
    to_fail = [False] * ns
    work_left = [0.0] * ns
    ttf = [INF] * ns
    token = [0] * ns
    paused = [False] * ns
    has_op = [False] * ns
    stage = [0] * ns  # what a server waiting for a worker does with one: 1 start, 2 resume, 3 repair
    b_since = [0.0] * ns
    blocked_on = [-1] * ns
    for g in range(ns):
        i = st_of[g]
        if net.mtbf[i] is not None:
            ttf[g] = fail_d[i]() * net.mtbf[i]

    acc = [[0.0] * 7 for _ in range(n)]
    cnt_state = [[0] * 7 for _ in range(n)]
    for g in range(ns):
        cnt_state[st_of[g]][IDLE] += 1
    acc_q = [0.0] * n
    dep = [0] * n
    processed = [0] * n
    ideal = [0.0] * n
    scrapped = [0] * n
    idle = [[] for _ in range(n)]
    waiting = [deque() for _ in range(len(dst))]
    cnt = [0] * len(dst)
    blocked = [deque() for _ in range(len(dst))]
    supply_ready = [lag[j] == 0.0 for j in range(len(dst))]
    wip_starts, wip_ends = [], []
    end_birth, end_time, end_type = [], [], []
    visits = 0
    # Active periods per station, for the bottleneck shares.
    n_active = [0] * n
    act_since = [0.0] * n
    # The end of a station's last active period while it is idle or blocked; a period that resumes at that
    # very instant (a part finished and the next one started) continues, so a saturated station has one
    # long active period, not one per part (the active-period method would otherwise miss it).
    pend = [None] * n

    def period_flush(i):
        if pend[i] is not None:
            periods[i].append((act_since[i], pend[i]))
            pend[i] = None
    periods = [[] for _ in range(n)]
    # Operator pools.
    npools = len(net.pool_cap)
    free_w = list(net.pool_cap)
    pool_wait = [deque() for _ in range(npools)]
    pool_acc = [0.0] * npools
    pool_t = [0.0] * npools
    on_time = [0.0]
    on_since = [0.0]
    # Conveyors: parts on board (ready time, part, entry time) and riding/waiting part-seconds.
    conv = [deque() if kind[i] == CONV else None for i in range(n)]
    conv_ride = [0.0] * n
    conv_wait = [0.0] * n
    conv_head_ev = [False] * n
    now = 0.0
    todo = deque()
    queued = [False] * n
    sampling = playback_t is not None
    pb_t = [float(t) for t in playback_t] if sampling else []
    pb_k = 0
    pb = [[] for _ in range(n)]
    # The trace of replication 0 (parts playback): queues, parts in transit and aboard conveyors per sample.
    transit = [deque() for _ in range(len(dst))] if sampling else None  # arrival times, first in first out
    tr_queue = [[] for _ in range(n)]
    tr_transit = [[] for _ in range(len(dst))]
    tr_riding = [[] for _ in range(n)]

    def trace_sample(t):
        for i in range(n):
            pb[i].append(_code(cnt_state[i], off))
            tr_queue[i].append(sum(len(waiting[j]) for j in inn[i]))
            if kind[i] == CONV:
                r = net.ride[i]
                tr_riding[i].append([round(min(1.0, (t - e) / r), 3) for _, _, e in conv[i]])
        for j in range(len(dst)):
            if tau[j] > 0.0:
                tr_transit[j].append([round(1.0 - (arr - t) / tau[j], 3) for arr in transit[j]])

    def clip(a, b):
        a = a if a > warm else warm
        b = b if b < H else H
        return b - a if b > a else 0.0

    def is_active(i):
        c = cnt_state[i]
        return (c[SETUP] + c[WORK] + c[WAIT_OP] + c[DOWN]) > 0

    def set_state(g, s):
        i = st_of[g]
        old = state[g]
        if old == s:
            return
        t0 = t_state[g]
        if now > t0:
            acc[i][OFF if off else old] += clip(t0, now)
        t_state[g] = now
        was = is_active(i) if not off else False
        c = cnt_state[i]
        c[old] -= 1
        c[s] += 1
        state[g] = s
        if not off:
            act_now = is_active(i)
            if act_now and not was:
                if pend[i] == now:
                    pend[i] = None  # the same period goes on
                else:
                    period_flush(i)
                    act_since[i] = now
            elif was and not act_now:
                pend[i] = now

    def close_all():
        for g in range(ns):
            t0 = t_state[g]
            if now > t0:
                acc[st_of[g]][OFF if off else state[g]] += clip(t0, now)
            t_state[g] = now

    def pool_mark(p):
        if not off and now > pool_t[p]:
            pool_acc[p] += (net.pool_cap[p] - free_w[p]) * clip(pool_t[p], now)
        pool_t[p] = now

    def wake(i):
        if not queued[i]:
            queued[i] = True
            todo.append(i)

    # --- workers -----------------------------------------------------------------------------------
    def acquire(p, g, why) -> bool:
        if not off and free_w[p] > 0 and not pool_wait[p]:
            pool_mark(p)
            free_w[p] -= 1
            return True
        stage[g] = why
        pool_wait[p].append(g)
        return False

    def release(p):
        pool_mark(p)
        free_w[p] += 1
        grant(p)

    def grant(p):
        while not off and free_w[p] > 0 and pool_wait[p]:
            g = pool_wait[p].popleft()
            pool_mark(p)
            free_w[p] -= 1
            why = stage[g]
            stage[g] = 0
            if why == 3:
                start_repair(g)
            else:
                has_op[g] = True
                if why == 1:
                    begin(g)
                else:
                    resume_work(g)

    # --- activities --------------------------------------------------------------------------------
    def schedule(g):
        token[g] += 1
        act_t0[g] = now
        if act[g] == A_WORK:
            if ttf[g] < work_left[g]:
                to_fail[g] = True
                dt = ttf[g]
            else:
                to_fail[g] = False
                dt = work_left[g]
        else:
            dt = act_left[g]
        if off:
            paused[g] = True
            return
        push(now + dt, EV_ACT, g, token[g])

    def pause(g):
        el = now - act_t0[g]
        if act[g] == A_WORK:
            work_left[g] -= el
            if ttf[g] != INF:
                ttf[g] -= el
        else:
            act_left[g] -= el
        token[g] += 1
        paused[g] = True

    def begin(g):
        """Server g holds a new part (and its worker, if it needs one): set up if the type changed, then work."""
        i = st_of[g]
        p = op_of[i]
        if p >= 0 and not has_op[g]:
            if acquire(p, g, 1):
                has_op[g] = True
            else:
                set_state(g, WAIT_OP)
                return
        t = part[g][0]
        if net.setup[i] > 0.0 and last_type[g] is not None and last_type[g] != t:
            act[g] = A_SETUP
            act_left[g] = setup_d[i]() * net.setup[i]
            set_state(g, SETUP)
            schedule(g)
            return
        start_work(g)

    def start_work(g):
        i = st_of[g]
        t = part[g][0]
        last_type[g] = t
        act[g] = A_WORK
        work_left[g] = svc[i]() * net.ideal_cycle(i, t)
        set_state(g, WORK)
        schedule(g)

    def resume_work(g):
        act[g] = A_WORK
        set_state(g, WORK)
        schedule(g)

    def start_repair(g):
        i = st_of[g]
        act[g] = A_REPAIR
        act_left[g] = fail_d[i]() * net.mttr[i]
        schedule(g)

    def after_repair(g):
        i = st_of[g]
        if rep_of[i] >= 0:
            release(rep_of[i])
        ttf[g] = fail_d[i]() * net.mtbf[i]
        if part[g] is None:  # down from the start (a forecast): nothing to resume
            act[g] = A_NONE
            to_idle(g)
            return
        p = op_of[i]
        if p >= 0:
            if acquire(p, g, 2):
                has_op[g] = True
            else:
                act[g] = A_NONE
                set_state(g, WAIT_OP)
                return
        resume_work(g)

    def fail(g):
        i = st_of[g]
        act[g] = A_NONE
        set_state(g, DOWN)
        if has_op[g]:
            has_op[g] = False
            release(op_of[i])
        p = rep_of[i]
        if p >= 0 and not acquire(p, g, 3):
            return
        start_repair(g)

    def finish(g):
        """Processing done: count it, scrap it or send it on."""
        nonlocal visits
        i = st_of[g]
        act[g] = A_NONE
        if has_op[g]:
            has_op[g] = False
            release(op_of[i])
        visits += 1
        t = part[g][0]
        if now >= warm:
            processed[i] += 1
            ideal[i] += net.ideal_cycle(i, t)
        if net.scrap[i] > 0.0 and scrap_u[i]() < net.scrap[i]:
            if now >= warm:
                scrapped[i] += 1
            wip_ends.append(now)
            part[g] = None
            to_idle(g)
            return
        send(g)

    def to_idle(g):
        i = st_of[g]
        set_state(g, IDLE)
        idle[i].append(g)
        wake(i)

    # --- moving parts ------------------------------------------------------------------------------
    def pick_route(i, t):
        js, cw = net.routes(i, t)
        if len(js) == 1:
            return js[0]
        u = route_u[i]()
        k = 0
        while cw[k] < u:
            k += 1
        return js[k]

    def put(pt, j) -> bool:
        """Move part pt onto link j if there is room; a zero-slot link only hands over on a pull."""
        t = dst[j]
        if tau[j] > 0.0:
            if cnt[j] < cap[j]:
                cnt[j] += 1
                push(now + tau[j], EV_ARRIVE, j, 0, pt)
                if sampling:
                    transit[j].append(now + tau[j])
                return True
            return False
        if kind[t] == SNK:
            exit_sink(pt, t)
            return True
        if cnt[j] < cap[j]:
            cnt[j] += 1
            waiting[j].append((now, pt))
            wake(t)
            return True
        return False

    def exit_sink(pt, t):
        if now >= warm:
            dep[t] += 1
        end_birth.append(pt[1])
        end_time.append(now)
        end_type.append(pt[0])
        wip_ends.append(now)

    def send(g):
        """Server g holds a finished part: route it, move it or block."""
        i = st_of[g]
        pt = part[g]
        j = pick_route(i, pt[0])
        if put(pt, j):
            if now >= warm:
                dep[i] += 1
            part[g] = None
            if kind[i] == SRC:
                source_next(g)
            else:
                to_idle(g)
            return
        set_state(g, BLOCKED)
        b_since[g] = now
        blocked_on[g] = j
        blocked[j].append(g)
        wake(dst[j])

    def unblock(g, j, into_server=False):
        """Blocked server g's part leaves on link j; returns the part when it goes straight to a server."""
        i = st_of[g]
        blocked_on[g] = -1
        if kind[i] == CONV:
            return conv_release(i, j, into_server)
        pt = part[g]
        part[g] = None
        if kind[i] == SRC:
            pt = (pt[0], now, now)  # a source's part is born when it leaves
            wip_starts.append(now)
        if now >= warm:
            dep[i] += 1
        if not into_server:
            put(pt, j)
        if kind[i] == SRC:
            source_next(g)
        else:
            to_idle(g)
        return pt

    def room(j):
        """Link j has a free slot: the longest-blocked server waiting for it moves."""
        while blocked[j] and cnt[j] < cap[j]:
            g = blocked[j].popleft()
            unblock(g, j)

    def take(j):
        """The next part from link j for its target (which has checked it is there)."""
        if net.unlimited[src[j]]:
            s = src[j]
            types, cw = net.mix[s]
            if len(types) == 1:
                t = types[0]
            else:
                u = mix_u[s]()
                k = 0
                while cw[k] < u:
                    k += 1
                t = types[k]
            b = now - lag[j]
            if b < 0.0:
                b = 0.0
            wip_starts.append(b)
            if now >= warm:
                dep[s] += 1
            return (t, b, b)
        if waiting[j]:
            tq, pt = waiting[j].popleft()
            acc_q[dst[j]] += clip(tq, now)
            cnt[j] -= 1
            room(j)
            return pt
        g = blocked[j].popleft()  # a zero-slot link: the blocked part comes straight in
        return unblock(g, j, into_server=True)

    def available(j) -> int:
        if net.unlimited[src[j]]:
            return UNBOUNDED if supply_ready[j] else 0
        k = len(waiting[j])
        if cap[j] == 0 and tau[j] == 0.0:
            k += len(blocked[j])
        return k

    def head_time(j) -> float:
        if net.unlimited[src[j]]:
            return now if supply_ready[j] else INF
        if waiting[j]:
            return waiting[j][0][0]
        if cap[j] == 0 and tau[j] == 0.0 and blocked[j]:
            return b_since[blocked[j][0]]
        return INF

    def try_start(i):
        k = kind[i]
        if k == SNK:
            return
        if k == SRC:
            return
        if k == CONV:
            conv_fill(i)
            return
        if off and k != BUF:
            return
        while idle[i]:
            if k == ASM:
                if any(available(j) < net.quantity[j] for j in inn[i]):
                    return
                t_min = INF
                for j in inn[i]:
                    for _ in range(net.quantity[j]):
                        pt = take(j)
                        wip_ends.append(now)  # a component counts in WIP until it is consumed
                        if pt[1] < t_min:
                            t_min = pt[1]
                wip_starts.append(now)
                pt = (net.out_type[i], t_min, now)
            else:
                best, bk = -1, (INF, 1)
                for j in inn[i]:
                    # First in, first out over the links; an unlimited supply only when nothing waits.
                    key = (head_time(j), 1 if net.unlimited[src[j]] else 0)
                    if key < bk:
                        best, bk = j, key
                if best < 0 or bk[0] == INF:
                    return
                pt = take(best)
            g = idle[i].pop()
            part[g] = pt
            if k == BUF:
                send(g)
            else:
                begin(g)

    # --- sources -----------------------------------------------------------------------------------
    def source_next(g):
        i = st_of[g]
        if net.unlimited[i]:
            set_state(g, BLOCKED)
            return
        act[g] = A_WORK
        work_left[g] = ia[i]() * net.interarrival[i]
        ttf[g] = INF
        set_state(g, WORK)
        schedule(g)

    def source_fire(g):
        i = st_of[g]
        act[g] = A_NONE
        types, cw = net.mix[i]
        if len(types) == 1:
            t = types[0]
        else:
            u = mix_u[i]()
            k = 0
            while cw[k] < u:
                k += 1
            t = types[k]
        part[g] = (t, now, now)
        j = pick_route(i, t)
        if put(part[g], j):
            wip_starts.append(now)
            if now >= warm:
                dep[i] += 1
            part[g] = None
            source_next(g)
            return
        set_state(g, BLOCKED)
        b_since[g] = now
        blocked_on[g] = j
        blocked[j].append(g)
        wake(dst[j])

    # --- conveyors ---------------------------------------------------------------------------------
    def conv_fill(i):
        q = conv[i]
        while len(q) < net.slots[i]:
            best, bt = -1, INF
            for j in inn[i]:
                h = head_time(j)
                if h < bt:
                    best, bt = j, h
            if best < 0 or bt == INF:
                break
            pt = take(best)
            ready = now + net.ride[i]
            if q and q[-1][0] > ready:
                ready = q[-1][0]
            q.append((ready, pt, now))
            if len(q) == 1:
                conv_arm(i)

    def conv_arm(i):
        q = conv[i]
        if q and not conv_head_ev[i] and blocked_on[first[i]] < 0:
            conv_head_ev[i] = True
            push(q[0][0] if q[0][0] > now else now, EV_CONV, i)

    def conv_account(i, entry, ready, leave):
        conv_ride[i] += clip(entry, min(ready, leave))
        if leave > ready:
            conv_wait[i] += clip(ready, leave)

    def conv_head(i):
        nonlocal visits
        conv_head_ev[i] = False
        q = conv[i]
        if not q:
            return
        ready, pt, entry = q[0]
        j = pick_route(i, pt[0])
        g = first[i]
        if put(pt, j):
            q.popleft()
            visits += 1
            conv_account(i, entry, ready, now)
            if now >= warm:
                dep[i] += 1
            conv_arm(i)
            wake(i)
            return
        b_since[g] = now
        blocked_on[g] = j
        blocked[j].append(g)
        wake(dst[j])

    def conv_release(i, j, into_server):
        nonlocal visits
        q = conv[i]
        ready, pt, entry = q.popleft()
        visits += 1
        conv_account(i, entry, ready, now)
        if now >= warm:
            dep[i] += 1
        if not into_server:
            put(pt, j)
        conv_arm(i)
        wake(i)
        return pt

    # --- shifts ------------------------------------------------------------------------------------
    def shift(turn_on: bool):
        nonlocal off
        close_all()
        for p in range(npools):
            pool_mark(p)
        if turn_on:
            off = False
            on_since[0] = now
            for i in range(n):
                if is_active(i):
                    act_since[i] = now
            for g in range(ns):
                if paused[g]:
                    paused[g] = False
                    schedule(g)
                elif state[g] == DOWN and act[g] == A_NONE and stage[g] == 0:
                    start_repair(g)  # failed off shift with no repair worker to wait for
            for p in range(npools):
                grant(p)
            for i in range(n):
                wake(i)
        else:
            for i in range(n):
                period_flush(i)
                if is_active(i):
                    periods[i].append((act_since[i], now))
            on_time[0] += clip(on_since[0], now)
            off = True
            for g in range(ns):
                if act[g] != A_NONE and not paused[g]:
                    pause(g)

    # --- start -------------------------------------------------------------------------------------
    for g in range(ns):
        i = st_of[g]
        if kind[i] == SRC:
            if net.unlimited[i]:
                j = out[i][g - first[i]]
                if lag[j] > 0.0:
                    set_state(g, WORK)  # the first part of a supply link travels
                    push(lag[j], EV_SUPPLY, j, g)
                else:
                    set_state(g, BLOCKED)
            else:
                source_next(g)
        elif kind[i] != CONV:
            idle[i].append(g)
    init_u = _Draws(streams(0, P_INIT), None)
    for i, (q, down, types, cw) in sorted(net.initial.items()):
        feeds = [j for j in inn[i] if not net.unlimited[src[j]]] or inn[i]
        if q and feeds and kind[i] not in (SRC, SNK):
            j = feeds[0]
            for _ in range(q):
                u = init_u()
                k = 0
                while cw[k] < u:
                    k += 1
                waiting[j].append((0.0, (types[k], 0.0, 0.0)))
                wip_starts.append(0.0)
                cnt[j] += 1
        if down and kind[i] in (MAC, ASM) and net.mttr[i] is not None and idle[i]:
            g = idle[i].pop(0)
            fail(g)  # in repair now: the remaining repair time is a fresh draw (exponential repairs)
    for i in range(n):
        wake(i)

    def drain():
        while todo:
            i = todo.popleft()
            queued[i] = False
            try_start(i)

    drain()
    check_every = H / CANCEL_CHECKS
    check_at = check_every if should_cancel is not None else INF
    while heap:
        item = heap[0]
        if item[0] > H:
            break
        heappop(heap)
        now, _, code, a, tok, payload = item
        if sampling:
            while pb_k < len(pb_t) and pb_t[pb_k] < now:
                trace_sample(pb_t[pb_k])
                pb_k += 1
        if now >= check_at:
            check_at = now + check_every
            if should_cancel():
                raise Cancelled()
        if code == EV_ACT:
            g = a
            if tok != token[g]:
                continue
            i = st_of[g]
            if kind[i] == SRC:
                source_fire(g)
            elif act[g] == A_SETUP:
                start_work(g)
            elif act[g] == A_WORK:
                el = now - act_t0[g]
                if to_fail[g]:
                    work_left[g] -= el
                    fail(g)
                else:
                    if ttf[g] != INF:
                        ttf[g] -= el
                    finish(g)
            elif act[g] == A_REPAIR:
                act[g] = A_NONE
                after_repair(g)
        elif code == EV_ARRIVE:
            j = a
            t = dst[j]
            if sampling:
                transit[j].popleft()
            if kind[t] == SNK:
                cnt[j] -= 1
                exit_sink(payload, t)
                room(j)
            else:
                waiting[j].append((now, payload))
                wake(t)
        elif code == EV_CONV:
            conv_head(a)
        elif code == EV_SUPPLY:
            supply_ready[a] = True
            set_state(tok, BLOCKED)
            wake(dst[a])
        else:
            shift(bool(a))
        drain()

    now = H
    close_all()
    for p in range(npools):
        pool_mark(p)
    for i in range(n):
        period_flush(i)
    if not off:
        on_time[0] += clip(on_since[0], H)
        for i in range(n):
            if is_active(i):
                periods[i].append((act_since[i], H))
    for j in range(len(dst)):
        for tq, _ in waiting[j]:
            acc_q[dst[j]] += clip(tq, H)
    for i in range(n):
        if kind[i] == CONV:
            for ready, _, entry in conv[i]:
                conv_account(i, entry, ready, H)
    if sampling:
        while pb_k < len(pb_t):
            trace_sample(pb_t[pb_k])
            pb_k += 1
    return {
        "wip_starts": np.asarray(wip_starts, dtype=float),
        "wip_ends": np.asarray(wip_ends, dtype=float),
        "end_birth": np.asarray(end_birth, dtype=float),
        "end_time": np.asarray(end_time, dtype=float),
        "end_type": end_type,
        "acc": acc, "queue": acc_q, "departures": dep, "processed": processed, "ideal": ideal,
        "scrapped": scrapped, "conv_ride": conv_ride, "conv_wait": conv_wait,
        "pool_busy": pool_acc, "on_time": on_time[0], "periods": periods, "visits": visits,
        "playback": pb if sampling else None,
        "trace": {"queues": tr_queue, "transit": tr_transit, "riding": tr_riding} if sampling else None,
    }


def _code(c, off) -> str:
    if off:
        return "off_shift"
    if c[DOWN]:
        return "down"
    if c[WORK] or c[SETUP]:
        return "working"
    if c[WAIT_OP]:
        return "waiting_operator"
    if c[BLOCKED]:
        return "blocked"
    return "idle"
