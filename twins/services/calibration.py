"""Calibration (CONTRACT §9): a station's cycle time, MTBF and MTTR fitted from its twin's history.

Cycle time: mean and CV (sample standard deviation / mean) of the `cycle_time_s` points, and the p-value of a
Kolmogorov–Smirnov test of the distribution the simulation would draw with that CV — the gamma with shape
1/CV² (the exponential when the CV is within EXPONENTIAL_CV_TOLERANCE of 1). The test uses the fitted
parameters, so its p-value is optimistic (Lilliefors); a low one still says the shape is wrong.

Failures come from the `status` value: the status holds from one reading to the next, and the last reading
before the window gives the state the window starts in. MTTR is the mean length of the `down` periods that
start and end inside the window; MTBF is the time spent `running` between the end of the first and the end
of the last `down` period, divided by the failures in between (§3: the failure clock runs only while the
station works, so idle, blocked and starved time do not count).
"""
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.db import transaction
from scipy import stats

from ..errors import Conflict, Invalid
from ..models import Asset, Layout, Role, Twin
from ..twin_series import last_before, series_numbers, series_texts
from .asset_batch import assets_update
from .common import lock_layout, require_role

MIN_CYCLES = 5
MIN_FAILURES = 2
EXPONENTIAL_CV_TOLERANCE = 0.05
HISTOGRAM_BINS = 20
MAX_WINDOW_S = 366 * 24 * 3600
DOWN, RUNNING = Twin.Status.DOWN, Twin.Status.RUNNING


@dataclass(frozen=True)
class Fit:
    value: dict | None
    detail: str | None = None


def check_window(start: datetime, end: datetime) -> None:
    if end <= start:
        raise Invalid("'to' must be after 'from'.", errors={"to": ["Must be after 'from'."]})
    if (end - start).total_seconds() > MAX_WINDOW_S:
        raise Invalid("The window is at most 366 days.", errors={"from": ["Window too long."]})


def _shape(cv: float) -> tuple[str, object]:
    """The frozen scipy distribution the simulation draws with this CV (mean 1), and its name."""
    if abs(cv - 1.0) <= EXPONENTIAL_CV_TOLERANCE:
        return "exponential", stats.expon()
    k = 1.0 / (cv * cv)
    return "gamma", stats.gamma(k, scale=1.0 / k)


def fit_cycle_times(values) -> Fit:
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x) & (x > 0)]
    n = int(x.size)
    if n < MIN_CYCLES:
        return Fit(None, f"{n} cycle time(s) in the window; at least {MIN_CYCLES} are needed.")
    with np.errstate(over="ignore", invalid="ignore"):
        mean = float(x.mean())
        cv = float(x.std(ddof=1) / mean)
    if not (np.isfinite(mean) and np.isfinite(cv)):
        return Fit(None, "The cycle times are too large to fit.")
    if cv == 0.0:
        return Fit({"mean": mean, "cv": 0.0, "n": n, "ks_p": None, "distribution": "deterministic", "histogram": None})
    name, dist = _shape(cv)
    ks_p = float(stats.kstest(x / mean, dist.cdf).pvalue)
    edges = np.histogram_bin_edges(x, bins=HISTOGRAM_BINS, range=(0.0, float(x.max())))
    counts, _ = np.histogram(x, bins=edges)
    expected = n * np.diff(dist.cdf(edges / mean))
    histogram = {"edges": edges.tolist(), "counts": counts.tolist(),
                 "fitted": expected.tolist() if np.all(np.isfinite(expected)) else None}
    # A CV near 0 makes the gamma's shape huge, where scipy can answer NaN: no test rather than a bad number.
    return Fit({"mean": mean, "cv": cv, "n": n, "ks_p": ks_p if np.isfinite(ks_p) else None, "distribution": name, "histogram": histogram})


def _periods(initial: str | None, readings: list[tuple[datetime, str]], start: datetime, end: datetime) -> list[tuple[str, datetime, datetime]]:
    """(status, from, to) runs of one status each, covering the window from the first known state."""
    runs: list[list] = []
    if initial is not None:
        runs.append([initial, start, None])
    for ts, word in readings:
        if runs and runs[-1][0] == word:
            continue
        if runs:
            runs[-1][2] = ts
        runs.append([word, ts, None])
    if runs:
        runs[-1][2] = end
    return [(word, a, b) for word, a, b in runs]


def fit_failures(*, initial: str | None, readings: list[tuple[datetime, str]], start: datetime, end: datetime) -> tuple[Fit, Fit]:
    """(MTBF, MTTR) from the status history of one window."""
    runs = _periods(initial, readings, start, end)
    downs = [(i, a, b) for i, (word, a, b) in enumerate(runs) if word == DOWN]
    # A down period ends inside the window when a later reading says otherwise, and is observed whole when a
    # reading of another state came before it too (the first run may have begun before the window).
    ended = [(i, b) for i, _a, b in downs if i + 1 < len(runs)]
    whole = [(b - a).total_seconds() for i, a, b in downs if 0 < i < len(runs) - 1]
    if len(whole) < MIN_FAILURES:
        mttr = Fit(None, f"{len(whole)} complete down period(s) in the window; at least {MIN_FAILURES} are needed.")
    else:
        mttr = Fit({"mean": float(np.mean(whole)), "n": len(whole)})
    if len(ended) < MIN_FAILURES:
        return Fit(None, f"{len(ended)} failure(s) ending in the window; at least {MIN_FAILURES} are needed."), mttr
    first, last = ended[0][0], ended[-1][0]
    running = sum((b - a).total_seconds() for word, a, b in runs[first + 1:last] if word == RUNNING)
    failures = len(ended) - 1
    if running <= 0:
        return Fit(None, "The station never ran between its failures in the window."), mttr
    return Fit({"mean": running / failures, "n": failures}), mttr


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def calibration_window(start: datetime, end: datetime) -> dict:
    return {"from": _iso(start), "to": _iso(end)}


def twin_calibration(*, twin: Twin, start: datetime, end: datetime) -> dict:
    """The §9 calibration payload of one twin over [start, end): fits, or null with a `detail` each."""
    check_window(start, end)
    cycles = fit_cycle_times(series_numbers(twin_id=twin.id, name="cycle_time_s", start=start, end=end))
    before = last_before(twin_id=twin.id, name="status", before=start, text=True)
    mtbf, mttr = fit_failures(initial=before[1] if before else None,
                              readings=series_texts(twin_id=twin.id, name="status", start=start, end=end), start=start, end=end)
    detail = {name: fit.detail for name, fit in (("cycle_time_s", cycles), ("mtbf_s", mtbf), ("mttr_s", mttr)) if fit.detail}
    return {
        "twin": twin.id,
        "key": twin.key,
        "window": calibration_window(start, end),
        "cycle_time_s": cycles.value,
        "mtbf_s": mtbf.value,
        "mttr_s": mttr.value,
        "detail": detail or None,
    }


# --- writing the fits into a draft -----------------------------------------------------------------------

CALIBRATED_KINDS = frozenset({"machine", "assembly", "robot", "conveyor"})  # the stations that process parts
PARAM_KEYS = ("cycle_time_s", "cycle_cv", "mtbf_s", "mttr_s")


def _effective(asset) -> dict:
    """The four calibrated params as the simulation reads them: the asset's own, else its type's default."""
    merged = {**(asset.asset_type.defaults or {}), **(asset.params or {})}
    return {key: merged.get(key) for key in PARAM_KEYS}


def _fitted_params(calibration: dict) -> dict:
    fitted = {}
    if calibration["cycle_time_s"]:
        fitted["cycle_time_s"] = round(calibration["cycle_time_s"]["mean"], 3)
        fitted["cycle_cv"] = round(calibration["cycle_time_s"]["cv"], 3)
    if calibration["mtbf_s"] and calibration["mttr_s"]:  # the engine needs both to draw failures
        fitted["mtbf_s"] = round(calibration["mtbf_s"]["mean"], 1)
        fitted["mttr_s"] = round(calibration["mttr_s"]["mean"], 1)
    return fitted


def _asset_ids(assets) -> list[int] | None:
    if assets is None:
        return None
    if not isinstance(assets, list) or any(isinstance(a, bool) or not isinstance(a, int) or not -2**63 <= a < 2**63 for a in assets):
        raise Invalid("assets must be a list of asset ids or null.", errors={"assets": ["A list of asset ids, or null."]})
    return assets


def layout_calibrate(*, layout, start: datetime, end: datetime, assets=None, by) -> dict:
    """Write the fitted params of the chosen assets (null: every station) whose bound twin has enough data,
    as one change of a draft (CONTRACT §9). Returns `{"changed": [...], "skipped": [...]}`; a skipped station
    keeps its values and says why."""
    check_window(start, end)
    ids = _asset_ids(assets)
    require_role(user=by, factory_id=layout.factory_id, at_least=Role.ENGINEER, action="calibrate layouts")
    if layout.status != Layout.Status.DRAFT:
        raise Conflict(f"Layout '{layout.name}' is {layout.status}; only a draft can be calibrated (branch it first).")
    qs = Asset.objects.filter(layout=layout).select_related("asset_type").order_by("id")
    if ids is not None:
        qs = qs.filter(pk__in=ids)
        unknown = sorted(set(ids) - set(qs.values_list("id", flat=True)))
        if unknown:
            raise Invalid(f"Not assets of this layout: {', '.join(map(str, unknown))}.", errors={"assets": [f"Unknown asset(s): {unknown}."]})
    stations = [a for a in qs if a.asset_type.kind in CALIBRATED_KINDS or ids is not None]
    twins = {t.key: t for t in Twin.objects.filter(factory_id=layout.factory_id, key__in={a.twin_key for a in stations if a.twin_key})}
    # The fits read only telemetry: done before the layout lock is taken, so that edits are not held up.
    fits, skipped = {}, []
    for asset in stations:
        twin = twins.get(asset.twin_key) if asset.twin_key else None
        if asset.asset_type.kind not in CALIBRATED_KINDS:
            skipped.append({"asset": asset.id, "name": asset.name, "detail": f"A {asset.asset_type.kind} has no cycle time to calibrate."})
        elif twin is None:
            skipped.append({"asset": asset.id, "name": asset.name, "detail": "No twin is bound to this asset (twin_key)."})
        else:
            fits[asset.id] = twin_calibration(twin=twin, start=start, end=end)
    with transaction.atomic():
        layout = lock_layout(layout.pk)
        if layout.status != Layout.Status.DRAFT:
            raise Conflict(f"Layout '{layout.name}' is {layout.status}; only a draft can be calibrated (branch it first).")
        current = {a.pk: a for a in Asset.objects.select_for_update().filter(pk__in=list(fits)).select_related("asset_type")}
        changes, changed = {}, []
        for asset_id, calibration in fits.items():
            asset = current.get(asset_id)
            if asset is None:
                continue  # deleted since: nothing to calibrate
            fitted = _fitted_params(calibration)
            before = _effective(asset)
            after = {**before, **fitted}
            observations = {"cycles": (calibration["cycle_time_s"] or {}).get("n", 0), "failures": (calibration["mtbf_s"] or {}).get("n", 0)}
            if after == before:
                reason = "; ".join((calibration["detail"] or {}).values()) or "The fitted values equal the current ones."
                skipped.append({"asset": asset_id, "name": asset.name, "detail": reason, "observations": observations})
                continue
            changes[asset_id] = {"params": {**(asset.params or {}), **fitted}}
            changed.append({"asset": asset_id, "name": asset.name, "twin": calibration["twin"], "before": before, "after": after,
                            "observations": observations, "detail": calibration["detail"]})
        if changes:
            window = calibration_window(start, end)
            assets_update(layout=layout, changes=changes, by=by,
                          audit_data={"calibration": window, "changed": [{k: c[k] for k in ("asset", "before", "after")} for c in changed]})
    return {"window": calibration_window(start, end), "changed": changed, "skipped": sorted(skipped, key=lambda s: s["asset"])}
