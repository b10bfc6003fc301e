"""Simulation runs: create (validate, snapshot, enqueue after commit), run in replication batches, cancel.

Life of a run: `simulation_create` stores it `queued` with a JSON snapshot of the layout's model and
enqueues `simulation_run_task` once the transaction commits. That task calls `simulation_start`, which
claims the run (`queued`/`running` → `running`, attempts + 1) and returns the replication batches; the task
fans them out as a Celery group. Each batch calls `simulation_run_batch`, which stores every finished
replication in a Redis hash keyed by replication number (so a redelivered or duplicated batch never
counts a replication twice) and, when the hash is complete, combines the replications and finishes the
run with a conditional update (`running` → `succeeded`): whoever gets there first wins, everyone else
is a no-op. A cancel flips the status in the database; batches look at it before every replication.
"""
from __future__ import annotations

import json
import logging
import math
import random
import time

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from collaboration import events, redis_state
from collaboration.audit import audit_append
from collaboration.protocol import SimProgress

from ..errors import Conflict, Invalid
from ..models import Layout, Role, SimulationRun
from ..simulation import runner
from ..simulation.model import MACHINE_KINDS, Model, ModelError
from ..simulation_model import (
    model_error_to_invalid,
    model_from_dict,
    model_to_dict,
    validated_model,
)
from .common import finite_number, lock_layout, require_role

log = logging.getLogger(__name__)

Status = SimulationRun.Status

# Limits (for docs/api.md): they keep one run within minutes and one replication
# within seconds, so that a cancel is honoured quickly.
MAX_HORIZON_S = 90 * 24 * 3600
MAX_REPLICATIONS = 200
MAX_STATIONS = 500
MAX_CONNECTIONS = 2000
MAX_VISITS_PER_REPLICATION = 5_000_000
MAX_VISITS_PER_RUN = 100_000_000
DEFAULTS = {"horizon_s": 8 * 3600.0, "warmup_s": 0.0, "replications": 10}
PARAM_KEYS = {"layout", "horizon_s", "warmup_s", "replications", "seed"}
MAX_SEED = 2**63 - 1
BATCHES_MAX = 8  # a run is cut into at most this many batches of replications (the units of fan-out)
PUBLISH_INTERVAL_S = 0.25  # sim.progress at most four times a second per run, across all workers
CANCEL_POLL_S = 0.2
STORE_TTL_S = 24 * 3600


# --- creating ------------------------------------------------------------------------------------------

def clean_params(params: dict) -> dict:
    if not isinstance(params, dict):
        raise Invalid("The body must be a JSON object.")
    unknown = set(params) - PARAM_KEYS
    if unknown:
        raise Invalid(f"Unknown field(s): {', '.join(sorted(unknown))}.", errors={f: ["Unknown field."] for f in sorted(unknown)})
    given = {k: params.get(k, DEFAULTS.get(k)) for k in ("horizon_s", "warmup_s", "replications")}
    horizon = finite_number(given["horizon_s"], field="horizon_s", minimum=1.0, maximum=MAX_HORIZON_S)
    warmup = finite_number(given["warmup_s"], field="warmup_s", minimum=0.0, maximum=MAX_HORIZON_S)
    if warmup >= horizon:
        raise Invalid(f"warmup_s ({warmup:g} s) must be shorter than horizon_s ({horizon:g} s).",
                      errors={"warmup_s": ["Must be less than horizon_s."]})
    replications = finite_number(given["replications"], field="replications", minimum=1, maximum=MAX_REPLICATIONS, integer=True)
    seed = params.get("seed")
    if seed is None:
        seed = random.SystemRandom().randrange(2**31)  # stored, so the run can be repeated exactly
    seed = finite_number(seed, field="seed", minimum=0, maximum=MAX_SEED, integer=True)
    return {"horizon_s": horizon, "warmup_s": warmup, "replications": replications, "seed": seed}


def estimated_visits(model: Model, horizon_s: float) -> float:
    """An upper bound on station visits in one replication: the most parts per second the network can
    carry (a max-flow with each machine's capacity / cycle time and each source's arrival rate as node
    capacities) times the horizon times the stations a part passes (the number of stations)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_flow

    scale, big = 1000.0, 10**9  # rates in milli-parts per second, as the integers maximum_flow needs

    def cap(s) -> int:
        if s.kind in MACHINE_KINDS and s.cycle_time_s:
            return min(big, math.ceil(s.capacity / s.cycle_time_s * scale))
        if s.kind == "source" and s.interarrival_s:
            return min(big, math.ceil(scale / s.interarrival_s))
        return big

    index = {s.id: i for i, s in enumerate(model.stations)}
    n = len(model.stations)
    src, dst = 2 * n, 2 * n + 1  # station i is node 2i (in) -> 2i+1 (out)
    edges = {}
    for s in model.stations:
        i = index[s.id]
        edges[(2 * i, 2 * i + 1)] = cap(s)
        if s.kind == "source":
            edges[(src, 2 * i)] = big
        if s.kind == "sink":
            edges[(2 * i + 1, dst)] = big
    for ln in model.links:
        if ln.source in index and ln.target in index:
            edges[(2 * index[ln.source] + 1, 2 * index[ln.target])] = big
    rows, cols = zip(*edges)
    graph = csr_matrix((list(edges.values()), (rows, cols)), shape=(2 * n + 2, 2 * n + 2), dtype="int32")
    rate = maximum_flow(graph, src, dst).flow_value / scale
    return rate * horizon_s * n


def check_size(model: Model, params: dict) -> None:
    if len(model.stations) > MAX_STATIONS:
        raise Invalid(f"This layout has {len(model.stations)} stations; a simulation takes at most {MAX_STATIONS}.")
    if len(model.links) > MAX_CONNECTIONS:
        raise Invalid(f"This layout has {len(model.links)} connections; a simulation takes at most {MAX_CONNECTIONS}.")
    per_rep = estimated_visits(model, params["horizon_s"])
    if per_rep > MAX_VISITS_PER_REPLICATION:
        raise Invalid(f"One replication would simulate up to {per_rep:,.0f} station visits (limit "
                      f"{MAX_VISITS_PER_REPLICATION:,}); shorten horizon_s.", errors={"horizon_s": ["Too long for this layout."]})
    if per_rep * params["replications"] > MAX_VISITS_PER_RUN:
        raise Invalid(f"This run would simulate up to {per_rep * params['replications']:,.0f} station visits (limit "
                      f"{MAX_VISITS_PER_RUN:,}); use fewer replications or a shorter horizon_s.",
                      errors={"replications": ["Too many for this horizon and layout."]})


def simulation_create(*, layout: Layout, params: dict, by) -> SimulationRun:
    """Validate the parameters and the layout's model, store the run `queued`, enqueue it after commit."""
    require_role(user=by, factory_id=layout.factory_id, at_least=Role.ENGINEER, action="run simulations")
    cleaned = clean_params({k: v for k, v in params.items() if k != "layout"})
    with transaction.atomic():
        layout = lock_layout(layout.pk)  # the model and the revision are read together
        model = validated_model(layout)
        check_size(model, cleaned)
        run = SimulationRun.objects.create(
            layout=layout, layout_revision=layout.revision, status=Status.QUEUED, progress=0.0,
            params={**cleaned, "model": model_to_dict(model)}, created_by=by,
        )
        audit_append(factory_id=layout.factory_id, actor=by, action="simulation.create", object_type="simulation",
                     object_id=run.id, layout_id=layout.id, data={**cleaned, "layout_revision": layout.revision})
        _publish(run.id, layout.id, Status.QUEUED, 0.0, force=True)
        transaction.on_commit(lambda: _enqueue(run.id))
    return run


def _enqueue(run_id: int) -> None:
    from ..tasks.simulation import simulation_run_task

    queue = getattr(settings, "SIMULATION_QUEUE", None)
    simulation_run_task.apply_async((run_id,), **({"queue": queue} if queue else {}))


def simulation_cancel(*, run: SimulationRun, by) -> SimulationRun:
    require_role(user=by, factory_id=run.layout.factory_id, at_least=Role.ENGINEER, action="cancel simulations")
    with transaction.atomic():
        updated = SimulationRun.objects.filter(pk=run.pk, status__in=[Status.QUEUED, Status.RUNNING]).update(
            status=Status.CANCELLED, finished_at=timezone.now())
        run.refresh_from_db()
        if not updated:
            raise Conflict(f"Run {run.id} has already {run.status}; there is nothing to cancel.")
        audit_append(factory_id=run.layout.factory_id, actor=by, action="simulation.cancel", object_type="simulation",
                     object_id=run.id, layout_id=run.layout_id, data={"progress": run.progress})
        _publish(run.id, run.layout_id, Status.CANCELLED, run.progress, force=True)
    transaction.on_commit(lambda: _store_delete(run.id))
    return run


# --- running (called by the Celery tasks) ------------------------------------------------------------

def simulation_start(*, run_id: int, task_id: str = "") -> list[list[int]] | None:
    """Claim the run for an attempt; the replication batches to fan out, or None if there is nothing to do."""
    now = timezone.now()
    claimed = SimulationRun.objects.filter(pk=run_id, status__in=[Status.QUEUED, Status.RUNNING]).update(
        status=Status.RUNNING, attempts=F("attempts") + 1, started_at=Coalesce(F("started_at"), now), task_id=task_id[:64])
    if not claimed:
        return None
    run = SimulationRun.objects.get(pk=run_id)
    _publish(run.id, run.layout_id, Status.RUNNING, run.progress, force=True)
    return plan_batches(run.params["replications"])


def plan_batches(replications: int) -> list[list[int]]:
    size = math.ceil(replications / min(replications, BATCHES_MAX))
    return [list(range(first, min(replications, first + size))) for first in range(0, replications, size)]


def was_dispatched(run_id: int) -> bool:
    """A redelivered start task does not fan the batches out a second time once they are all sent."""
    return bool(redis_state.client().exists(_key(run_id, "dispatched")))


def mark_dispatched(run_id: int) -> None:
    redis_state.client().set(_key(run_id, "dispatched"), "1", ex=STORE_TTL_S)


def simulation_run_batch(*, run_id: int, replications: list[int]) -> None:
    """Run the replications of one batch that are not stored yet; the last one to finish combines."""
    run = SimulationRun.objects.filter(pk=run_id).first()
    if run is None or run.status != Status.RUNNING:
        return
    p = run.params
    model = model_from_dict(p["model"])
    cancelled = _cancel_watch(run_id)
    store = redis_state.client()
    reps_key = _key(run_id, "reps")
    todo = [r for r in replications if not store.hexists(reps_key, str(r))]
    # The fast path vectorises over replications: it takes a batch in one call. The event engine runs them one
    # at a time, so the room sees progress after each (and a cancel is honoured inside a long one).
    step = max(1, len(todo)) if runner.is_vectorised(model, p["horizon_s"]) else 1
    for first in range(0, len(todo), step):
        chunk = todo[first:first + step]
        if cancelled():
            return
        try:
            reps = runner.run_replications(model, horizon_s=p["horizon_s"], warmup_s=p["warmup_s"], seed=p["seed"],
                                           replications=chunk, should_cancel=cancelled)
        except runner.Cancelled:
            return
        except ModelError as exc:  # the snapshot was validated, so this means the engine disagrees
            simulation_fail(run_id=run_id, error=model_error_to_invalid(exc, model).message)
            return
        except Exception as exc:
            log.exception("simulation run %s: replications %s failed", run_id, chunk)
            simulation_fail(run_id=run_id, error=f"The simulation engine failed in replication {chunk[0] + 1}"
                                                 f"{'' if len(chunk) == 1 else f'–{chunk[-1] + 1}'}: {type(exc).__name__}: {exc}")
            return
        if cancelled(fresh=True):  # cancelled while these replications ran: keep nothing of them
            return
        pipe = store.pipeline()
        for rep in reps:
            pipe.hset(reps_key, str(rep["replication"]), json.dumps(rep, separators=(",", ":")))
        pipe.expire(reps_key, STORE_TTL_S)
        pipe.hlen(reps_key)
        done = pipe.execute()[-1]
        simulation_progress(run_id=run_id, layout_id=run.layout_id, progress=done / p["replications"])
    _maybe_combine(run, model)


def _maybe_combine(run: SimulationRun, model: Model) -> None:
    p = run.params
    raw = redis_state.client().hgetall(_key(run.id, "reps"))
    if len(raw) < p["replications"]:
        return
    reps = [json.loads(v) for v in raw.values()]
    try:
        results = runner.combine(model, reps, horizon_s=p["horizon_s"], warmup_s=p["warmup_s"])
    except Exception as exc:
        log.exception("simulation run %s: combining failed", run.id)
        simulation_fail(run_id=run.id, error=f"Combining the replications failed: {type(exc).__name__}: {exc}")
        return
    simulation_finish(run_id=run.id, results=results)


def simulation_progress(*, run_id: int, layout_id: int, progress: float) -> None:
    """Record progress (never backwards) and tell the room, at most a few times a second."""
    progress = max(0.0, min(1.0, float(progress)))
    SimulationRun.objects.filter(pk=run_id, status=Status.RUNNING, progress__lt=progress).update(progress=progress)
    _publish(run_id, layout_id, Status.RUNNING, progress)


def simulation_finish(*, run_id: int, results: dict) -> bool:
    """Store the results once: only a run still `running` can succeed (a cancel or an earlier finish wins)."""
    with transaction.atomic():
        done = SimulationRun.objects.filter(pk=run_id, status=Status.RUNNING).update(
            status=Status.SUCCEEDED, progress=1.0, results=results, error="", finished_at=timezone.now())
        if done:
            layout_id = SimulationRun.objects.values_list("layout_id", flat=True).get(pk=run_id)
            _publish(run_id, layout_id, Status.SUCCEEDED, 1.0, force=True)
    if done:
        _store_delete(run_id)
    return bool(done)


def simulation_fail(*, run_id: int, error: str) -> bool:
    with transaction.atomic():
        done = SimulationRun.objects.filter(pk=run_id, status__in=[Status.QUEUED, Status.RUNNING]).update(
            status=Status.FAILED, error=str(error)[:5000], finished_at=timezone.now())
        if done:
            run = SimulationRun.objects.get(pk=run_id)
            _publish(run_id, run.layout_id, Status.FAILED, run.progress, force=True)
    if done:
        _store_delete(run_id)
    return bool(done)


# --- helpers -------------------------------------------------------------------------------------------

def _key(run_id: int, what: str) -> str:
    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"].get("prefix", "asgi")
    return f"{prefix}:mv:sim:{run_id}:{what}"


def _store_delete(run_id: int) -> None:
    try:
        redis_state.client().delete(*(_key(run_id, k) for k in ("reps", "pub", "dispatched")))
    except Exception:
        log.warning("could not clean up the replication store of run %s", run_id, exc_info=True)


def _cancel_watch(run_id: int):
    """A should_cancel() that looks at the run's status in the database at most every CANCEL_POLL_S."""
    state = {"at": 0.0, "stop": False}

    def should_cancel(fresh: bool = False) -> bool:
        now = time.monotonic()
        if not state["stop"] and (fresh or now - state["at"] >= CANCEL_POLL_S):
            state["at"] = now
            status = SimulationRun.objects.filter(pk=run_id).values_list("status", flat=True).first()
            state["stop"] = status != Status.RUNNING
        return state["stop"]

    return should_cancel


def _publish(run_id: int, layout_id: int, status: str, progress: float, *, force: bool = False) -> None:
    """`sim.progress` to the layout's room; unforced ones are rate-limited per run across all workers."""
    if not force:
        try:
            if not redis_state.client().set(_key(run_id, "pub"), "1", nx=True, px=int(PUBLISH_INTERVAL_S * 1000)):
                return
        except Exception:
            log.warning("progress throttle unavailable for run %s", run_id, exc_info=True)
    message = SimProgress(id=run_id, status=str(status), progress=round(float(progress), 4))
    events.publish_to_layout(layout_id, message.model_dump())
