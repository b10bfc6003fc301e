"""REST /api/simulations/: roles, listing without leaks, validation that names the culprit, export."""
import pytest
from django.test.utils import CaptureQueriesContext  # noqa: F401  (kept for debugging query counts)

from tests.builders import make_asset_type, make_layout
from twins.models import Asset, Connection, SimulationRun

URL = "/api/simulations/"
GOOD = {"horizon_s": 3600, "warmup_s": 600, "replications": 3, "seed": 7}


def post(client, layout, **overrides):
    return client.post(URL, {"layout": layout.id, **GOOD, **overrides}, format="json")


@pytest.mark.django_db
def test_engineer_creates_a_queued_run_that_snapshots_the_revision(people, client_for, draft, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        r = post(client_for(people["alice"]), draft)
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["status"] == "queued" and body["progress"] == 0.0 and body["results"] is None
    assert body["layout"] == draft.id and body["layout_revision"] == draft.revision
    assert body["params"] == {"horizon_s": 3600.0, "warmup_s": 600.0, "replications": 3, "seed": 7}
    assert body["created_by"] == "alice"
    run = SimulationRun.objects.get(pk=body["id"])
    assert [s["name"] for s in run.params["model"]["stations"]] == ["Source", "M1", "M2", "M3", "Sink"]
    assert len(callbacks) >= 1  # the enqueue waits for the commit


@pytest.mark.django_db
def test_viewer_cannot_create_but_reads(people, client_for, draft):
    assert post(client_for(people["victor"]), draft).status_code == 403
    run_id = post(client_for(people["alice"]), draft).json()["id"]
    viewer = client_for(people["victor"])
    assert viewer.get(f"{URL}{run_id}/").status_code == 200
    assert [r["id"] for r in viewer.get(URL, {"layout": draft.id}).json()["results"]] == [run_id]
    assert viewer.post(f"{URL}{run_id}/cancel/").status_code == 403
    assert SimulationRun.objects.get(pk=run_id).status == "queued"


@pytest.mark.django_db
def test_non_member_gets_404_and_lists_never_leak(people, client_for, draft):
    run_id = post(client_for(people["alice"]), draft).json()["id"]
    mallory = client_for(people["mallory"])
    assert post(mallory, draft).status_code == 404
    assert mallory.get(f"{URL}{run_id}/").status_code == 404
    assert mallory.post(f"{URL}{run_id}/cancel/").status_code == 404
    assert mallory.get(f"{URL}{run_id}/export/?format=csv").status_code == 404
    assert mallory.get(URL).json()["count"] == 0
    assert mallory.get(URL, {"layout": draft.id}).json()["count"] == 0
    assert mallory.get(URL, {"factory": people["plant"].id}).json()["count"] == 0
    assert client_for(None).get(URL).status_code in (401, 403)


@pytest.mark.django_db
def test_list_filters_by_layout_and_factory(people, client_for, draft):
    other_layout = make_layout(factory=people["plant"], assets=1, line=True)
    foreign = make_layout(factory=people["other"], assets=1, line=True)
    alice = client_for(people["alice"])
    a, b = post(alice, draft).json()["id"], post(alice, other_layout).json()["id"]
    assert post(client_for(people["mallory"]), foreign).status_code == 201
    assert [r["id"] for r in alice.get(URL, {"layout": draft.id}).json()["results"]] == [a]
    assert {r["id"] for r in alice.get(URL, {"factory": people["plant"].id}).json()["results"]} == {a, b}
    assert {r["id"] for r in alice.get(URL).json()["results"]} == {a, b}
    assert alice.get(URL, {"factory": people["other"].id}).json()["count"] == 0
    assert "model" not in alice.get(URL).json()["results"][0]["params"]


@pytest.mark.django_db
@pytest.mark.parametrize("overrides, field", [
    ({"horizon_s": 0}, "horizon_s"),
    ({"horizon_s": "long"}, "horizon_s"),
    ({"horizon_s": 10**9}, "horizon_s"),
    ({"warmup_s": 3600}, "warmup_s"),
    ({"warmup_s": -1}, "warmup_s"),
    ({"replications": 0}, "replications"),
    ({"replications": 201}, "replications"),
    ({"replications": 2.5}, "replications"),
    ({"seed": -3}, "seed"),
    ({"seed": "abc"}, "seed"),
    ({"speed": "fast"}, "speed"),
])
def test_bad_params_are_400_naming_the_field(people, client_for, draft, overrides, field):
    r = post(client_for(people["alice"]), draft, **overrides)
    assert r.status_code == 400, r.content
    assert field in r.json() and field in r.json()["detail"]
    assert not SimulationRun.objects.exists()


@pytest.mark.django_db
def test_layout_without_sink_is_400(people, client_for, draft):
    Asset.objects.filter(layout=draft, name="Sink").delete()
    r = post(client_for(people["alice"]), draft)
    assert r.status_code == 400
    assert "no sink" in r.json()["detail"]
    assert not SimulationRun.objects.exists()


@pytest.mark.django_db
def test_layout_without_source_is_400(people, client_for, draft):
    Asset.objects.filter(layout=draft, name="Source").delete()
    r = post(client_for(people["alice"]), draft)
    assert r.status_code == 400 and "no source" in r.json()["detail"]


@pytest.mark.django_db
def test_machine_without_cycle_time_is_400_naming_the_asset(people, client_for, draft):
    m2 = Asset.objects.get(layout=draft, name="M2")
    m2.asset_type = make_asset_type("machine", defaults={})
    m2.save()
    r = post(client_for(people["alice"]), draft)
    assert r.status_code == 400
    body = r.json()
    assert body["asset"] == {"id": m2.id, "name": "M2"}
    assert "'M2'" in body["detail"] and str(m2.id) in body["detail"] and "cycle_time_s" in body["detail"]


@pytest.mark.django_db
def test_unreachable_station_is_400_naming_it(people, client_for, draft):
    m2, m3, sink = (Asset.objects.get(layout=draft, name=n) for n in ("M2", "M3", "Sink"))
    Connection.objects.filter(target=m3).delete()
    Connection.objects.create(layout=draft, source=m2, target=sink)
    r = post(client_for(people["alice"]), draft)
    assert r.status_code == 400
    assert r.json()["asset"]["name"] == "M3" and "not reachable" in r.json()["detail"]


@pytest.mark.django_db
def test_asset_params_overlay_the_type_defaults(people, client_for, draft):
    m1 = Asset.objects.get(layout=draft, name="M1")
    m1.params = {"cycle_time_s": 12.5, "mtbf_s": 600.0, "mttr_s": 60.0}
    m1.save()
    run_id = post(client_for(people["alice"]), draft).json()["id"]
    stations = {s["name"]: s for s in SimulationRun.objects.get(pk=run_id).params["model"]["stations"]}
    assert stations["M1"]["cycle_time_s"] == 12.5 and stations["M1"]["mtbf_s"] == 600.0
    assert stations["M2"]["cycle_time_s"] == 10.0 and stations["M2"]["mtbf_s"] is None
    assert stations["Source"]["interarrival_s"] == 20.0


@pytest.mark.django_db
def test_operators_and_decor_are_left_out(people, client_for, draft):
    Asset.objects.create(layout=draft, asset_type=make_asset_type("operator"), name="Ana", x=3, z=3)
    fence = Asset.objects.create(layout=draft, asset_type=make_asset_type("decor"), name="Fence", x=5, z=5)
    Connection.objects.create(layout=draft, source=Asset.objects.get(layout=draft, name="M1"), target=fence)
    r = post(client_for(people["alice"]), draft)
    assert r.status_code == 201, r.content
    names = [s["name"] for s in SimulationRun.objects.get(pk=r.json()["id"]).params["model"]["stations"]]
    assert "Ana" not in names and "Fence" not in names


@pytest.mark.django_db
def test_a_run_too_big_for_the_limits_is_refused(people, client_for, draft):
    Asset.objects.filter(layout=draft, name="Source").update(params={"interarrival_s": 1.0})
    r = post(client_for(people["alice"]), draft, horizon_s=80 * 24 * 3600, warmup_s=0, replications=200)
    assert r.status_code == 400 and "station visits" in r.json()["detail"]


@pytest.mark.django_db
def test_cancel_a_queued_run_then_cancel_again_is_409(people, client_for, draft):
    bob = client_for(people["bob"])
    run_id = post(client_for(people["alice"]), draft).json()["id"]
    r = bob.post(f"{URL}{run_id}/cancel/")
    assert r.status_code == 200 and r.json()["status"] == "cancelled" and r.json()["finished_at"]
    assert bob.post(f"{URL}{run_id}/cancel/").status_code == 409


@pytest.mark.django_db
def test_export_csv_and_json_of_a_finished_run(people, client_for, draft):
    from twins.services.simulations import simulation_finish
    from twins.simulation import runner
    from twins.simulation_model import model_from_dict

    alice = client_for(people["alice"])
    run = SimulationRun.objects.get(pk=post(alice, draft).json()["id"])
    assert alice.get(f"{URL}{run.id}/export/?format=csv").status_code == 409
    p = run.params
    results = runner.simulate(model_from_dict(p["model"]), horizon_s=p["horizon_s"], warmup_s=p["warmup_s"],
                              replications=p["replications"], seed=p["seed"])
    SimulationRun.objects.filter(pk=run.id).update(status="running")
    assert simulation_finish(run_id=run.id, results=results) is True
    assert simulation_finish(run_id=run.id, results=results) is False  # only once
    csv_response = alice.get(f"{URL}{run.id}/export/?format=csv")
    assert csv_response.status_code == 200 and csv_response["Content-Type"].startswith("text/csv")
    lines = csv_response.content.decode().splitlines()
    assert lines[0] == "section,asset,name,metric,t,value,ci95"
    assert any(line.startswith("summary,,,throughput_per_hour,,") for line in lines)
    assert any(line.startswith("station,") and ",M2,utilization_working," in line for line in lines)
    as_json = alice.get(f"{URL}{run.id}/export/?format=json")
    assert as_json.status_code == 200
    exported = as_json.json()
    assert exported["results"]["throughput_per_hour"] == results["throughput_per_hour"]
    listed = alice.get(URL).json()["results"][0]["results"]
    assert "playback" not in listed and listed["bottleneck"] == results["bottleneck"]
