"""Experiments (CONTRACT.md §8) through the services and the API, in this process: a grid against the exact
CTMC throughput of a two-machine line, effects, common random numbers (a paired comparison far narrower
than an unpaired one), the optimiser finding a known best, cancel, apply, limits and roles."""
import math

import numpy as np
import pytest

from tests.builders import make_layout
from twins.models import Asset, Connection, Experiment, Layout, SimulationRun
from twins.services import simulations as svc
from twins.services.compare import compare_runs, welch
from twins.services.experiments import experiment_advance, experiment_apply

URL = "/api/experiments/"


def drive(run_id: int) -> None:
    """What the Celery tasks do for one run: claim it, run its batches."""
    for batch in svc.simulation_start(run_id=run_id) or []:
        svc.simulation_run_batch(run_id=run_id, replications=batch)


def drive_all(experiment_id: int, capture) -> Experiment:
    """Run every point (and those the optimiser adds as points end) until the experiment ends."""
    for _ in range(200):
        exp = Experiment.objects.get(pk=experiment_id)
        if exp.is_finished:
            return exp
        pending = list(exp.points.filter(run__status__in=["queued", "running"]).values_list("run_id", flat=True))
        assert pending, "an unfinished experiment with nothing left to run"
        with capture(execute=True):  # the run's end moves the experiment on after the commit
            drive(pending[0])
    raise AssertionError("the experiment never finished")


def exact_two_machine_throughput(mu1: float, mu2: float, b: int) -> float:
    """Parts/s of saturated M1 (rate mu1) → b slots → M2 (mu2) → sink, blocking after service: the CTMC on
    (n = parts in the buffer and at M2, M1 blocked?)."""
    states = [(n, False) for n in range(b + 2)] + [(b + 1, True)]
    index = {s: k for k, s in enumerate(states)}
    Q = np.zeros((len(states), len(states)))
    for (n, blocked), k in index.items():
        if not blocked:
            Q[k, index[(n + 1, False)] if n < b + 1 else index[(b + 1, True)]] += mu1
        if n >= 1:
            Q[k, index[(b + 1, False)] if blocked else index[(n - 1, False)]] += mu2
    np.fill_diagonal(Q, -Q.sum(axis=1))
    A = np.vstack([Q.T, np.ones(len(states))])
    pi = np.linalg.lstsq(A, np.r_[np.zeros(len(states)), 1.0], rcond=None)[0]
    return mu2 * sum(p for (n, _), p in zip(states, pi) if n >= 1)


def two_machine_line(factory, m1=10.0, m2=12.0) -> Layout:
    layout = make_layout(factory=factory, assets=2, line=True, name="Two machines")
    Asset.objects.filter(layout=layout, name="Source").update(params={"interarrival_s": None})
    Asset.objects.filter(layout=layout, name="M1").update(params={"cycle_time_s": m1, "cycle_cv": 1.0})
    Asset.objects.filter(layout=layout, name="M2").update(params={"cycle_time_s": m2, "cycle_cv": 1.0})
    return layout


def middle(layout) -> Connection:
    return Connection.objects.get(layout=layout, source__name="M1", target__name="M2")


def body(layout, factors, **extra):
    return {"layout": layout.id, "name": "Buffers", "factors": factors, "horizon_s": 100_000, "warmup_s": 2_000,
            "replications": 5, "seed": 21, **extra}


@pytest.mark.django_db
def test_a_grid_over_buffer_sizes_matches_the_exact_ctmc_and_its_effects(people, client_for, django_capture_on_commit_callbacks):
    layout = two_machine_line(people["plant"])
    conn = middle(layout)
    values = [0, 1, 4]
    r = client_for(people["alice"]).post(URL, body(layout, [{"connection": conn.id, "field": "buffer_capacity", "values": values}]),
                                         format="json")
    assert r.status_code == 201, r.content
    assert r.json()["status"] == "queued" and len(r.json()["points"]) == 3
    svc.simulation_start(run_id=r.json()["points"][0]["run"])
    assert Experiment.objects.get(pk=r.json()["id"]).status == "running"  # from its first point on
    exp = drive_all(r.json()["id"], django_capture_on_commit_callbacks)
    assert exp.status == "succeeded"
    got = client_for(people["victor"]).get(f"{URL}{exp.id}/").json()
    assert got["progress"] == 1.0 and got["done"] == got["total"] == 3
    label = "M1→M2.buffer_capacity"
    for point, b in zip(got["points"], values):
        assert point["values"] == {label: b}
        tp = point["results"]["throughput_per_hour"]
        exact = 3600 * exact_two_machine_throughput(1 / 10.0, 1 / 12.0, b)
        assert abs(tp["mean"] - exact) <= 3 * tp["ci95"], (b, tp, exact)
    # One factor: its effects are the points' objective means, per level; more buffer never hurts here.
    means = [p["results"]["throughput_per_hour"]["mean"] for p in got["points"]]
    assert got["effects"] == {label: pytest.approx(means)}
    assert got["best"] == 2
    # The points' runs are not listed among the layout's own runs.
    listed = client_for(people["alice"]).get(f"/api/simulations/?layout={layout.id}").json()
    assert listed["count"] == 0


@pytest.mark.django_db
def test_common_random_numbers_make_a_paired_comparison_far_narrower(people, django_capture_on_commit_callbacks):
    layout = two_machine_line(people["plant"])
    from twins.services.experiments import experiment_create

    exp = experiment_create(layout=layout, by=people["alice"], body=body(
        layout, [{"connection": middle(layout).id, "field": "buffer_capacity", "values": [1, 2]}],
        horizon_s=20_000, replications=10))
    exp = drive_all(exp.id, django_capture_on_commit_callbacks)
    a, b = (p.run for p in exp.points.order_by("index"))
    cmp = compare_runs(b, a)["throughput_per_hour"]
    assert cmp["paired"] is True
    ra = np.array(a.results["replication_kpis"]["throughput_per_hour"])
    rb = np.array(b.results["replication_kpis"]["throughput_per_hour"])
    unpaired = welch(rb.mean(), rb.var(ddof=1), len(rb), ra.mean(), ra.var(ddof=1), len(ra))
    assert cmp["diff"] == pytest.approx(unpaired["diff"])
    assert cmp["ci95"] < 0.5 * unpaired["ci95"], (cmp, unpaired)
    # Different seeds: the comparison falls back to Welch and says so.
    other = svc.simulation_create(layout=layout, params={"horizon_s": 20_000, "warmup_s": 2_000, "replications": 10, "seed": 5},
                                  by=people["alice"])
    drive(other.id)
    other.refresh_from_db()
    assert compare_runs(other, a)["wip"]["paired"] is False


@pytest.mark.django_db
def test_the_optimiser_finds_the_best_buffer_allocation_within_its_budget(people, django_capture_on_commit_callbacks):
    # Three machines, 6 slots to split between two buffers (b1 + b2 on a grid 0..6 each, 49 points): the
    # objective is throughput minus a WIP cost, so the best point is an interior allocation; the optimiser
    # may evaluate at most 20 of the 49 and must find the grid's best, which the full grid computes here.
    from twins.services.experiments import experiment_create

    layout = make_layout(factory=people["plant"], assets=3, line=True, name="Three machines")
    Asset.objects.filter(layout=layout, name="Source").update(params={"interarrival_s": None})
    for name, c in (("M1", 10.0), ("M2", 11.0), ("M3", 10.0)):
        Asset.objects.filter(layout=layout, name=name).update(params={"cycle_time_s": c, "cycle_cv": 1.0})
    c1 = Connection.objects.get(layout=layout, source__name="M1")
    c2 = Connection.objects.get(layout=layout, source__name="M2")
    factors = [{"connection": c1.id, "field": "buffer_capacity", "values": [0, 1, 2, 3]},
               {"connection": c2.id, "field": "buffer_capacity", "values": [0, 1, 2, 3]}]
    kw = dict(horizon_s=30_000, replications=3)
    grid = drive_all(experiment_create(layout=layout, by=people["alice"], body=body(layout, factors, **kw)).id,
                     django_capture_on_commit_callbacks)
    opt = drive_all(experiment_create(layout=layout, by=people["alice"], body=body(
        layout, factors, search={"method": "optimize", "budget": 10}, **kw)).id, django_capture_on_commit_callbacks)
    from twins.services.experiments import experiment_repr

    g, o = experiment_repr(grid), experiment_repr(opt)
    assert len(o["points"]) == 10 and len({repr(p["values"]) for p in o["points"]}) == 10
    best_grid = g["points"][g["best"]]["values"]
    assert o["points"][o["best"]]["values"] == best_grid
    # Same seed, same layout variant: the optimiser's point has exactly the grid's numbers (common random numbers).
    assert o["points"][o["best"]]["results"] == g["points"][g["best"]]["results"]


@pytest.mark.django_db
def test_cancel_stops_every_point_and_apply_makes_a_branch(people, client_for, django_capture_on_commit_callbacks):
    layout = two_machine_line(people["plant"])
    conn = middle(layout)
    alice = client_for(people["alice"])
    exp_id = alice.post(URL, body(layout, [{"connection": conn.id, "field": "buffer_capacity", "values": [1, 3]},
                                           {"asset": Asset.objects.get(layout=layout, name="M2").id, "param": "cycle_time_s",
                                            "values": [9.0, 12.0]}], horizon_s=10_000, replications=2), format="json").json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        drive(Experiment.objects.get(pk=exp_id).points.get(index=0).run_id)
    assert client_for(people["victor"]).post(f"{URL}{exp_id}/cancel/").status_code == 403
    r = alice.post(f"{URL}{exp_id}/cancel/")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert set(SimulationRun.objects.filter(experiment_point__experiment_id=exp_id).values_list("status", flat=True)) == {"succeeded", "cancelled"}
    assert alice.post(f"{URL}{exp_id}/cancel/").status_code == 409
    experiment_advance(experiment_id=exp_id)  # a late hook changes nothing
    assert Experiment.objects.get(pk=exp_id).status == "cancelled"
    # Apply point 2 (buffer 3, M2 at 9 s: the grid runs the last factor fastest) as a branch: a draft with those values, the original untouched.
    r = alice.post(f"{URL}{exp_id}/apply/", {"point": 2, "name": "Bigger buffer, faster M2"}, format="json")
    assert r.status_code == 201, r.content
    branch = Layout.objects.get(pk=r.json()["id"])
    assert branch.status == "draft" and branch.parent_id == layout.id
    assert Connection.objects.get(layout=branch, uid=conn.uid).buffer_capacity == 3
    assert Asset.objects.get(layout=branch, name="M2").params["cycle_time_s"] == 9.0
    assert middle(layout).buffer_capacity == 5 and Asset.objects.get(layout=layout, name="M2").params["cycle_time_s"] == 12.0
    assert alice.post(f"{URL}{exp_id}/apply/", {"point": 99}, format="json").status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("factors, extra, field", [
    ([], {}, "factors"),
    ([{"connection": 0, "field": "buffer_capacity", "values": [1]}], {}, "factors"),
    ([{"asset": "x", "param": "cycle_time_s", "values": [1]}], {}, "factors"),
    (None, {"objective": {"kpi": "speed"}}, "objective"),
    (None, {"search": {"method": "optimize"}}, "search.budget"),
    (None, {"replications": 200, "search": {"method": "grid"}}, "factors"),  # 101 values × 200 > 20,000
])
def test_bad_experiments_are_400_naming_the_field(people, client_for, factors, extra, field):
    layout = two_machine_line(people["plant"])
    if factors is None:
        factors = [{"connection": middle(layout).id, "field": "buffer_capacity",
                    "values": list(range(101)) if extra.get("replications") == 200 else [1, 2]}]
        if extra.get("replications") == 200:
            factors[0]["values"] = list(range(100))
            factors.append({"connection": middle(layout).id, "field": "weight", "values": [1, 2]})
    r = client_for(people["alice"]).post(URL, body(layout, factors, **extra), format="json")
    assert r.status_code == 400, r.content
    assert field in r.json() or field in r.json()["detail"]
    assert Experiment.objects.count() == 0 and SimulationRun.objects.count() == 0


@pytest.mark.django_db
def test_roles_and_tenancy(people, client_for):
    layout = two_machine_line(people["plant"])
    b = body(layout, [{"connection": middle(layout).id, "field": "buffer_capacity", "values": [1, 2]}], horizon_s=5000)
    assert client_for(people["victor"]).post(URL, b, format="json").status_code == 403
    assert client_for(people["mallory"]).post(URL, b, format="json").status_code == 404
    exp_id = client_for(people["alice"]).post(URL, b, format="json").json()["id"]
    assert client_for(people["mallory"]).get(f"{URL}{exp_id}/").status_code == 404
    assert client_for(people["mallory"]).get(URL).json()["count"] == 0
    listed = client_for(people["victor"]).get(f"{URL}?layout={layout.id}").json()
    assert [e["id"] for e in listed["results"]] == [exp_id]
    assert math.isfinite(listed["results"][0]["progress"])
