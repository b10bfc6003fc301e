"""seed_demo is idempotent and builds a believable plant whose layout changes show in the simulation and in the
review of its seeded scenario; add_member creates users and roles."""
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from collaboration.models import AuditEntry
from collaboration.review import kpi_comparison, run_kpis
from twins.models import (
    Asset,
    AssetType,
    Connection,
    Factory,
    Layout,
    Membership,
    SimulationRun,
    Twin,
)
from twins.services.assets import asset_update
from twins.services.layouts import layout_branch
from twins.simulation.runner import simulate
from twins.simulation_model import model_from_dict, validated_model

pytestmark = pytest.mark.django_db


def counts():
    return [m.objects.count() for m in (Factory, AssetType, Layout, Asset, Connection, Membership, Twin, SimulationRun, AuditEntry)]


def seeded_plant() -> Factory:
    call_command("seed_demo", stdout=StringIO())
    return Factory.objects.get(slug="demo-plant")


def kpis(model, params: dict) -> dict:
    """The review KPIs of the model simulated in this process with a run's parameters."""
    keys = ("horizon_s", "warmup_s", "replications", "seed")
    return run_kpis(simulate(model, **{k: params[k] for k in keys}))


def test_seed_demo_twice_changes_nothing():
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    first = counts()
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    assert counts() == first


def test_demo_plant_is_believable():
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    plant = Factory.objects.get(slug="demo-plant")
    assert plant.name == "Demo Plant" and (plant.floor_width_m, plant.floor_depth_m) == (60, 40)
    layout = plant.baseline_layout
    assert layout.status == "approved"
    assert layout.assets.count() >= 30
    kinds = set(AssetType.objects.values_list("kind", flat=True))
    assert kinds == {"source", "machine", "assembly", "buffer", "sink", "conveyor", "robot", "operator", "decor"}  # assembly: migration 0005
    placed_kinds = set(layout.assets.values_list("asset_type__kind", flat=True))
    assert {"source", "machine", "buffer", "sink", "robot"} <= placed_kinds
    assert layout.assets.filter(asset_type__kind="sink").count() >= 2  # two lines
    assert layout.connections.count() >= 15
    roles = dict(Membership.objects.filter(factory=plant).values_list("user__username", "role"))
    assert roles == {"olivia": "owner", "maggie": "manager", "alice": "engineer", "bob": "engineer", "victor": "viewer"}
    bound = set(layout.assets.exclude(twin_key="").values_list("twin_key", flat=True))
    assert bound and bound <= set(Twin.objects.filter(factory=plant).values_list("key", flat=True))
    # Parts travel between stations at a walking cart's pace; a source hands its parts straight to its station.
    speeds = [(c.source.asset_type.kind, c.transport_speed_mps) for c in layout.connections.select_related("source__asset_type")]
    assert all(speed is None for kind, speed in speeds if kind == "source")
    assert all(speed is not None and speed > 0 for kind, speed in speeds if kind != "source")


def test_moving_a_demo_station_farther_away_lengthens_lead_time_and_raises_wip():
    plant = seeded_plant()
    alice = get_user_model().objects.get(username="alice")
    farther = layout_branch(layout=plant.baseline_layout, name="Inspection in the lab", by=alice)
    inspection = farther.assets.get(name="Inspection A")
    asset_update(asset=inspection, changes={"z": inspection.z + 10}, version=inspection.version, by=alice)
    params = {"horizon_s": 8 * 3600, "warmup_s": 1800, "replications": 5, "seed": 3}
    before, after = kpis(validated_model(plant.baseline_layout), params), kpis(validated_model(farther), params)
    # About 10 m more each way for line A's parts (a third of the plant's output), at 0.5 m/s.
    assert after["lead_time_s"]["mean"] > before["lead_time_s"]["mean"] + 3
    assert after["wip"]["mean"] > before["wip"]["mean"]
    tp_before, tp_after = before["throughput_per_hour"], after["throughput_per_hour"]
    assert abs(tp_after["mean"] - tp_before["mean"]) <= tp_before["ci95"] + tp_after["ci95"]  # line A is paced by its arrivals


def test_the_seeded_scenario_under_review_shows_a_real_kpi_difference():
    plant = seeded_plant()
    scenario = Layout.objects.get(factory=plant, status=Layout.Status.IN_REVIEW)
    assert scenario.parent_id == plant.baseline_layout_id and scenario.created_by.username == "alice"
    runs = {run.layout_id: run for run in SimulationRun.objects.filter(layout__factory=plant)}
    assert set(runs) == {scenario.id, plant.baseline_layout_id}
    mine, theirs = runs[scenario.id], runs[plant.baseline_layout_id]
    assert {k: v for k, v in mine.params.items() if k != "model"} == {k: v for k, v in theirs.params.items() if k != "model"}
    assert mine.layout_revision == scenario.revision
    # The snapshots the worker will simulate, run here: the review's own comparison must call the difference real.
    rows = {row["key"]: row for row in kpi_comparison(kpis(model_from_dict(mine.params["model"]), mine.params),
                                                      kpis(model_from_dict(theirs.params["model"]), theirs.params))}
    assert rows["throughput_per_hour"]["significant"] and rows["throughput_per_hour"]["improved"] is False
    assert rows["throughput_per_hour"]["delta_pct"] < -5
    assert rows["wip"]["significant"]


def test_add_member_creates_the_user_with_the_role():
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    call_command("add_member", "demo-plant", "newbie", "engineer", "--password", "pw-123456", stdout=open("/dev/null", "w"))
    membership = Membership.objects.get(user__username="newbie")
    assert membership.role == "engineer" and membership.user.check_password("pw-123456")
    call_command("add_member", "demo-plant", "newbie", "viewer", stdout=open("/dev/null", "w"))
    assert Membership.objects.get(user__username="newbie").role == "viewer"


def test_add_member_names_an_unknown_factory():
    with pytest.raises(CommandError, match="No factory with slug 'nowhere'"):
        call_command("add_member", "nowhere", "x", "viewer")
