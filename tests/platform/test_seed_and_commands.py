"""seed_demo is idempotent and builds a believable plant, a line as a factory has it (CONTRACT §7), whose layout
changes show in the simulation and whose seeded scenario the review calls a real gain, paired run by run;
add_member creates users and roles."""
from dataclasses import replace
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from collaboration.models import AuditEntry
from collaboration.review import layouts_compare, run_kpis
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
from twins.services.simulations import simulation_run_batch, simulation_start
from twins.simulation.model import Model
from twins.simulation.runner import simulate
from twins.simulation_model import validated_model

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
    assert {"source", "machine", "assembly", "buffer", "sink", "robot", "operator"} <= placed_kinds
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


def test_demo_plant_is_a_line_as_a_factory_has_it():
    """CONTRACT.md §7 in the demo: a three-type mix with setups on two CNCs sharing one operator pool, a gearbox
    assembly taking two gear sets per housing, scrap at inspection, and the line engine running it."""
    plant = seeded_plant()
    layout = plant.baseline_layout
    assets = {a.name: a for a in layout.assets.select_related("asset_type")}
    assert set(assets["Bar Stock In"].params["mix"]) == {"bracket", "flange", "shaft"}
    pool = assets["CNC Operators"]
    assert pool.asset_type.kind == "operator" and pool.params["capacity"] == 1
    for cnc in ("CNC-1", "CNC-2"):
        params = assets[cnc].params
        assert params["operator"] == pool.id and params["setup_time_s"] > 0
        assert set(params["cycle_time_by_type"]) == {"bracket", "flange", "shaft"}
    assembly = assets["Assembly-1"]
    assert assembly.asset_type.kind == "assembly" and assembly.twin_key == "assembly-1"
    feeds = {c.source.name: c.quantity for c in layout.connections.filter(target=assembly).select_related("source")}
    assert feeds == {"Buffer B2": 1, "Buffer B4": 2}  # a housing and two gear sets per gearbox
    assert assets["Inspection A"].params["scrap_rate"] > 0 and assets["Final Test"].params["scrap_rate"] > 0
    results = simulate(validated_model(layout), horizon_s=4 * 3600, warmup_s=1800, replications=2, seed=5)
    assert results["engine"] == "line"
    assert set(results["throughput_by_type"]) == {"bracket", "flange", "shaft", "gearbox"}
    cnc = {s["name"]: s for s in results["stations"]}["CNC-1"]
    assert cnc["utilization"]["setup"] > 0 and cnc["utilization"]["waiting_operator"] > 0.1
    assert results["scrap_per_hour"]["mean"] > 0


def as_baseline_ids(model: Model, branch: Layout, baseline: Layout) -> Model:
    """The branch's model with each asset under its baseline twin's id (a branch keeps its assets' uids). The
    line engine draws its random numbers per asset id, so the two runs then share them station by station
    (common random numbers) and their difference is the layout change's, not luck's."""
    by_uid = dict(baseline.assets.values_list("uid", "id"))
    ids = {aid: by_uid[uid] for aid, uid in branch.assets.values_list("id", "uid")}
    ref = {"operator": lambda v: ids.get(v, v), "repair_operator": lambda v: ids.get(v, v)}
    stations = tuple(replace(s, id=ids[s.id], **{k: f(getattr(s, k)) for k, f in ref.items()}) for s in model.stations)
    links = tuple(replace(ln, source=ids[ln.source], target=ids[ln.target]) for ln in model.links)
    return replace(model, stations=stations, links=links)


def test_moving_a_demo_station_farther_away_lengthens_lead_time_and_raises_wip():
    plant = seeded_plant()
    alice = get_user_model().objects.get(username="alice")
    farther = layout_branch(layout=plant.baseline_layout, name="Inspection in the lab", by=alice)
    inspection = farther.assets.get(name="Inspection A")
    asset_update(asset=inspection, changes={"z": inspection.z + 10}, version=inspection.version, by=alice)
    params = {"horizon_s": 8 * 3600, "warmup_s": 1800, "replications": 5, "seed": 3}
    moved = as_baseline_ids(validated_model(farther), farther, plant.baseline_layout)
    before, after = kpis(validated_model(plant.baseline_layout), params), kpis(moved, params)
    # About 10 m more each way for line A's parts (a third of the plant's output), at 0.5 m/s.
    assert after["lead_time_s"]["mean"] > before["lead_time_s"]["mean"] + 3
    assert after["wip"]["mean"] > before["wip"]["mean"]
    tp_before, tp_after = before["throughput_per_hour"], after["throughput_per_hour"]
    assert abs(tp_after["mean"] - tp_before["mean"]) <= tp_before["ci95"] + tp_after["ci95"]  # line A is paced by its CNC operator


def run_in_process(run: SimulationRun) -> SimulationRun:
    """The run's batches through the services, as the workers would run them (nothing is enqueued in a test
    transaction)."""
    for batch in simulation_start(run_id=run.id):
        simulation_run_batch(run_id=run.id, replications=batch)
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    return run


def test_the_seeded_scenario_under_review_shows_a_difference_a_manager_can_act_on():
    plant = seeded_plant()
    scenario = Layout.objects.get(factory=plant, status=Layout.Status.IN_REVIEW)
    assert scenario.parent_id == plant.baseline_layout_id and scenario.created_by.username == "alice"
    runs = {run.layout_id: run for run in SimulationRun.objects.filter(layout__factory=plant)}
    assert set(runs) == {scenario.id, plant.baseline_layout_id}
    mine, theirs = runs[scenario.id], runs[plant.baseline_layout_id]
    assert {k: v for k, v in mine.params.items() if k != "model"} == {k: v for k, v in theirs.params.items() if k != "model"}
    assert mine.params["calendar"]["on"] == [[21600.0, 50400.0], [50400.0, 79200.0]]  # two shifts, 06:00–22:00
    assert mine.layout_revision == scenario.revision
    mine, theirs = run_in_process(mine), run_in_process(theirs)

    # The review pairs the two runs replication by replication and calls the gain real.
    rows = {row["key"]: row for row in layouts_compare(layout=scenario, against=plant.baseline_layout,
                                                       run_id=mine.id, against_run_id=theirs.id)["kpis"]}
    throughput = rows["throughput_per_hour"]
    assert throughput["method"] == "paired" and throughput["significant"] and throughput["improved"] is True
    assert throughput["delta_pct"] > 10
    assert rows["lead_time_s"]["significant"] and rows["lead_time_s"]["improved"] is True

    # Every machined type gains, the CNCs' OEE rises and they stop waiting for the operator.
    a, b = mine.results, theirs.results
    assert set(a["throughput_by_type"]) == set(b["throughput_by_type"]) == {"bracket", "flange", "shaft", "gearbox"}
    for part in ("bracket", "flange", "shaft"):
        gain, ci = a["throughput_by_type"][part], b["throughput_by_type"][part]
        assert gain["mean"] - gain["ci95"] > ci["mean"] + ci["ci95"], (part, gain, ci)
    cnc_after, cnc_before = ({s["name"]: s for s in r["stations"]}["CNC-1"] for r in (a, b))
    assert cnc_after["oee"]["oee"] > cnc_before["oee"]["oee"] + 0.1
    assert cnc_after["utilization"]["waiting_operator"] < 0.5 * cnc_before["utilization"]["waiting_operator"]
    pools = {r["name"]: r for r in b["resources"]}
    assert pools["CNC Operators"]["utilization"] > 0.9  # one operator for two CNCs is the constraint


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
