"""`/api/scenarios/` and `/api/compare/`: the review list with each layout's latest KPIs, and the KPI comparison
with deltas and significance, on runs of the real simulation engine."""
import math

import pytest
from scipy.stats import t as student_t
from scipy.stats import ttest_ind_from_stats

from collaboration.review import _welch
from tests.builders import make_layout
from twins.models import Asset, Factory, Layout
from twins.services.simulations import simulation_create, simulation_run_batch, simulation_start

pytestmark = pytest.mark.django_db

PARAMS = {"horizon_s": 4 * 3600.0, "warmup_s": 600.0, "replications": 5, "seed": 7}


def run(layout, by, **params):
    """Create a run and execute it in this process (what the Celery tasks do)."""
    created = simulation_create(layout=layout, params={**PARAMS, **params}, by=by)
    batches = simulation_start(run_id=created.id)
    for batch in batches:
        simulation_run_batch(run_id=created.id, replications=batch)
    created.refresh_from_db()
    assert created.status == "succeeded", created.error
    return created


@pytest.fixture
def plant(people, draft, client_for):
    """`draft` approved as the baseline; alice's branch with a faster source; an untouched copy by bob."""
    Layout.objects.filter(pk=draft.pk).update(status=Layout.Status.APPROVED)
    Factory.objects.filter(pk=people["plant"].pk).update(baseline_layout=draft)
    faster = client_for(people["alice"]).post(f"/api/layouts/{draft.id}/branch/", {"name": "Faster source"}, format="json").json()
    source = Asset.objects.get(layout_id=faster["id"], name="Source")
    client_for(people["alice"]).patch(f"/api/assets/{source.id}/", {"params": {"interarrival_s": 12.0, "interarrival_cv": 1.0}, "version": 1}, format="json")
    Asset.objects.filter(layout=draft, name="Source").update(params={"interarrival_s": 20.0, "interarrival_cv": 1.0})
    same = client_for(people["bob"]).post(f"/api/layouts/{draft.id}/branch/", {"name": "Same"}, format="json").json()
    return {"baseline": draft, "faster": Layout.objects.get(pk=faster["id"]), "same": Layout.objects.get(pk=same["id"])}


def test_scenario_list_shows_status_author_parent_and_latest_kpis(people, plant, client_for):
    baseline_run = run(plant["baseline"], people["alice"])
    run(plant["faster"], people["alice"], seed=1)
    latest = run(plant["faster"], people["alice"])
    client_for(people["victor"]).post("/api/comments/", {"layout": plant["faster"].id, "text": "nice"}, format="json")
    body = client_for(people["victor"]).get(f"/api/scenarios/?factory={people['plant'].id}").json()
    rows = {r["name"]: r for r in body["results"]}
    assert body["count"] == 3 and set(rows) == {"Draft line", "Faster source", "Same"}
    faster = rows["Faster source"]
    assert (faster["status"], faster["created_by"], faster["parent"], faster["parent_name"], faster["is_baseline"]) == (
        "draft", "alice", plant["baseline"].id, "Draft line", False)
    assert faster["comments"] == {"total": 1, "open": 1}
    sim = faster["latest_simulation"]
    assert sim["id"] == latest.id and sim["stale"] is False and sim["params"]["seed"] == 7
    kpis = sim["kpis"]
    assert kpis["throughput_per_hour"] == {**latest.results["throughput_per_hour"], "n": 5}
    assert kpis["lead_time_s"]["mean"] == latest.results["lead_time_s"]["mean"] and kpis["wip"]["ci95"] == latest.results["wip"]["ci95"]
    bottleneck = next(s for s in latest.results["stations"] if s["asset"] == latest.results["bottleneck"])
    assert kpis["bottleneck"] == {"asset": bottleneck["asset"], "name": bottleneck["name"], "utilization": bottleneck["utilization"]}
    assert kpis["bottleneck_utilization"]["mean"] == bottleneck["utilization"]["working"]
    assert rows["Draft line"]["is_baseline"] and rows["Draft line"]["latest_simulation"]["id"] == baseline_run.id
    assert rows["Same"]["latest_simulation"] is None and rows["Same"]["last_run"] is None
    assert "timeseries" not in str(sim) and "playback" not in str(sim)


def test_an_edit_after_the_run_marks_its_kpis_stale_and_a_queued_run_shows(people, plant, client_for):
    run(plant["faster"], people["alice"])
    m1 = Asset.objects.get(layout=plant["faster"], name="M1")
    client_for(people["alice"]).patch(f"/api/assets/{m1.id}/", {"x": 4.5, "version": m1.version}, format="json")
    queued = simulation_create(layout=plant["faster"], params=PARAMS, by=people["alice"])
    row = next(r for r in client_for(people["alice"]).get("/api/scenarios/?status=draft").json()["results"] if r["id"] == plant["faster"].id)
    assert row["latest_simulation"]["stale"] is True
    assert row["last_run"] == {"id": queued.id, "status": "queued", "progress": 0.0}


def test_scenario_list_filters_by_status_and_never_leaks(people, plant, client_for):
    make_layout(factory=people["other"], name="Secret")
    alice = client_for(people["alice"])
    assert [r["name"] for r in alice.get(f"/api/scenarios/?factory={people['plant'].id}&status=approved").json()["results"]] == ["Draft line"]
    assert "Secret" not in [r["name"] for r in alice.get("/api/scenarios/").json()["results"]]
    mallory = client_for(people["mallory"])
    assert mallory.get(f"/api/scenarios/?factory={people['plant'].id}").status_code == 404
    assert [r["name"] for r in mallory.get("/api/scenarios/").json()["results"]] == ["Secret"]


def test_compare_shows_a_significant_throughput_gain(people, plant, client_for):
    run(plant["baseline"], people["alice"])
    run(plant["faster"], people["alice"])
    response = client_for(people["maggie"]).get(f"/api/compare/?layout={plant['faster'].id}")  # against defaults to the baseline
    assert response.status_code == 200
    body = response.json()
    assert body["against"]["id"] == plant["baseline"].id and body["same_params"] is True
    kpis = {k["key"]: k for k in body["kpis"]}
    tp = kpis["throughput_per_hour"]
    assert tp["layout"]["mean"] > 250 and 150 < tp["against"]["mean"] < 210
    assert math.isclose(tp["delta"], tp["layout"]["mean"] - tp["against"]["mean"])
    assert tp["improved"] is True and tp["significant"] is True and tp["p_value"] < 0.001
    # Same seed and replications: the difference is paired replication by replication (CONTRACT §8).
    assert tp["intervals_overlap"] is False and tp["method"] == "paired"
    assert kpis["bottleneck_utilization"]["delta"] > 0 and kpis["bottleneck_utilization"]["significant"] is None
    assert [k["key"] for k in body["kpis"]] == ["throughput_per_hour", "lead_time_s", "wip", "bottleneck_utilization"]


def test_compare_falls_back_to_welch_when_the_runs_used_other_seeds(people, plant, client_for):
    run(plant["baseline"], people["alice"], seed=1)
    run(plant["faster"], people["alice"], seed=2)
    body = client_for(people["maggie"]).get(f"/api/compare/?layout={plant['faster'].id}").json()
    tp = {k["key"]: k for k in body["kpis"]}["throughput_per_hour"]
    assert body["same_params"] is False
    assert tp["method"] == "welch" and tp["significant"] is True and tp["p_value"] < 0.001


def test_compare_of_an_unchanged_copy_with_the_same_seed_is_not_significant(people, plant, client_for):
    run(plant["baseline"], people["alice"])
    run(plant["same"], people["alice"])
    body = client_for(people["maggie"]).get(f"/api/compare/?layout={plant['same'].id}&against={plant['baseline'].id}").json()
    for kpi in body["kpis"][:3]:
        assert kpi["delta"] == 0 and kpi["significant"] is False and kpi["intervals_overlap"] is True, kpi["key"]


def test_compare_without_runs_has_no_kpi_values(people, plant, client_for):
    body = client_for(people["victor"]).get(f"/api/compare/?layout={plant['same'].id}").json()
    assert body["runs"] == {"layout": None, "against": None} and body["same_params"] is None
    assert all(k["delta"] is None and k["significant"] is None for k in body["kpis"])


def test_compare_checks_access_and_arguments(people, plant, client_for):
    foreign = make_layout(factory=people["other"])
    maggie = client_for(people["maggie"])
    assert maggie.get(f"/api/compare/?layout={plant['faster'].id}&against={foreign.id}").status_code == 404
    assert client_for(people["mallory"]).get(f"/api/compare/?layout={plant['faster'].id}").status_code == 404
    assert maggie.get("/api/compare/").status_code == 400
    other_run = run(plant["baseline"], people["alice"])
    assert maggie.get(f"/api/compare/?layout={plant['faster'].id}&run={other_run.id}").status_code == 404
    Factory.objects.filter(pk=people["plant"].pk).update(baseline_layout=None)
    assert maggie.get(f"/api/compare/?layout={plant['faster'].id}").status_code == 400


@pytest.mark.parametrize("a, b", [
    ((100.0, 5.0, 5), (110.0, 6.0, 8)),
    ((3.2, 0.4, 10), (3.1, 0.1, 3)),
    ((50.0, 20.0, 2), (10.0, 1.0, 30)),
])
def test_welch_from_half_widths_matches_scipy(a, b):
    def stats(mean, half, n):
        return mean, half * math.sqrt(n) / student_t.ppf(0.975, n - 1), n

    significant, p = _welch({"mean": a[0], "ci95": a[1], "n": a[2]}, {"mean": b[0], "ci95": b[1], "n": b[2]})
    expected = ttest_ind_from_stats(*stats(*a), *stats(*b), equal_var=False).pvalue
    assert math.isclose(p, expected, rel_tol=1e-9) and significant == (expected < 0.05)


def test_single_replications_have_no_significance():
    assert _welch({"mean": 1.0, "ci95": 0.0, "n": 1}, {"mean": 2.0, "ci95": 0.0, "n": 1}) == (None, None)


def test_deterministic_runs_differ_significantly_when_the_means_differ():
    assert _welch({"mean": 1.0, "ci95": 0.0, "n": 3}, {"mean": 2.0, "ci95": 0.0, "n": 3}) == (True, 0.0)
    assert _welch({"mean": 2.0, "ci95": 0.0, "n": 3}, {"mean": 2.0, "ci95": 0.0, "n": 3}) == (False, 1.0)



def test_scenario_and_comment_lists_use_a_constant_number_of_queries(people, plant, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    victor = client_for(people["victor"])

    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert victor.get(url).status_code == 200
        return len(queries)

    run(plant["faster"], people["alice"])
    victor.post("/api/comments/", {"layout": plant["faster"].id, "text": "one @alice"}, format="json")
    few = count(f"/api/scenarios/?factory={people['plant'].id}"), count(f"/api/comments/?layout={plant['faster'].id}")
    for i in range(6):
        layout = make_layout(factory=people["plant"], assets=1, line=True)
        run(layout, people["alice"], horizon_s=1800.0, warmup_s=0.0, replications=2)
        for j in range(3):
            victor.post("/api/comments/", {"layout": plant["faster"].id, "text": f"more @bob {i}{j}"}, format="json")
    assert (count(f"/api/scenarios/?factory={people['plant'].id}"), count(f"/api/comments/?layout={plant['faster'].id}")) == few
