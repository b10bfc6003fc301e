"""Simulation runs: create (validate, snapshot, enqueue after commit), run in replication batches, cancel.

Life of a run: `simulation_create` stores it `queued` with a JSON snapshot of the layout's model and
enqueues `simulation_run_task` once the transaction commits. That task calls `simulation_start`, which
claims the run (`queued`/`running` → `running`, attempts + 1) and returns the replication batches, and
`simulation_dispatch` fans them out as a Celery group. Each batch calls `simulation_run_batch`, which
stores every finished replication in the database, once per replication number (so a redelivered or
duplicated batch never counts a replication twice), and, when all are there, combines them and finishes
the run with a conditional update (`running` → `succeeded`): whoever gets there first wins, everyone else
is a no-op. A cancel flips the status in the database; batches look at it before and inside every
replication. Messages lost with a Redis restart are sent again by `simulation_recover` (the watchdog).
"""
from __future__ import annotations

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
from . import simulation_store as store
from .forecast import live_initial_state
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
PARAM_KEYS = {"layout", "horizon_s", "warmup_s", "replications", "seed", "calendar", "initial_state"}
MAX_SEED = 2**63 - 1
BATCHES_MAX = 8  # a run is cut into at most this many batches of replications (the units of fan-out)
PUBLISH_INTERVAL_S = 0.25  # sim.progress at most four times a second per run, across all workers
CANCEL_POLL_S = 0.2
RECOVER_GRACE_S = 10.0  # a run younger than this may still be on its way into the broker


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
    cleaned = {"horizon_s": horizon, "warmup_s": warmup, "replications": replications, "seed": seed}
    calendar = params.get("calendar")
    if calendar is not None:
        cleaned["calendar"] = clean_calendar(calendar)
    initial = params.get("initial_state")
    if initial not in (None, "empty", "live"):
        raise Invalid('initial_state must be "live" (start from what the twins report now) or "empty".',
                      errors={"initial_state": ['Must be "live" or "empty".']})
    if initial == "live":
        cleaned["initial_state"] = "live"
    return cleaned


def clean_calendar(calendar) -> dict:
    """The shift calendar of CONTRACT.md §7, `{"period_s", "on": [[start_s, end_s], ...]}`, or a 400."""
    from ..simulation.validate import check_calendar

    try:
        check_calendar(calendar)
    except ModelError as exc:
        raise Invalid(f"{exc.message[0].upper()}{exc.message[1:]}.", errors={"calendar": [exc.message]}) from None
    return {"period_s": float(calendar["period_s"]), "on": [[float(a), float(b)] for a, b in calendar["on"]]}


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
    return _create(layout=layout, params=params, by=by)


def _create(*, layout: Layout, params: dict, by) -> SimulationRun:
    """simulation_create once the caller may (a user with the role, or the plant itself: by=None)."""
    cleaned = clean_params({k: v for k, v in params.items() if k != "layout"})
    with transaction.atomic():
        layout = lock_layout(layout.pk)  # the model and the revision are read together
        initial = live_initial_state(layout) if cleaned.get("initial_state") == "live" else None
        model = validated_model(layout, cleaned.get("calendar"), initial)
        check_size(model, cleaned)
        run = SimulationRun.objects.create(
            layout=layout, layout_revision=layout.revision, status=Status.QUEUED, progress=0.0,
            params={**cleaned, "model": model_to_dict(model)}, created_by=by,
            queue=getattr(settings, "SIMULATION_QUEUE", None) or "",
        )
        audit_append(factory_id=layout.factory_id, actor=by, action="simulation.create", object_type="simulation",
                     object_id=run.id, layout_id=layout.id, data={**cleaned, "layout_revision": layout.revision})
        _publish(run.id, layout.id, Status.QUEUED, 0.0, force=True)
        transaction.on_commit(lambda: _enqueue(run.id, run.queue))
    return run


def run_create_quietly(*, layout: Layout, revision: int, cleaned: dict, model: Model, by) -> SimulationRun:
    """A run that is one point of an experiment: no audit entry and no `sim.progress` of its own (the
    experiment has both); otherwise a run like any other, enqueued after the commit."""
    run = SimulationRun.objects.create(
        layout=layout, layout_revision=revision, status=Status.QUEUED, progress=0.0,
        params={**cleaned, "model": model_to_dict(model)}, created_by=by,
        queue=getattr(settings, "SIMULATION_QUEUE", None) or "",
    )
    transaction.on_commit(lambda: _enqueue(run.id, run.queue))
    return run


def run_ended_quietly(run_id: int) -> None:
    store.replications_delete(run_id)
    _ended(run_id)


def _enqueue(run_id: int, queue: str) -> None:
    """Send the start task (the mark first: a Redis that loses the message loses the mark with it). With
    Redis away the run stays `queued` and the watchdog sends it once Redis is back."""
    from ..tasks.simulation import simulation_run_task

    try:
        store.sent_mark(run_id, store.START)
        simulation_run_task.apply_async((run_id,), **_on(queue))
    except Exception:
        log.warning("could not enqueue simulation run %s; the watchdog will", run_id, exc_info=True)


def _on(queue: str) -> dict:
    return {"queue": queue} if queue else {}


def simulation_cancel(*, run: SimulationRun, by) -> SimulationRun:
    require_role(user=by, factory_id=run.layout.factory_id, at_least=Role.ENGINEER, action="cancel simulations")
    with transaction.atomic():
        updated = SimulationRun.objects.filter(pk=run.pk, status__in=[Status.QUEUED, Status.RUNNING]).update(
            status=Status.CANCELLED, finished_at=timezone.now())
        run.refresh_from_db()
        if not updated:
            raise Conflict(f"Run {run.id} has already {run.status}; there is nothing to cancel.")
        store.replications_delete(run.id)
        audit_append(factory_id=run.layout.factory_id, actor=by, action="simulation.cancel", object_type="simulation",
                     object_id=run.id, layout_id=run.layout_id, data={"progress": run.progress})
        _publish(run.id, run.layout_id, Status.CANCELLED, run.progress, force=True)
    transaction.on_commit(lambda: _ended(run.id))
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
    from .experiments import on_run_started

    on_run_started(run_id)  # a point of an experiment: the experiment is running from its first point on
    _publish(run.id, run.layout_id, Status.RUNNING, run.progress, force=True)
    return plan_batches(run.params["replications"])


def plan_batches(replications: int | list[int]) -> list[list[int]]:
    """At most BATCHES_MAX batches of consecutive replications: of range(n), or of the given numbers."""
    reps = list(range(replications)) if isinstance(replications, int) else list(replications)
    size = math.ceil(len(reps) / min(len(reps), BATCHES_MAX))
    return [reps[first:first + size] for first in range(0, len(reps), size)]


def was_dispatched(run_id: int) -> bool:
    """A redelivered start task does not fan the batches out a second time once they are sent."""
    return store.sent_what(run_id) == store.BATCHES


def simulation_dispatch(*, run_id: int, batches: list[list[int]]) -> None:
    """Fan the batches out as a Celery group on the run's queue. The mark goes first, so that a Redis that
    loses the messages loses the mark too; a send that fails half-way takes the mark away again."""
    from celery import group

    from ..tasks.simulation import simulation_batch_task

    queue = SimulationRun.objects.values_list("queue", flat=True).get(pk=run_id)
    store.sent_mark(run_id, store.BATCHES)
    try:
        group(simulation_batch_task.s(run_id, reps) for reps in batches).apply_async(**_on(queue))
    except Exception:
        store.sent_clear(run_id)
        raise


def simulation_recover(*, run_id: int) -> bool:
    """Send a run's missing work again if its messages are gone from the broker (a Redis restart or flush
    took them and the mark with them): the start task of a `queued` run, the batches of the replications a
    `running` run has not stored (none missing: one empty batch, which combines). True if it sent anything.
    Claiming the mark with SET NX makes two recoveries of one run send once."""
    run = SimulationRun.objects.filter(pk=run_id, status__in=[Status.QUEUED, Status.RUNNING]).first()
    if run is None or (timezone.now() - run.created_at).total_seconds() < RECOVER_GRACE_S:
        return False
    what = store.START if run.status == Status.QUEUED else store.BATCHES
    if not store.sent_mark(run_id, what, only_if_absent=True):
        return False
    if what == store.START:
        log.warning("simulation run %s: its start task was lost; sending it again", run_id)
        _enqueue(run_id, run.queue)
        return True
    done = store.replications_done(run_id)
    missing = [r for r in range(run.params["replications"]) if r not in done]
    log.warning("simulation run %s: its batches were lost; sending replications %s again", run_id, missing)
    simulation_dispatch(run_id=run_id, batches=plan_batches(missing) if missing else [[]])
    return True


def simulation_run_batch(*, run_id: int, replications: list[int]) -> None:
    """Run the replications of one batch that are not stored yet; the last one to finish combines."""
    run = SimulationRun.objects.filter(pk=run_id).first()
    if run is None or run.status != Status.RUNNING:
        return
    p = run.params
    model = model_from_dict(p["model"])
    cancelled = _cancel_watch(run_id)
    done = store.replications_done(run_id)
    todo = [r for r in replications if r not in done]
    progress = _ProgressReport(run_id=run_id, layout_id=run.layout_id, total=p["replications"], stored=len(done))
    # The fast path vectorises over replications: it takes a batch in one call. The event engine runs them one
    # at a time and reports from inside each, so the room sees a long one advance (and a cancel is honoured in it).
    step = max(1, len(todo)) if runner.is_vectorised(model, p["horizon_s"]) else 1
    for first in range(0, len(todo), step):
        chunk = todo[first:first + step]
        if cancelled():
            return
        try:
            reps = runner.run_replications(model, horizon_s=p["horizon_s"], warmup_s=p["warmup_s"], seed=p["seed"],
                                           replications=chunk, should_cancel=cancelled, progress=progress)
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
        progress.stored = store.replications_save(run_id=run_id, reps=reps)
        simulation_progress(run_id=run_id, layout_id=run.layout_id, progress=progress.stored / p["replications"])
    if not _maybe_combine(run, model):
        _recover_quietly(run_id)  # this batch is done; if the others were lost meanwhile, don't wait for the watchdog


def _maybe_combine(run: SimulationRun, model: Model) -> bool:
    """Combine and finish if every replication is stored; False if some are still missing."""
    p = run.params
    reps = store.replications_load(run.id)
    if len(reps) < p["replications"]:
        return False
    try:
        results = runner.combine(model, reps, horizon_s=p["horizon_s"], warmup_s=p["warmup_s"])
    except Exception as exc:
        log.exception("simulation run %s: combining failed", run.id)
        simulation_fail(run_id=run.id, error=f"Combining the replications failed: {type(exc).__name__}: {exc}")
        return True
    simulation_finish(run_id=run.id, results=results)
    return True


def _recover_quietly(run_id: int) -> None:
    try:
        simulation_recover(run_id=run_id)
    except Exception:  # Redis still away: the watchdog tries again on its next beat
        log.warning("simulation run %s: recovery check failed", run_id, exc_info=True)


def simulation_progress(*, run_id: int, layout_id: int, progress: float) -> None:
    """Record progress and tell the room, at most a few times a second; only a step forward is news (with
    several workers reporting, one that lags behind says nothing)."""
    progress = max(0.0, min(1.0, float(progress)))
    if SimulationRun.objects.filter(pk=run_id, status=Status.RUNNING, progress__lt=progress).update(progress=progress):
        _publish(run_id, layout_id, Status.RUNNING, progress)


def simulation_finish(*, run_id: int, results: dict) -> bool:
    """Store the results once: only a run still `running` can succeed (a cancel or an earlier finish wins)."""
    with transaction.atomic():
        done = SimulationRun.objects.filter(pk=run_id, status=Status.RUNNING).update(
            status=Status.SUCCEEDED, progress=1.0, results=results, error="", finished_at=timezone.now())
        if done:
            store.replications_delete(run_id)
            layout_id = SimulationRun.objects.values_list("layout_id", flat=True).get(pk=run_id)
            _publish(run_id, layout_id, Status.SUCCEEDED, 1.0, force=True)
            transaction.on_commit(lambda: _ended(run_id))
    return bool(done)


def simulation_fail(*, run_id: int, error: str) -> bool:
    with transaction.atomic():
        done = SimulationRun.objects.filter(pk=run_id, status__in=[Status.QUEUED, Status.RUNNING]).update(
            status=Status.FAILED, error=str(error)[:5000], finished_at=timezone.now())
        if done:
            store.replications_delete(run_id)
            run = SimulationRun.objects.get(pk=run_id)
            _publish(run_id, run.layout_id, Status.FAILED, run.progress, force=True)
            transaction.on_commit(lambda: _ended(run_id))
    return bool(done)


# --- helpers -------------------------------------------------------------------------------------------

def _key(run_id: int, what: str) -> str:
    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"].get("prefix", "asgi")
    return f"{prefix}:mv:sim:{run_id}:{what}"


def _ended(run_id: int) -> None:
    """A run that ended needs its Redis keys no more (best effort: they expire anyway); if it is a point of
    an experiment, the experiment moves on."""
    from .experiments import on_run_ended

    on_run_ended(run_id)
    store.sent_clear(run_id)
    try:
        redis_state.client().delete(_key(run_id, "pub"))
    except Exception:
        log.warning("could not clean up the progress throttle of run %s", run_id, exc_info=True)


class _ProgressReport:
    """The runner's progress(done) for one batch: (replications stored + done in this batch) / total, sent
    at most every PUBLISH_INTERVAL_S from this worker, so a long replication reports a few times a second."""

    def __init__(self, *, run_id: int, layout_id: int, total: int, stored: int):
        self.run_id, self.layout_id, self.total, self.stored = run_id, layout_id, total, stored
        self.at = time.monotonic()

    def __call__(self, done: float) -> None:
        now = time.monotonic()
        if now - self.at >= PUBLISH_INTERVAL_S:
            self.at = now
            simulation_progress(run_id=self.run_id, layout_id=self.layout_id, progress=(self.stored + done) / self.total)


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
    from ..models import ExperimentPoint
    from .experiments import publish_progress

    experiment_id = ExperimentPoint.objects.filter(run_id=run_id).values_list("experiment_id", flat=True).first()
    if experiment_id is not None:
        publish_progress(experiment_id)  # a point of an experiment: the room hears `exp.progress` instead
        return
    message = SimProgress(id=run_id, status=str(status), progress=round(float(progress), 4))
    events.publish_to_layout(layout_id, message.model_dump())
