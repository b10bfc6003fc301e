"""Plan against actual (CONTRACT §9): the parts that reached a layout's sinks per bucket, counted from the
sinks' twins' `cycles` counters, against the band of the layout's latest succeeded run; and the `drift` alarm.

Counting: a bucket gets the increase of each counter between consecutive readings, at the later reading's
time; a reading below the previous one is a reset (the counter restarted from 0, so its value is the
increase). The last reading before the window is the first reference; without one, the window's first
reading only sets it. A bucket is null when no sink's counter has readings around it (no data is not zero).

The plan: the run's mean throughput (`throughput_per_hour.mean`), scaled to the part of the bucket that the
window covers. The 95 % band is the mean ± 1.96 standard deviations of one bucket's count: its variance is
that of one replication's count per `timeseries` bin (the spread of the run's bins times the replications
they average over), scaled linearly to the bucket's length (counts over disjoint intervals add up), plus the
uncertainty of the mean itself (`ci95`, scaled to the bucket) — and never narrower than ±1 part, because a
count is whole while a bucket's edges fall anywhere in a cycle.

Drift: evaluated by `plan_drift_evaluate` on complete buckets of PLAN_DRIFT_BUCKET_S (settings; default one
hour) — by Celery beat every PLAN_DRIFT_EVERY_S for each factory's baseline layout and every layout with an
active drift alarm (twins/tasks/plan.py). Three complete buckets in a row outside the band raise one alarm
(at the end of the third); the first later bucket inside the band clears it. A bucket without data breaks a
run without clearing anything. The scan resumes after the layout's last alarm transition, so evaluating
again never raises an alarm twice for the same buckets.
"""
import math
from datetime import UTC, datetime, timedelta

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..errors import Invalid
from ..models import Alarm, Asset, Factory, Layout, SimulationRun, Twin
from ..twin_series import last_before, series_values
from .alarms import drift_alarm_clear, drift_alarm_raise
from .telemetry_repr import alarm_repr, iso

MAX_BUCKETS = 10_000
MIN_BUCKET_S = 60
MAX_BUCKET_S = 366 * 24 * 3600
Z95 = 1.96
DRIFT_RUN = 3  # buckets in a row outside the band
DRIFT_LOOKBACK = 48  # buckets scanned when the layout has no drift alarm yet


def drift_bucket_s() -> int:
    return int(getattr(settings, "PLAN_DRIFT_BUCKET_S", 3600))


def sink_twins(layout: Layout) -> list[tuple[Asset, Twin]]:
    """The layout's sinks that are bound to a twin of the factory, in asset order."""
    sinks = list(Asset.objects.filter(layout=layout, asset_type__kind="sink").exclude(twin_key="").order_by("id"))
    twins = {t.key: t for t in Twin.objects.filter(factory_id=layout.factory_id, key__in={a.twin_key for a in sinks})}
    return [(a, twins[a.twin_key]) for a in sinks if a.twin_key in twins]


def latest_plan_run(layout: Layout) -> SimulationRun | None:
    """The latest succeeded run of the layout that simulated the plant from empty (a forecast from the live
    state, `initial_state: live`, describes the coming hours, not the plan)."""
    runs = SimulationRun.objects.filter(layout=layout, status=SimulationRun.Status.SUCCEEDED).order_by("-finished_at", "-id")
    return next((r for r in runs.iterator(chunk_size=20) if (r.params or {}).get("initial_state") != "live" and r.results), None)


class Plan:
    """A run's output rate and the variability of a count over any interval."""

    def __init__(self, results: dict):
        throughput = results.get("throughput_per_hour") or {}
        self.per_hour = float(throughput.get("mean") or 0.0)
        self.mean_sd_per_s = float(throughput.get("ci95") or 0.0) / Z95 / 3600.0
        bins = [b for b in ((results.get("timeseries") or {}).get("throughput_per_hour") or []) if b is not None]
        horizon, warmup = float(results.get("horizon_s") or 0.0), float(results.get("warmup_s") or 0.0)
        self.var_per_s = 0.0
        if len(bins) >= 2 and horizon > warmup:
            width = (horizon - warmup) / len(bins)
            counts = np.asarray(bins, dtype=float) * width / 3600.0
            self.var_per_s = float(np.var(counts, ddof=1)) * max(1, int(results.get("replications") or 1)) / width

    def band(self, seconds: float) -> tuple[float, float, float]:
        mean = self.per_hour * seconds / 3600.0
        sd = math.sqrt(self.var_per_s * seconds + (self.mean_sd_per_s * seconds) ** 2)
        half = max(Z95 * sd, 1.0) if seconds > 0 else 0.0
        return mean, max(0.0, mean - half), mean + half


def _sink_counts(twin: Twin, start: datetime, end: datetime, origin: datetime, bucket_s: int, n: int) -> tuple[list[float], list[bool]]:
    """Per bucket: the parts this counter added, and whether its readings cover the bucket."""
    counts, observed = [0.0] * n, [False] * n
    base = last_before(twin_id=twin.id, name="cycles", before=start)
    readings = series_values(twin_id=twin.id, name="cycles", start=start, end=end)
    if not readings:
        return counts, observed
    previous = base[1] if base else None
    for ts, value in readings:
        if previous is not None:
            k = int((ts - origin).total_seconds() // bucket_s)
            counts[k] += value - previous if value >= previous else value
        previous = value
    first, last = (base[0] if base else readings[0][0]), readings[-1][0]
    for k in range(n):
        b0 = origin + timedelta(seconds=k * bucket_s)
        observed[k] = first < b0 + timedelta(seconds=bucket_s) and last >= b0
    return counts, observed


def _whole(x: float):
    return int(x) if float(x).is_integer() else x


def plan_vs_actual(*, layout: Layout, start: datetime, end: datetime, bucket_s: int = 3600, now: datetime | None = None) -> dict:
    """The §9 payload: buckets aligned to multiples of `bucket_s` since the epoch (hours on the clock)."""
    if end <= start:
        raise Invalid("'to' must be after 'from'.", errors={"to": ["Must be after 'from'."]})
    if isinstance(bucket_s, bool) or not isinstance(bucket_s, int) or not MIN_BUCKET_S <= bucket_s <= MAX_BUCKET_S:
        raise Invalid(f"bucket_s must be a whole number of seconds from {MIN_BUCKET_S} to {MAX_BUCKET_S}.", errors={"bucket_s": ["Out of range."]})
    if start.year < 1970 or end.year >= 9999:
        raise Invalid("The window must lie between 1970 and 9998.", errors={"from": ["Out of range."]})
    now = now or timezone.now()
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    origin = epoch + timedelta(seconds=(int((start - epoch).total_seconds()) // bucket_s) * bucket_s)
    n = math.ceil((end - origin).total_seconds() / bucket_s)
    if n > MAX_BUCKETS:
        raise Invalid(f"At most {MAX_BUCKETS} buckets per query; use a larger bucket_s.", errors={"bucket_s": ["Too small for this range."]})
    sinks = sink_twins(layout)
    actual: list = [None] * n
    for _asset, twin in sinks:
        counts, observed = _sink_counts(twin, start, end, origin, bucket_s, n)
        for k in range(n):
            if observed[k]:
                actual[k] = (actual[k] or 0) + counts[k]
    run = latest_plan_run(layout)
    plan = Plan(run.results) if run else None
    t, complete, covered = [], [], []
    for k in range(n):
        b0 = origin + timedelta(seconds=k * bucket_s)
        b1 = b0 + timedelta(seconds=bucket_s)
        lo, hi = max(b0, start), min(b1, end, now)
        t.append(int(b0.timestamp() * 1000))
        covered.append(max(0.0, (hi - lo).total_seconds()))
        complete.append(b0 >= start and b1 <= min(end, now))
    planned, outside = None, [None] * n
    if plan:
        bands = [plan.band(s) for s in covered]
        planned = {"mean": [b[0] for b in bands], "lo": [b[1] for b in bands], "hi": [b[2] for b in bands]}
        outside = [None if a is None else bool(a < b[1] or a > b[2]) for a, b in zip(actual, bands)]
    details = []
    if not sinks:
        details.append("No sink of this layout is bound to a twin (twin_key), so there is no actual output.")
    if run is None:
        details.append("The layout has no succeeded simulation run to plan against.")
    alarm = Alarm.objects.filter(layout=layout, kind=Alarm.Kind.DRIFT, active=True).select_related("twin", "acked_by").first()
    return {
        "layout": layout.id,
        "window": {"from": iso(start), "to": iso(end)},
        "bucket_s": bucket_s,
        "t": t,
        "actual": [None if a is None else _whole(a) for a in actual],
        "planned": planned,
        "outside": outside,
        "complete": complete,
        "run": run.id if run else None,
        "run_throughput_per_hour": plan.per_hour if plan else None,
        "sinks": [{"asset": a.id, "twin": tw.id, "key": tw.key} for a, tw in sinks],
        "alarm": alarm_repr(alarm) if alarm else None,
        "detail": " ".join(details) or None,
    }


def plan_drift_evaluate(*, layout: Layout, now: datetime | None = None) -> list[Alarm]:
    """Raise or clear the layout's drift alarm from the complete buckets since its last transition; returns
    the alarms raised or cleared (a cleared one can be followed by a new one in the same scan)."""
    now = now or timezone.now()
    bucket_s = drift_bucket_s()
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    end = epoch + timedelta(seconds=(int((now - epoch).total_seconds()) // bucket_s) * bucket_s)
    start = end - timedelta(seconds=DRIFT_LOOKBACK * bucket_s)
    last = Alarm.objects.filter(layout=layout, kind=Alarm.Kind.DRIFT).order_by("-raised_at", "-id").first()
    if last is not None:
        start = max(start, last.cleared_at or last.raised_at)
    if end <= start:
        return []
    series = plan_vs_actual(layout=layout, start=start, end=end, bucket_s=bucket_s, now=now)
    if series["planned"] is None or not series["sinks"]:
        return []
    sink_twin = Twin.objects.get(pk=series["sinks"][0]["twin"])
    active = last if last is not None and last.active else None
    changed, streak = [], 0
    with transaction.atomic():
        # One evaluation of a layout at a time: a second one that read the same last alarm stops here.
        Layout.objects.select_for_update().filter(pk=layout.pk).values_list("id").first()
        now_last = Alarm.objects.filter(layout=layout, kind=Alarm.Kind.DRIFT).order_by("-raised_at", "-id").values_list("id", "active").first()
        if now_last != ((last.id, last.active) if last else None):
            return []
        for k, t in enumerate(series["t"]):
            if not series["complete"][k] or series["actual"][k] is None:
                streak = 0
                continue
            at = datetime.fromtimestamp(t / 1000, tz=UTC) + timedelta(seconds=bucket_s)
            actual, lo, hi = series["actual"][k], series["planned"]["lo"][k], series["planned"]["hi"][k]
            if active is not None:
                if not series["outside"][k]:
                    changed.append(drift_alarm_clear(alarm=active, at=at))
                    active = None
                continue
            streak = streak + 1 if series["outside"][k] else 0
            if streak >= DRIFT_RUN:
                message = (f"{layout.name}: output outside the plan for {DRIFT_RUN} buckets of {bucket_s // 60} min in a row "
                           f"(last: {_whole(round(actual, 1))} parts, plan {lo:.0f}–{hi:.0f})")
                active = drift_alarm_raise(layout=layout, twin=sink_twin, at=at, value=float(actual), message=message)
                changed.append(active)
                streak = 0
    return changed


def plan_drift_layouts() -> list[Layout]:
    """What beat watches: every factory's baseline (the plant as approved) and layouts with an active drift alarm."""
    ids = set(Factory.objects.exclude(baseline_layout=None).values_list("baseline_layout_id", flat=True))
    ids |= set(Alarm.objects.filter(kind=Alarm.Kind.DRIFT, active=True).values_list("layout_id", flat=True))
    return list(Layout.objects.filter(pk__in=ids).order_by("id"))


def plan_drift_evaluate_all(*, now: datetime | None = None) -> int:
    """Evaluate every watched layout; returns how many alarms were raised or cleared."""
    return sum(len(plan_drift_evaluate(layout=layout, now=now)) for layout in plan_drift_layouts())
