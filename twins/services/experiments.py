"""Experiments (CONTRACT.md §8): a full factorial or an optimiser over asset params and connection fields.

Each point is an ordinary simulation run of a variant of the layout's model (the same revision, the
experiment's seed and replications), so it inherits everything a run has: batches fanned out over the
Celery workers, finished replications kept in the database, the watchdog, exactly-once finishing. With
one seed, every point draws the same random numbers per station and purpose (common random numbers), so
two points differ by their layout, not by luck, and `compare` can pair them replication by replication.

`experiment_advance` is the one place an experiment moves on: it runs when a point's run ends and at every
watchdog beat, under a row lock, and it is idempotent — it adds the optimiser's next points while the
budget lasts, and finishes the experiment once, when every point has ended.
"""
from __future__ import annotations

import itertools
import logging
import math
from dataclasses import replace

from django.db import transaction
from django.utils import timezone

from collaboration import events
from collaboration.audit import audit_append

from ..errors import Conflict, Invalid
from ..models import Asset, Connection, Experiment, ExperimentPoint, Layout, Role, SimulationRun
from ..simulation.model import Model, ModelError
from ..simulation.validate import validate
from ..simulation_model import _PARAM_FIELDS, model_error_to_invalid, model_from_dict, model_to_dict, validated_model
from . import simulations
from .common import finite_number, lock_layout, require_role

log = logging.getLogger(__name__)
Status = Experiment.Status
RunStatus = SimulationRun.Status

MAX_TOTAL_REPLICATIONS = 20_000
MAX_FACTORS = 8
MAX_VALUES = 100
MAX_BUDGET = 1000
PARALLEL_POINTS = 4  # the optimiser keeps this many points in flight (enough to keep a few workers busy)
CONNECTION_FIELDS = ("buffer_capacity", "transport_speed_mps", "weight", "quantity")
KPIS = ("throughput_per_hour", "lead_time_s", "wip")
RESULT_KPIS = ("throughput_per_hour", "lead_time_s", "wip", "scrap_per_hour")
FIELDS = {"layout", "name", "factors", "horizon_s", "warmup_s", "replications", "seed", "calendar", "objective", "search"}


# --- checking a request ----------------------------------------------------------------------------------

def _bad(field: str, message: str) -> Invalid:
    return Invalid(message, errors={field: [message]})


def _clean_factor(k: int, factor, *, stations: dict, links: dict, names: dict) -> dict:
    where = f"factors[{k}]"
    if not isinstance(factor, dict):
        raise _bad("factors", f"{where} must be an object.")
    values = factor.get("values")
    if not isinstance(values, list) or not 1 <= len(values) <= MAX_VALUES:
        raise _bad("factors", f"{where}.values must be a list of 1 to {MAX_VALUES} values.")
    if "asset" in factor:
        if set(factor) - {"asset", "param", "values"}:
            raise _bad("factors", f"{where}: an asset factor has asset, param and values.")
        asset, param = factor.get("asset"), factor.get("param")
        if isinstance(asset, bool) or not isinstance(asset, int) or asset not in stations:
            raise _bad("factors", f"{where}.asset must be the id of a simulated asset of this layout.")
        if param not in _PARAM_FIELDS:
            raise _bad("factors", f"{where}.param must be one of {', '.join(_PARAM_FIELDS)}.")
        from .params import clean_params

        clean = [clean_params({param: v}, layout=stations[asset]["layout"]).get(param) for v in values]
        label = f"{names[asset]}.{param}"
        out = {"asset": asset, "param": param, "values": clean, "label": label}
    elif "connection" in factor:
        if set(factor) - {"connection", "field", "values"}:
            raise _bad("factors", f"{where}: a connection factor has connection, field and values.")
        conn, field = factor.get("connection"), factor.get("field")
        if isinstance(conn, bool) or not isinstance(conn, int) or conn not in links:
            raise _bad("factors", f"{where}.connection must be the id of a connection of this layout.")
        if field not in CONNECTION_FIELDS:
            raise _bad("factors", f"{where}.field must be one of {', '.join(CONNECTION_FIELDS)}.")
        spec = {"buffer_capacity": dict(minimum=0, maximum=100_000, allow_none=True, integer=True),
                "transport_speed_mps": dict(minimum=0.001, maximum=1000.0, allow_none=True),
                "weight": dict(minimum=0.0, maximum=1e6),
                "quantity": dict(minimum=1, maximum=1000, integer=True)}[field]
        clean = [finite_number(v, field=f"{where}.values", **spec) for v in values]
        if field == "weight" and any(v <= 0 for v in clean):
            raise _bad("factors", f"{where}.values: a weight must be > 0.")
        src, dst = links[conn]
        label = f"{names.get(src, src)}→{names.get(dst, dst)}.{field}"
        out = {"connection": conn, "field": field, "values": clean, "label": label}
    else:
        raise _bad("factors", f"{where} needs an asset (with param) or a connection (with field).")
    if len({repr(v) for v in out["values"]}) != len(out["values"]):
        raise _bad("factors", f"{where}.values must not repeat a value.")
    return out


def _clean_objective(objective) -> dict:
    if objective is None:
        return {"kpi": "throughput_per_hour", "sense": "max"}
    if not isinstance(objective, dict) or set(objective) - {"kpi", "sense"}:
        raise _bad("objective", 'objective must be {"kpi": …, "sense": "max" | "min"}.')
    kpi = objective.get("kpi", "throughput_per_hour")
    if kpi not in KPIS:
        raise _bad("objective", f"objective.kpi must be one of {', '.join(KPIS)}.")
    default = "max" if kpi == "throughput_per_hour" else "min"
    sense = objective.get("sense", default)
    if sense not in ("max", "min"):
        raise _bad("objective", 'objective.sense must be "max" or "min".')
    return {"kpi": kpi, "sense": sense}


def _clean_search(search, combos: int) -> dict:
    if search is None:
        search = {"method": "grid"}
    if not isinstance(search, dict) or search.get("method") not in ("grid", "optimize"):
        raise _bad("search", 'search must be {"method": "grid"} or {"method": "optimize", "budget": N}.')
    if search["method"] == "grid":
        if set(search) - {"method"}:
            raise _bad("search", "a grid search takes no other setting.")
        return {"method": "grid", "points": combos}
    if set(search) - {"method", "budget"}:
        raise _bad("search", "an optimize search takes a budget.")
    budget = finite_number(search.get("budget"), field="search.budget", minimum=1, maximum=MAX_BUDGET, integer=True)
    return {"method": "optimize", "budget": budget, "points": min(budget, combos)}


def point_model(base: Model, factors: list, values: list) -> Model:
    """The layout's model with one point's values set."""
    by_asset, by_link = {}, {}
    for f, v in zip(factors, values):
        if "asset" in f:
            by_asset.setdefault(f["asset"], {})[f["param"]] = v
        else:
            by_link.setdefault(f["connection"], {})[f["field"]] = v
    stations = tuple(replace(s, **by_asset[s.id]) if s.id in by_asset else s for s in base.stations)
    links = tuple(replace(ln, **by_link[ln.id]) if ln.id in by_link else ln for ln in base.links)
    return Model(stations=stations, links=links, calendar=base.calendar)


def clean_experiment(layout: Layout, body: dict) -> dict:
    if not isinstance(body, dict):
        raise Invalid("The body must be a JSON object.")
    unknown = set(body) - FIELDS
    if unknown:
        raise Invalid(f"Unknown field(s): {', '.join(sorted(unknown))}.", errors={f: ["Unknown field."] for f in sorted(unknown)})
    name = body.get("name") or f"Experiment on {layout.name}"
    if not isinstance(name, str) or len(name.strip()) > 200 or not name.strip():
        raise _bad("name", "name must be a text of at most 200 characters.")
    sim = simulations.clean_params({k: body[k] for k in ("horizon_s", "warmup_s", "replications", "seed", "calendar") if k in body})
    base = validated_model(layout, sim.get("calendar"))
    assets = {a["id"]: a for a in Asset.objects.filter(layout=layout).values("id", "name", "layout")}
    stations = {s.id: assets[s.id] for s in base.stations if s.id in assets}
    links = {ln.id: (ln.source, ln.target) for ln in base.links}
    names = {i: a["name"] for i, a in assets.items()}
    raw = body.get("factors")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_FACTORS:
        raise _bad("factors", f"factors must be a list of 1 to {MAX_FACTORS} factors.")
    factors = [_clean_factor(k, f, stations=stations, links=links, names=names) for k, f in enumerate(raw)]
    if len({(f.get("asset"), f.get("param"), f.get("connection"), f.get("field")) for f in factors}) != len(factors):
        raise _bad("factors", "two factors vary the same parameter.")
    combos = math.prod(len(f["values"]) for f in factors)
    search = _clean_search(body.get("search"), combos)
    total = search["points"] * sim["replications"]
    if total > MAX_TOTAL_REPLICATIONS:
        raise Invalid(f"This experiment would run {search['points']:,} points × {sim['replications']} replications = "
                      f"{total:,} replications; the limit is {MAX_TOTAL_REPLICATIONS:,}. Use fewer values, points or "
                      "replications.", errors={"factors": ["Too many replications in all."]})
    return {"name": name.strip(), "sim": sim, "base": base, "factors": factors,
            "objective": _clean_objective(body.get("objective")), "search": search}


# --- creating and advancing ------------------------------------------------------------------------------

def _add_point(exp: Experiment, index: int, values: list, base: Model, by) -> ExperimentPoint:
    model = point_model(base, exp.factors, values)
    try:
        validate(model)
    except ModelError as exc:
        raise model_error_to_invalid(exc, model) from None
    cleaned = {k: exp.params[k] for k in ("horizon_s", "warmup_s", "replications", "seed")}
    if "calendar" in exp.params:
        cleaned["calendar"] = exp.params["calendar"]
    simulations.check_size(model, cleaned)
    run = simulations.run_create_quietly(layout=exp.layout, revision=exp.layout_revision, cleaned=cleaned, model=model, by=by)
    return ExperimentPoint.objects.create(experiment=exp, index=index, values=values, run=run)


def experiment_create(*, layout: Layout, body: dict, by) -> Experiment:
    require_role(user=by, factory_id=layout.factory_id, at_least=Role.ENGINEER, action="run experiments")
    with transaction.atomic():
        layout = lock_layout(layout.pk)
        c = clean_experiment(layout, body)
        params = {**c["sim"], "model": model_to_dict(c["base"])}
        exp = Experiment.objects.create(layout=layout, layout_revision=layout.revision, name=c["name"],
                                        status=Status.QUEUED, factors=c["factors"], objective=c["objective"],
                                        search=c["search"], params=params, created_by=by)
        if c["search"]["method"] == "grid":
            grid = itertools.product(*[f["values"] for f in c["factors"]])
            for k, values in enumerate(grid):
                _add_point(exp, k, list(values), c["base"], by)
        else:
            for k, values in enumerate(_optimiser_ask(exp, [], min(PARALLEL_POINTS, c["search"]["points"]))):
                _add_point(exp, k, values, c["base"], by)
        audit_append(factory_id=layout.factory_id, actor=by, action="experiment.create", object_type="experiment",
                     object_id=exp.id, layout_id=layout.id,
                     data={"name": exp.name, "factors": exp.factors, "objective": exp.objective, "search": exp.search,
                           **c["sim"], "layout_revision": layout.revision})
        transaction.on_commit(lambda: publish_progress(exp.id))
    return exp


def experiment_advance(*, experiment_id: int) -> None:
    """Move an experiment on (idempotent): add the optimiser's next points, finish it when all have ended."""
    with transaction.atomic():
        exp = Experiment.objects.select_for_update().select_related("layout").filter(pk=experiment_id).first()
        if exp is None or exp.is_finished:
            return
        points = list(exp.points.select_related("run").order_by("index"))
        pending = [p for p in points if p.run is not None and not p.run.is_finished]
        target = exp.search["points"]
        if exp.search["method"] == "optimize" and len(points) < target:
            room = PARALLEL_POINTS - len(pending)
            if room > 0:
                new = _optimiser_ask(exp, points, min(target - len(points), room))
                base = model_from_dict(exp.params["model"]) if new else None
                for k, values in enumerate(new):
                    _add_point(exp, len(points) + k, values, base, exp.created_by)
                if new:
                    transaction.on_commit(lambda: publish_progress(exp.id))
                    return
                target = len(points)  # every combination has been tried
        if not pending and len(points) >= target:
            ok = [p for p in points if p.run is not None and p.run.status == RunStatus.SUCCEEDED]
            exp.status = Status.SUCCEEDED if ok else Status.FAILED
            exp.error = "" if ok else "Every point of this experiment failed; open one of its runs for the reason."
            exp.finished_at = timezone.now()
            exp.save(update_fields=["status", "error", "finished_at"])
        elif exp.status == Status.QUEUED and any(p.run.status != RunStatus.QUEUED for p in points if p.run):
            exp.status = Status.RUNNING
            exp.save(update_fields=["status"])
        transaction.on_commit(lambda: publish_progress(exp.id))


def experiment_cancel(*, experiment: Experiment, by) -> Experiment:
    require_role(user=by, factory_id=experiment.layout.factory_id, at_least=Role.ENGINEER, action="cancel experiments")
    with transaction.atomic():
        exp = Experiment.objects.select_for_update().get(pk=experiment.pk)
        if exp.is_finished:
            raise Conflict(f"Experiment {exp.id} has already {exp.status}; there is nothing to cancel.")
        exp.status = Status.CANCELLED
        exp.finished_at = timezone.now()
        exp.save(update_fields=["status", "finished_at"])
        run_ids = list(exp.points.filter(run__status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).values_list("run_id", flat=True))
        SimulationRun.objects.filter(pk__in=run_ids, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).update(
            status=RunStatus.CANCELLED, finished_at=timezone.now())  # batches see it before and inside replications
        for run_id in run_ids:
            transaction.on_commit(lambda run_id=run_id: simulations.run_ended_quietly(run_id))
        audit_append(factory_id=exp.layout.factory_id, actor=by, action="experiment.cancel", object_type="experiment",
                     object_id=exp.id, layout_id=exp.layout_id, data={"runs_cancelled": len(run_ids)})
        transaction.on_commit(lambda: publish_progress(exp.id))
    return exp


def experiment_apply(*, experiment: Experiment, point: int, name, by) -> Layout:
    """A new draft branched from the experiment's layout with that point's values, through the services."""
    from .assets import asset_update
    from .connections import connection_update
    from .layouts import layout_branch

    require_role(user=by, factory_id=experiment.layout.factory_id, at_least=Role.ENGINEER, action="apply experiment points")
    if isinstance(point, bool) or not isinstance(point, int):
        raise _bad("point", "point must be the index of one of the experiment's points.")
    row = experiment.points.filter(index=point).first()
    if row is None:
        raise _bad("point", f"This experiment has no point {point}.")
    with transaction.atomic():
        branch = layout_branch(layout=experiment.layout, name=name or f"{experiment.name} · point {point}", by=by)
        uids = dict(Asset.objects.filter(layout=experiment.layout).values_list("id", "uid"))
        cuids = dict(Connection.objects.filter(layout=experiment.layout).values_list("id", "uid"))
        by_asset, by_conn = {}, {}
        for f, v in zip(experiment.factors, row.values):
            if "asset" in f:
                by_asset.setdefault(f["asset"], {})[f["param"]] = v
            else:
                by_conn.setdefault(f["connection"], {})[f["field"]] = v
        for asset_id, params in by_asset.items():
            if asset_id not in uids:
                raise Conflict("An asset this point sets has been deleted from the layout since.")
            copy = Asset.objects.get(layout=branch, uid=uids[asset_id])
            asset_update(asset=copy, changes={"params": {**(copy.params or {}), **params}}, version=copy.version, by=by)
        for conn_id, fields in by_conn.items():
            if conn_id not in cuids:
                raise Conflict("A connection this point sets has been deleted from the layout since.")
            copy = Connection.objects.get(layout=branch, uid=cuids[conn_id])
            connection_update(connection=copy, changes=fields, by=by, version=copy.version)
        audit_append(factory_id=experiment.layout.factory_id, actor=by, action="experiment.apply", object_type="experiment",
                     object_id=experiment.id, layout_id=branch.id, data={"point": point, "values": row.values, "branch": branch.id})
    return branch


# --- the optimiser ---------------------------------------------------------------------------------------

def _objective_value(exp: Experiment, run: SimulationRun | None):
    if run is None or run.status != RunStatus.SUCCEEDED or not run.results:
        return None
    return run.results[exp.objective["kpi"]]["mean"]


def _optimiser_ask(exp: Experiment, points: list, count: int) -> list[list]:
    """Up to `count` new points (values lists) that no point has yet. Optuna's TPE sampler over the factors'
    value indices, rebuilt from the finished points each time (seeded by the experiment's seed and the
    number of points, so the same history gives the same suggestions: a redelivered task adds nothing
    different). Chosen over nevergrad in bench/optimizers.py."""
    import optuna
    from optuna.distributions import IntDistribution
    from optuna.trial import TrialState, create_trial

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    factors = exp.factors
    dists = {f"f{k}": IntDistribution(0, len(f["values"]) - 1) for k, f in enumerate(factors)}
    taken = {repr(p.values) for p in points}
    combos = math.prod(len(f["values"]) for f in factors)
    if len(taken) >= combos:
        return []
    sampler = optuna.samplers.TPESampler(seed=(int(exp.params["seed"]) + len(points)) % (2**32),
                                         n_startup_trials=min(PARALLEL_POINTS, max(1, exp.search["points"] // 3)))
    study = optuna.create_study(direction="maximize" if exp.objective["sense"] == "max" else "minimize", sampler=sampler)
    for p in points:
        value = _objective_value(exp, p.run)
        idx = {f"f{k}": factors[k]["values"].index(v) for k, v in enumerate(p.values)}
        state = TrialState.COMPLETE if value is not None else TrialState.FAIL
        study.add_trial(create_trial(params=idx, distributions=dists, value=value, state=state))
    out = []
    rng_fallback = itertools.product(*[range(len(f["values"])) for f in factors])
    while len(out) < count and len(taken) < combos:
        trial = study.ask(dists)
        values = [factors[k]["values"][trial.params[f"f{k}"]] for k in range(len(factors))]
        if repr(values) in taken:  # TPE proposes a point already run: the next untried one instead
            study.tell(trial, state=TrialState.PRUNED)
            for idx in rng_fallback:
                values = [factors[k]["values"][i] for k, i in enumerate(idx)]
                if repr(values) not in taken:
                    break
        else:
            study.tell(trial, state=TrialState.PRUNED)  # its value comes from the run, in a later rebuild
        taken.add(repr(values))
        out.append(values)
    return out


# --- reading ---------------------------------------------------------------------------------------------

def _point_results(run: SimulationRun | None):
    if run is None or run.status != RunStatus.SUCCEEDED or not run.results:
        return None
    return {k: run.results.get(k) for k in RESULT_KPIS if k in run.results}


def _progress(exp: Experiment) -> tuple[float, int, int]:
    """(progress, done, total) from the points' run statuses alone: `exp.progress` is sent a few times a
    second while points run, so it must not load every point's results."""
    rows = list(exp.points.values_list("run__status", "run__progress"))
    ended = {RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED, None}
    total = exp.search.get("points", len(rows))
    done = sum(1 for status, _ in rows if status in ended)
    if exp.status == Status.SUCCEEDED:
        return 1.0, done, total
    return sum(1.0 if status in ended else (progress or 0.0) for status, progress in rows) / max(1, total), done, total


def experiment_repr(exp: Experiment, *, full: bool = True) -> dict:
    points = list(exp.points.select_related("run").order_by("index"))
    total = exp.search.get("points", len(points))
    done = sum(1 for p in points if p.run is None or p.run.is_finished)
    progress = 1.0 if exp.status == Status.SUCCEEDED else \
        sum((p.run.progress if p.run and not p.run.is_finished else 1.0) for p in points) / max(1, total)
    kpi, sense = exp.objective["kpi"], exp.objective["sense"]
    scored = [(p.run.results[kpi]["mean"], p.index) for p in points
              if p.run and p.run.status == RunStatus.SUCCEEDED and p.run.results]
    best = None
    if scored:
        best = (max if sense == "max" else min)(scored, key=lambda x: (x[0], -x[1]))[1]
    effects = {}
    for k, f in enumerate(exp.factors):
        means = []
        for v in f["values"]:
            vals = [s for s, i in scored if points[i].values[k] == v]
            means.append(sum(vals) / len(vals) if vals else None)
        effects[f["label"]] = means
    body = {
        "id": exp.id, "layout": exp.layout_id, "layout_revision": exp.layout_revision, "name": exp.name,
        "status": exp.status, "progress": round(progress, 4), "done": done, "total": total,
        "factors": exp.factors, "objective": exp.objective, "search": exp.search,
        "params": {k: v for k, v in exp.params.items() if k != "model"},
        "best": best, "effects": effects, "error": exp.error,
        "created_by": exp.created_by.username if exp.created_by else None,
        "created_at": exp.created_at.isoformat(), "finished_at": exp.finished_at.isoformat() if exp.finished_at else None,
    }
    if full:
        body["points"] = [{
            "index": p.index, "values": {f["label"]: v for f, v in zip(exp.factors, p.values)},
            "run": p.run_id, "status": p.run.status if p.run else "failed", "results": _point_results(p.run),
        } for p in points]
    return body


def publish_progress(experiment_id: int) -> None:
    """`exp.progress {id, status, progress, done, total}` to the layout's room."""
    exp = Experiment.objects.filter(pk=experiment_id).first()
    if exp is None:
        return
    progress, done, total = _progress(exp)
    events.publish_to_layout(exp.layout_id, {"type": "exp.progress", "id": exp.id, "status": exp.status,
                                             "progress": round(progress, 4), "done": done, "total": total})


def on_run_started(run_id: int) -> None:
    Experiment.objects.filter(points__run_id=run_id, status=Status.QUEUED).update(status=Status.RUNNING)


def on_run_ended(run_id: int) -> None:
    """Called when any run ends: if it is a point, move its experiment on."""
    exp_id = ExperimentPoint.objects.filter(run_id=run_id).values_list("experiment_id", flat=True).first()
    if exp_id is not None:
        try:
            experiment_advance(experiment_id=exp_id)
        except Exception:  # the watchdog tries again on its next beat
            log.warning("experiment %s: could not advance after run %s", exp_id, run_id, exc_info=True)


def experiments_recover() -> int:
    """Watchdog: advance every running experiment (a task lost between a run's end and its hook)."""
    ids = list(Experiment.objects.filter(status__in=[Status.QUEUED, Status.RUNNING]).values_list("id", flat=True))
    for exp_id in ids:
        experiment_advance(experiment_id=exp_id)
    return len(ids)
