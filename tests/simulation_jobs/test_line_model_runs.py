"""§7 through the API: a layout with a product mix, a shared operator pool and a shift calendar is
accepted, snapshotted with its calendar, and its results carry the §7 figures; a bad calendar is a 400."""
import pytest

from tests.builders import make_asset_type
from twins.models import Asset, SimulationRun

from .helpers import in_process

URL = "/api/simulations/"
TWO_SHIFTS = {"period_s": 86400, "on": [[6 * 3600, 14 * 3600], [14 * 3600, 22 * 3600]]}


@pytest.mark.django_db
def test_a_line_model_run_carries_calendar_mix_and_operators(people, client_for, draft):
    pool = Asset.objects.create(layout=draft, asset_type=make_asset_type("operator"), name="CNC crew", x=2, z=2,
                                params={"capacity": 1})
    Asset.objects.filter(layout=draft, name="Source").update(params={"interarrival_s": None, "mix": {"A": 1, "B": 1}})
    for name in ("M1", "M2"):
        Asset.objects.filter(layout=draft, name=name).update(
            params={"cycle_time_s": 10.0, "cycle_cv": 0.0, "operator": pool.id, "setup_time_s": 5.0})
    body = {"layout": draft.id, "horizon_s": 2 * 86400, "warmup_s": 0, "replications": 2, "seed": 3,
            "calendar": TWO_SHIFTS}
    r = client_for(people["alice"]).post(URL, body, format="json")
    assert r.status_code == 201, r.content
    run = SimulationRun.objects.get(pk=r.json()["id"])
    assert run.params["calendar"] == {"period_s": 86400.0, "on": [[21600.0, 50400.0], [50400.0, 79200.0]]}
    assert "CNC crew" in [s["name"] for s in run.params["model"]["stations"]]
    res = in_process(run)
    assert res["engine"] == "line"
    assert set(res["throughput_by_type"]) == {"A", "B"}
    assert res["resources"][0]["name"] == "CNC crew"
    m1 = next(s for s in res["stations"] if s["name"] == "M1")
    assert m1["utilization"]["off_shift"] == pytest.approx(1 / 3, abs=1e-3)
    assert m1["oee"] is not None and 0 < m1["oee"]["oee"] <= 1


@pytest.mark.django_db
@pytest.mark.parametrize("calendar", [
    {"period_s": 0, "on": [[0, 1]]}, {"period_s": 100, "on": [[50, 40]]}, {"period_s": 100, "on": []},
    {"period_s": 100, "on": [[0, 200]]}, "always", {"period_s": 100, "on": [[0, 10]], "extra": 1},
])
def test_a_bad_calendar_is_a_400_naming_it(people, client_for, draft, calendar):
    body = {"layout": draft.id, "horizon_s": 3600, "calendar": calendar}
    r = client_for(people["alice"]).post(URL, body, format="json")
    assert r.status_code == 400, r.content
    assert "calendar" in r.json() and "calendar" in r.json()["detail"].lower()


@pytest.mark.django_db
def test_an_operator_that_no_station_names_stays_scenery(people, client_for, draft):
    Asset.objects.create(layout=draft, asset_type=make_asset_type("operator"), name="Visitor", x=2, z=2)
    r = client_for(people["alice"]).post(URL, {"layout": draft.id, "horizon_s": 3600}, format="json")
    run = SimulationRun.objects.get(pk=r.json()["id"])
    assert "Visitor" not in [s["name"] for s in run.params["model"]["stations"]]
    assert "calendar" not in run.params


@pytest.mark.django_db
def test_a_live_forecast_starts_from_the_twins_queues_and_down_machines(people, client_for, draft):
    from twins.models import Twin

    Asset.objects.filter(layout=draft, name="M1").update(twin_key="m1", params={"mtbf_s": 3600.0, "mttr_s": 600.0})
    Asset.objects.filter(layout=draft, name="M2").update(twin_key="m2")
    Twin.objects.create(factory=people["plant"], key="m1", name="M1", status="down", values={"queue": 4.0})
    Twin.objects.create(factory=people["plant"], key="m2", name="M2", status="running", values={"queue": 7})
    body = {"layout": draft.id, "horizon_s": 8 * 3600, "warmup_s": 0, "replications": 5, "seed": 2, "initial_state": "live"}
    r = client_for(people["alice"]).post(URL, body, format="json")
    assert r.status_code == 201, r.content
    run = SimulationRun.objects.get(pk=r.json()["id"])
    m1 = Asset.objects.get(layout=draft, name="M1").id
    m2 = Asset.objects.get(layout=draft, name="M2").id
    assert run.params["initial_state"] == "live"
    assert run.params["model"]["initial"] == {str(m1): {"queue": 4, "down": True}, str(m2): {"queue": 7, "down": False}}
    res = in_process(run)
    fc = res["forecast"]
    assert len(fc["t"]) == 48 and fc["t"][-1] == pytest.approx(8 * 3600)
    cum = fc["cumulative"]
    assert all(lo <= m <= hi for lo, m, hi in zip(cum["lo"], cum["mean"], cum["hi"]))
    assert cum["mean"] == sorted(cum["mean"])
    bad = client_for(people["alice"]).post(URL, {**body, "initial_state": "yesterday"}, format="json")
    assert bad.status_code == 400 and "initial_state" in bad.json()


@pytest.mark.django_db
def test_the_beat_refreshes_a_live_forecast_of_the_baseline_only_when_asked(people, client_for, draft):
    from twins.services.forecast import forecast_refresh

    plant = people["plant"]
    plant.baseline_layout = draft
    plant.save()
    assert forecast_refresh() == []  # off by default
    r = client_for(people["olivia"]).patch(f"/api/factories/{plant.id}/", {"forecast_every_s": 300}, format="json")
    assert r.status_code == 200, r.content
    made = forecast_refresh()
    assert len(made) == 1
    run = SimulationRun.objects.get(pk=made[0])
    assert run.layout_id == draft.id and run.params["initial_state"] == "live" and run.created_by is None
    assert r.json()["forecast_every_s"] == 300
    assert forecast_refresh() == []  # the latest is fresh enough
    assert client_for(people["olivia"]).patch(f"/api/factories/{plant.id}/", {"forecast_every_s": 5}, format="json").status_code == 400
