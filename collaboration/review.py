"""Reads for reviewing layouts: comments a user may see, the scenario list of a factory with the KPIs of each
layout's latest simulation, and the KPI comparison of two layouts with significance from the CIs."""
import math

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from scipy.stats import t as student_t

from twins.errors import NotFound
from twins.models import Layout, SimulationRun
from twins.representations import layout_repr
from twins.selectors import factory_ids_for_user, layouts_for_user

from .models import Comment

RUN_FIELDS = ("id", "layout_id", "layout_revision", "status", "progress", "params", "created_at", "finished_at")
# The few keys of `results` that the KPIs need; `timeseries` and `playback` can be large and stay in the DB.
RESULT_KEYS = ("throughput_per_hour", "lead_time_s", "wip", "bottleneck", "stations", "replications")
KPIS = [
    # key, label, unit, which direction is better
    ("throughput_per_hour", "Throughput", "parts/h", "higher"),
    ("lead_time_s", "Lead time", "s", "lower"),
    ("wip", "WIP", "parts", "lower"),
    ("bottleneck_utilization", "Bottleneck utilisation", "fraction", None),
]
ALPHA = 0.05


def comments_for_user(*, user) -> QuerySet[Comment]:
    return (Comment.objects.filter(layout__factory__in=factory_ids_for_user(user=user))
            .select_related("layout", "author").order_by("created_at", "id"))


# --- simulation KPIs --------------------------------------------------------------------------------------

def _dt(value):
    return value.isoformat().replace("+00:00", "Z") if value else None


def _runs(ids) -> dict[int, dict]:
    """Runs by id with only the result keys the KPIs use."""
    ids = [i for i in ids if i]
    if not ids:
        return {}
    keys = {f"r_{k}": F(f"results__{k}") for k in RESULT_KEYS}
    rows = SimulationRun.objects.filter(pk__in=ids).values(*RUN_FIELDS, **keys)
    return {row["id"]: row for row in rows}


def run_kpis(results: dict) -> dict:
    """The review KPIs of one run's `results` (CONTRACT.md §4)."""
    results = results or {}
    n = results.get("replications") or 1

    def stat(key):
        value = results.get(key) or {}
        if not isinstance(value, dict) or value.get("mean") is None:
            return None
        return {"mean": value["mean"], "ci95": value.get("ci95", 0.0), "n": n}

    bottleneck = results.get("bottleneck")
    station = next((s for s in results.get("stations") or [] if s.get("asset") == bottleneck), None)
    utilization = (station or {}).get("utilization") or {}
    lead = stat("lead_time_s")
    if lead is not None:
        lead["p95"] = (results.get("lead_time_s") or {}).get("p95")
    return {
        "throughput_per_hour": stat("throughput_per_hour"),
        "lead_time_s": lead,
        "wip": stat("wip"),
        "bottleneck": {"asset": bottleneck, "name": station.get("name") if station else None, "utilization": utilization or None},
        "bottleneck_utilization": {"mean": utilization["working"], "ci95": None, "n": n} if "working" in utilization else None,
        "replications": n,
    }


def _run_summary(row: dict | None, *, content_revision: int | None = None) -> dict | None:
    """`stale`: a change that can alter the results (Layout.content_revision) came after the run's revision;
    renames, comments and review transitions do not make a run stale."""
    if row is None:
        return None
    results = {k: row.get(f"r_{k}") for k in RESULT_KEYS}
    return {
        "id": row["id"], "status": row["status"], "layout_revision": row["layout_revision"],
        "stale": content_revision is not None and row["layout_revision"] < content_revision,
        "params": row["params"], "created_at": _dt(row["created_at"]), "finished_at": _dt(row["finished_at"]),
        "kpis": run_kpis(results) if row["status"] == SimulationRun.Status.SUCCEEDED else None,
    }


def _latest(status=None):
    runs = SimulationRun.objects.filter(layout=OuterRef("pk"))
    if status:
        runs = runs.filter(status=status)
    return Subquery(runs.order_by("-created_at", "-id").values("id")[:1])


# --- scenarios --------------------------------------------------------------------------------------------

def scenarios_for_user(*, user, factory_id: int | None = None, status: str | None = None) -> QuerySet[Layout]:
    """Layouts the user can see, newest change first, annotated with their latest runs."""
    qs = layouts_for_user(user=user).select_related("parent")
    if factory_id is not None:
        qs = qs.filter(factory_id=factory_id)
    if status:
        wanted = status.split(",")
        if not set(wanted) <= set(Layout.Status.values):  # also keeps a NUL byte away from PostgreSQL (a 500)
            from twins.errors import Invalid

            raise Invalid(f"status must be a comma-separated list of {', '.join(Layout.Status.values)}.",
                          errors={"status": ["Not a layout status."]})
        qs = qs.filter(status__in=wanted)
    return qs.annotate(latest_run_id=_latest(SimulationRun.Status.SUCCEEDED), last_run_id=_latest()).order_by("-updated_at", "-id")


def scenario_rows(layouts: list[Layout]) -> list[dict]:
    """One row per layout: the layout, its parent, baseline flag, comment counts and latest simulation KPIs."""
    runs = _runs({lay.latest_run_id for lay in layouts} | {lay.last_run_id for lay in layouts})
    counts = {row["layout_id"]: row for row in Comment.objects.filter(layout__in=[lay.pk for lay in layouts])
              .values("layout_id").annotate(total=Count("id"), open=Count("id", filter=Q(resolved=False)))}
    rows = []
    for lay in layouts:
        last = runs.get(lay.last_run_id)
        rows.append({
            **layout_repr(lay),
            "parent_name": lay.parent.name if lay.parent_id and lay.parent else None,
            "is_baseline": lay.factory.baseline_layout_id == lay.pk,
            "comments": {"total": counts.get(lay.pk, {}).get("total", 0), "open": counts.get(lay.pk, {}).get("open", 0)},
            "latest_simulation": _run_summary(runs.get(lay.latest_run_id), content_revision=lay.content_revision),
            "last_run": {"id": last["id"], "status": last["status"], "progress": last["progress"]} if last else None,
        })
    return rows


# --- comparison -------------------------------------------------------------------------------------------

def _welch(a: dict, b: dict) -> tuple[bool | None, float | None]:
    """Welch's t-test from means, 95% half-widths and replication counts; (significant, p) or (None, None)."""
    na, nb = a.get("n") or 1, b.get("n") or 1
    if na < 2 or nb < 2 or a.get("ci95") is None or b.get("ci95") is None:
        return None, None
    # ci95 = t(0.975, n-1) * s / sqrt(n), so the squared standard error s²/n = (ci95 / t)².
    va = (a["ci95"] / student_t.ppf(0.975, na - 1)) ** 2
    vb = (b["ci95"] / student_t.ppf(0.975, nb - 1)) ** 2
    diff = a["mean"] - b["mean"]
    if va + vb <= 0:
        same = math.isclose(a["mean"], b["mean"], rel_tol=1e-9, abs_tol=1e-12)
        return (not same), (1.0 if same else 0.0)
    df = (va + vb) ** 2 / ((va ** 2 / (na - 1) if va else 0) + (vb ** 2 / (nb - 1) if vb else 0))
    p = float(2 * student_t.sf(abs(diff) / math.sqrt(va + vb), df))
    return p < ALPHA, p


def _overlap(a: dict, b: dict) -> bool | None:
    if a.get("ci95") is None or b.get("ci95") is None or (a.get("n") or 1) < 2 or (b.get("n") or 1) < 2:
        return None
    return a["mean"] - a["ci95"] <= b["mean"] + b["ci95"] and b["mean"] - b["ci95"] <= a["mean"] + a["ci95"]


def kpi_comparison(mine: dict | None, theirs: dict | None) -> list[dict]:
    """Per KPI: both values, the delta (mine − theirs), whether it is better, and its significance."""
    out = []
    for key, label, unit, better in KPIS:
        a = (mine or {}).get(key)
        b = (theirs or {}).get(key)
        row = {"key": key, "label": label, "unit": unit, "better": better, "layout": a, "against": b,
               "delta": None, "delta_pct": None, "improved": None, "significant": None, "p_value": None,
               "intervals_overlap": None, "method": None}
        if a is not None and b is not None:
            delta = a["mean"] - b["mean"]
            significant, p = _welch(a, b)
            row.update(
                delta=delta,
                delta_pct=(100.0 * delta / abs(b["mean"])) if b["mean"] else None,
                improved=None if better is None or delta == 0 else (delta > 0) == (better == "higher"),
                significant=significant, p_value=p, intervals_overlap=_overlap(a, b),
                method="welch" if significant is not None else None,
            )
        out.append(row)
    return out


def _pair(rows: list, run_a: int, run_b: int) -> None:
    """Where both runs used the same seed and replications, the significance comes from the paired
    replication-by-replication difference (common random numbers, twins/services/compare.py): `method`
    says "paired" instead of "welch"."""
    from twins.services.compare import compare_runs

    runs = {r.pk: r for r in SimulationRun.objects.filter(pk__in=[run_a, run_b])}
    try:
        cmp = compare_runs(runs[run_a], runs[run_b])
    except Exception:  # a run without results: Welch from the summaries, as before
        return
    for row in rows:
        c = cmp.get(row["key"])
        if c and c["paired"] and c["p"] is not None:
            row.update(method="paired", p_value=c["p"], significant=c["p"] < ALPHA, delta_ci95=c["ci95"])


def _side(layout: Layout, run_id: int | None) -> dict:
    if run_id is not None and not SimulationRun.objects.filter(pk=run_id, layout=layout).exists():
        raise NotFound(f"Layout {layout.pk} has no simulation run {run_id}.")
    if run_id is None:
        run_id = (SimulationRun.objects.filter(layout=layout, status=SimulationRun.Status.SUCCEEDED)
                  .order_by("-created_at", "-id").values_list("id", flat=True).first())
    summary = _run_summary(_runs([run_id]).get(run_id), content_revision=layout.content_revision)
    return {"layout": layout_repr(layout), "run": summary}


def layouts_compare(*, layout: Layout, against: Layout, run_id: int | None = None, against_run_id: int | None = None) -> dict:
    """KPIs of the latest successful run of `layout` next to those of `against` (or of the given runs)."""
    mine, theirs = _side(layout, run_id), _side(against, against_run_id)
    kpis_a = mine["run"]["kpis"] if mine["run"] else None
    kpis_b = theirs["run"]["kpis"] if theirs["run"] else None
    same_params = None
    if mine["run"] and theirs["run"]:
        keys = ("horizon_s", "warmup_s", "replications", "seed")
        same_params = all(mine["run"]["params"].get(k) == theirs["run"]["params"].get(k) for k in keys)
    kpis = kpi_comparison(kpis_a, kpis_b)
    if mine["run"] and theirs["run"]:
        _pair(kpis, mine["run"]["id"], theirs["run"]["id"])
    return {
        "layout": mine["layout"], "against": theirs["layout"],
        "runs": {"layout": mine["run"], "against": theirs["run"]},
        "same_params": same_params,
        "kpis": kpis,
        "alpha": ALPHA,
    }
