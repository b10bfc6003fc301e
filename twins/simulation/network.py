"""The validated model compiled into flat, index-based arrays that both engines read."""
from __future__ import annotations

import math

import numpy as np

from .model import MACHINE_KINDS, Model
from .validate import flow_stations, validate

SOURCE, MACHINE, BUFFER, SINK = 0, 1, 2, 3
_KIND = {"source": SOURCE, "buffer": BUFFER, "sink": SINK, **{k: MACHINE for k in MACHINE_KINDS}}
UNBOUNDED = 1 << 60


class Network:
    """Stations and links by position; `ids`/`names` map back to the model's assets."""

    def __init__(self, model: Model):
        validate(model)
        stations = flow_stations(model)
        self.model = model
        self.ids = [s.id for s in stations]
        self.names = [s.name for s in stations]
        index = {s.id: i for i, s in enumerate(stations)}
        self.n = len(stations)
        self.model_kinds = [s.kind for s in stations]
        self.kind = [_KIND[s.kind] for s in stations]
        self.servers = [1 if k in (SOURCE, SINK) else s.capacity for s, k in zip(stations, self.kind)]
        # Service time of a station: machines their cycle, sources their interarrival (0 = unlimited).
        self.mean = []
        self.cv = []
        self.mtbf = []
        self.mttr = []
        for s, k in zip(stations, self.kind):
            if k == MACHINE:
                self.mean.append(float(s.cycle_time_s))
                self.cv.append(float(s.cycle_cv))
            elif k == SOURCE:
                self.mean.append(float(s.interarrival_s or 0.0))
                self.cv.append(float(s.interarrival_cv) if s.interarrival_s else 0.0)
            else:
                self.mean.append(0.0)
                self.cv.append(0.0)
            fails = k == MACHINE and s.mtbf_s is not None and s.mttr_s is not None
            self.mtbf.append(float(s.mtbf_s) if fails else None)
            self.mttr.append(float(s.mttr_s) if fails else None)
        self.unlimited = [k == SOURCE and self.mean[i] == 0.0 for i, k in enumerate(self.kind)]
        links = list(model.links)
        # An unlimited source supplies each of its connections on demand (CONTRACT.md §4: the next
        # station never starves): one server per connection, so a split feeds every branch, and no
        # transport delay beyond the first part's, since the supply is dispatched just in time.
        for i in range(self.n):
            if self.unlimited[i]:
                self.servers[i] = max(1, sum(1 for ln in links if index[ln.source] == i))
        self.link_ids = [ln.id for ln in links]
        self.src = [index[ln.source] for ln in links]
        self.dst = [index[ln.target] for ln in links]
        self.tau = []
        self.cap = []
        self.lag = []  # transport time of a supply link: its parts left the source this long before arriving
        for ln, a, b in zip(links, self.src, self.dst):
            sa, sb = stations[a], stations[b]
            tau = 0.0
            if ln.transport_speed_mps:
                tau = math.hypot(sa.x - sb.x, sa.z - sb.z) / float(ln.transport_speed_mps)
            cap = ln.buffer_capacity
            lag = 0.0
            if self.unlimited[a]:
                # An unlimited supply into an unbounded buffer would flood it at t=0; the contract only
                # promises that the next station never starves, which a zero-slot handover gives. A
                # transport time delays the first part only; later parts were sent just in time.
                if cap is None:
                    cap = 0
                lag, tau = tau, 0.0
            self.tau.append(tau)
            self.lag.append(lag)
            self.cap.append(UNBOUNDED if cap is None else int(cap))
        self.out = [[] for _ in range(self.n)]
        self.inn = [[] for _ in range(self.n)]
        for j, (a, b) in enumerate(zip(self.src, self.dst)):
            self.out[a].append(j)
            self.inn[b].append(j)
        self.cumw = []
        for i in range(self.n):
            w = np.cumsum([float(links[j].weight) for j in self.out[i]]) if self.out[i] else np.zeros(0)
            self.cumw.append((w / w[-1]).tolist() if len(w) else [])

    def streams(self, seed: int, replication: int) -> RandomStreams:
        return RandomStreams(seed, replication, self.n)


class RandomStreams:
    """Independent generators per station and purpose (0 service, 1 failures, 2 routing) for one
    replication, all from SeedSequence([seed, replication]); built on first use."""

    def __init__(self, seed: int, replication: int, n: int):
        from numpy.random import SeedSequence

        self._children = SeedSequence([int(seed), int(replication)]).spawn(3 * n)
        self._gens = {}

    def __call__(self, station: int, purpose: int):
        key = 3 * station + purpose
        gen = self._gens.get(key)
        if gen is None:
            gen = self._gens[key] = np.random.Generator(np.random.PCG64(self._children[key]))
        return gen


def sample(gen, mean: float, cv: float, size: int) -> np.ndarray:
    """Service times: cv 0 deterministic, cv 1 exponential, otherwise gamma with that mean and CV."""
    if mean <= 0.0:
        return np.zeros(size)
    if cv == 0.0:
        return np.full(size, mean)
    if cv == 1.0:
        return gen.exponential(mean, size)
    shape = 1.0 / (cv * cv)
    return gen.gamma(shape, mean / shape, size)
