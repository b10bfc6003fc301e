"""Entry points: one replication, combining replications, and a whole run with progress and cancel.

`engine="auto"` runs serial lines of single-server machines on the max-plus fast path and everything
else on the event engine; both read the same per-station random streams, so a replication's figures
do not depend on how replications are batched or spread over workers.
"""
from __future__ import annotations

import math

from . import fastpath, line_stats
from .engine import CANCEL_CHECKS, Cancelled, run_general
from .line import LineNet, run_line
from .model import Model, ModelError, uses_line_model
from .network import Network
from .stats import combine_reps, playback_times, summarise

ENGINES = ("auto", "fastpath", "general", "line")


def _check_params(horizon_s, warmup_s, replications=1, seed=0):
    for name, v in (("horizon_s", horizon_s), ("warmup_s", warmup_s)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            raise ModelError(f"{name} must be a finite number >= 0")
    if horizon_s <= warmup_s:
        raise ModelError("horizon_s must be greater than warmup_s")
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise ModelError("replications must be an integer >= 1")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ModelError("seed must be an integer >= 0")


def _network(model) -> Network | LineNet:
    """§4 layouts compile for the §4 engines, layouts that use §7 for the line engine (`line.py`)."""
    if isinstance(model, (Network, LineNet)):
        return model
    return LineNet(model) if uses_line_model(model) else Network(model)


def _pick(net: Network, engine: str, horizon_s: float) -> str:
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}")
    if isinstance(net, LineNet) or engine == "line":
        if not isinstance(net, LineNet) or engine == "fastpath":
            raise ValueError("the line engine runs layouts that use §7; others run on the §4 engines")
        return "line"
    if engine == "auto":
        return "fastpath" if fastpath.applicable(net, horizon_s) else "general"
    if engine == "fastpath" and not fastpath.applicable(net):
        raise ValueError("the fast path only handles serial lines of single-server machines")
    return engine


def _checkpoint(should_cancel, progress, done: int):
    """The hook the event engine calls at every 1/CANCEL_CHECKS of a replication's horizon: it reports the
    share of this replication run so far (a lower bound: a call may come late, never early), then asks
    whether to stop."""
    if progress is None:
        return should_cancel
    calls = 0

    def check() -> bool:
        nonlocal calls
        calls += 1
        progress(done + min(calls, CANCEL_CHECKS - 1) / CANCEL_CHECKS)
        return should_cancel is not None and should_cancel()

    return check


def _run_batch(net, kind, *, horizon_s, warmup_s, seed, replications: list, should_cancel=None, progress=None) -> list:
    if kind == "line":
        return [line_stats.summarise(
            net, run_line(net, horizon_s=horizon_s, warmup_s=warmup_s, seed=seed, replication=r,
                          playback_t=playback_times(horizon_s) if r == 0 else None,
                          should_cancel=_checkpoint(should_cancel, progress, k)),
            horizon_s=horizon_s, warmup_s=warmup_s, replication=r) for k, r in enumerate(replications)]
    if kind == "fastpath":
        raws = fastpath.run_fastpath(net, horizon_s=horizon_s, warmup_s=warmup_s, seed=seed,
                                     replications=replications, playback_t=playback_times(horizon_s))
    else:
        raws = [run_general(net, horizon_s=horizon_s, warmup_s=warmup_s, seed=seed, replication=r,
                            playback_t=playback_times(horizon_s) if r == 0 else None,
                            should_cancel=_checkpoint(should_cancel, progress, k))
                for k, r in enumerate(replications)]
    out = []
    for r, raw in zip(replications, raws):
        if r != 0:
            raw["playback"] = None
        out.append(summarise(net, raw, horizon_s=horizon_s, warmup_s=warmup_s, replication=r, engine=kind))
    return out


def is_vectorised(model: Model, horizon_s: float) -> bool:
    """Whether run_replications() runs a batch in one vectorised pass (the fast path) rather than one
    replication after another (the event engine). False for a model the engines refuse: running it says why."""
    try:
        net = _network(model)
        return not isinstance(net, LineNet) and fastpath.applicable(net, float(horizon_s))
    except ModelError:
        return False


def run_replication(model: Model, *, horizon_s: float, warmup_s: float, seed: int, replication: int,
                    engine: str = "auto") -> dict:
    """One replication with its own random stream (SeedSequence([seed, replication])); JSON-able."""
    _check_params(horizon_s, warmup_s, 1, seed)
    if isinstance(replication, bool) or not isinstance(replication, int) or replication < 0:
        raise ModelError("replication must be an integer >= 0")
    net = _network(model)
    kind = _pick(net, engine, float(horizon_s))
    return _run_batch(net, kind, horizon_s=float(horizon_s), warmup_s=float(warmup_s), seed=seed,
                      replications=[int(replication)])[0]


def run_replications(model: Model, *, horizon_s: float, warmup_s: float, seed: int, replications: list,
                     should_cancel=None, progress=None, engine: str = "auto") -> list:
    """Several replications (e.g. one Celery batch), vectorised where the fast path applies; identical to
    running each with run_replication(). Checks `should_cancel()` between engine batches and, on the event
    engine, inside each replication; calls `progress(done)` with the replications done so far, a fraction
    of one included (1/CANCEL_CHECKS at a time inside an event-engine replication). Neither hook changes
    a single number of the results."""
    _check_params(horizon_s, warmup_s, max(1, len(replications)), seed)
    if any(isinstance(r, bool) or not isinstance(r, int) or r < 0 for r in replications):
        raise ModelError("replications must be integers >= 0")
    net = _network(model)
    H, w = float(horizon_s), float(warmup_s)
    kind = _pick(net, engine, H)
    batch = fastpath.batch_size(net, H) if kind == "fastpath" else 1
    out = []
    for first in range(0, len(replications), batch):
        if should_cancel is not None and should_cancel():
            raise Cancelled()
        before = len(out)
        in_chunk = None if progress is None else (lambda done, before=before: progress(before + done))
        out += _run_batch(net, kind, horizon_s=H, warmup_s=w, seed=seed, replications=list(replications[first:first + batch]),
                          should_cancel=should_cancel, progress=in_chunk)
        if progress is not None:
            progress(len(out))
    return out


def combine(model: Model, reps: list, *, horizon_s: float, warmup_s: float) -> dict:
    """CONTRACT §4 `results` from the replications' dicts (any order; replication 0 gives the playback)."""
    net = _network(model)
    if isinstance(net, LineNet):
        return line_stats.combine(net, reps, horizon_s=float(horizon_s), warmup_s=float(warmup_s))
    return combine_reps(net, reps, horizon_s=float(horizon_s), warmup_s=float(warmup_s))


def simulate(model: Model, *, horizon_s: float, warmup_s: float, replications: int, seed: int,
             progress=None, should_cancel=None, engine: str = "auto") -> dict:
    """All replications in this process; the fast path runs them in vectorised batches."""
    _check_params(horizon_s, warmup_s, replications, seed)
    net = _network(model)
    kind = _pick(net, engine, float(horizon_s))
    H, w = float(horizon_s), float(warmup_s)
    batch = fastpath.batch_size(net, H) if kind == "fastpath" else 1
    reps = []
    for first in range(0, replications, batch):
        if should_cancel is not None and should_cancel():
            raise Cancelled()
        ids = list(range(first, min(replications, first + batch)))
        reps += _run_batch(net, kind, horizon_s=H, warmup_s=w, seed=seed, replications=ids, should_cancel=should_cancel)
        if progress is not None:
            for k in range(len(reps) - len(ids), len(reps)):
                progress((k + 1) / replications)
    return combine(net, reps, horizon_s=H, warmup_s=w)
