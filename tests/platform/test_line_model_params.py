"""CONTRACT §7 outside the engine: the new asset params and connection fields are checked with a 400 that names
them, stored, and travel everywhere assets and connections travel (REST, scene, events, audit, branch, diff)."""
import pytest

from collaboration.models import AuditEntry
from tests.builders import make_asset_type, make_layout
from tests.review.conftest import RoomListener
from twins.models import Asset, AssetType, Connection
from twins.services.params import clean_params


@pytest.fixture
def plant(people, draft):
    """The draft line with a two-worker CNC operator pool and a conveyor; another layout with its own pool."""
    operator = make_asset_type("operator", name="Operator pool")
    pool = Asset.objects.create(layout=draft, asset_type=operator, name="CNC crew", x=8, z=3, params={"capacity": 2})
    conveyor = Asset.objects.create(layout=draft, asset_type=make_asset_type("conveyor"), name="Belt", x=8, z=-3)
    elsewhere = make_layout(factory=people["plant"], assets=1)
    foreign_pool = Asset.objects.create(layout=elsewhere, asset_type=operator, name="Other crew", x=0, z=0)
    return {"layout": draft, "m1": draft.assets.get(name="M1"), "pool": pool, "conveyor": conveyor, "foreign_pool": foreign_pool}


def patch_params(client, asset, params):
    return client.patch(f"/api/assets/{asset.id}/", {"params": params, "version": asset.version}, format="json")


GOOD = {
    "mix": {"housing": 3, "cover": 1.5},
    "cycle_time_by_type": {"housing": 40.0, "cover": 25},
    "setup_time_s": 120,
    "setup_cv": 0.5,
    "scrap_rate": 0.02,
    "output_type": "pump",
}


def test_every_new_param_is_stored_as_sent(people, plant, client_for):
    client = client_for(people["alice"])
    params = {**GOOD, "operator": plant["pool"].id, "repair_operator": plant["pool"].id, "cycle_time_s": 30.0}

    response = patch_params(client, plant["m1"], params)

    assert response.status_code == 200, response.json()
    assert response.json()["params"] == {**params, "mix": {"housing": 3.0, "cover": 1.5}, "setup_time_s": 120.0, "cycle_time_by_type": {"housing": 40.0, "cover": 25.0}}
    plant["m1"].refresh_from_db()
    assert plant["m1"].params["operator"] == plant["pool"].id


def test_conveyor_geometry_and_pool_capacity_are_accepted(people, plant, client_for):
    client = client_for(people["alice"])
    assert patch_params(client, plant["conveyor"], {"length_m": 10, "speed_mps": 0.5, "spacing_m": 1.25}).status_code == 200
    assert patch_params(client, plant["pool"], {"capacity": 3}).status_code == 200


BAD = [
    ({"mix": {}}, "mix"),
    ({"mix": []}, "mix"),
    ({"mix": {"housing": 0}}, "mix"),
    ({"mix": {"housing": -1}}, "mix"),
    ({"mix": {"housing": "lots"}}, "mix.housing"),
    ({"mix": {"": 1}}, "mix"),
    ({"mix": {"   ": 1}}, "mix"),
    ({"mix": {"x" * 65: 1}}, "mix"),
    ({"mix": {f"type-{i}": 1 for i in range(51)}}, "mix"),
    ({"cycle_time_by_type": {"housing": 0}}, "cycle_time_by_type"),
    ({"cycle_time_by_type": {"housing": None}}, "cycle_time_by_type.housing"),
    ({"cycle_time_by_type": 30}, "cycle_time_by_type"),
    ({"setup_time_s": -1}, "setup_time_s"),
    ({"setup_cv": -0.1}, "setup_cv"),
    ({"scrap_rate": 1}, "scrap_rate"),
    ({"scrap_rate": -0.01}, "scrap_rate"),
    ({"scrap_rate": 1.5}, "scrap_rate"),
    ({"length_m": 0}, "length_m"),
    ({"speed_mps": -2}, "speed_mps"),
    ({"spacing_m": 0}, "spacing_m"),
    ({"length_m": 2, "spacing_m": 3}, "spacing_m"),
    ({"output_type": ""}, "output_type"),
    ({"output_type": 7}, "output_type"),
    ({"operator": "CNC crew"}, "operator"),
    ({"operator": True}, "operator"),
    ({"repair_operator": 1.0}, "repair_operator"),
]


@pytest.mark.parametrize(("params", "named"), BAD, ids=[f"{list(p)[0]}-{i}" for i, (p, _) in enumerate(BAD)])
def test_a_bad_param_is_400_naming_it_and_changes_nothing(people, plant, client_for, params, named):
    m1 = plant["m1"]
    before = (m1.params, m1.version, m1.layout.revision)

    response = patch_params(client_for(people["alice"]), m1, params)

    assert response.status_code == 400, response.json()
    assert f"params.{named}" in response.json()["detail"], response.json()
    m1.refresh_from_db()
    m1.layout.refresh_from_db()
    assert (m1.params, m1.version, m1.layout.revision) == before


@pytest.mark.parametrize("which", ["foreign", "not_an_operator", "missing"])
def test_an_operator_must_be_an_operator_asset_of_the_same_layout(people, plant, client_for, which):
    target = {"foreign": plant["foreign_pool"].id, "not_an_operator": plant["conveyor"].id, "missing": 987654}[which]

    response = patch_params(client_for(people["alice"]), plant["m1"], {"operator": target})

    assert response.status_code == 400
    assert "params.operator" in response.json()["detail"] and str(target) in response.json()["detail"], response.json()


def test_a_new_asset_can_name_its_operator_and_null_means_none(people, plant, client_for):
    client = client_for(people["alice"])
    machine = plant["m1"].asset_type_id
    created = client.post("/api/assets/", {"layout": plant["layout"].id, "asset_type": machine, "params": {"operator": plant["pool"].id, "repair_operator": None}}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["params"] == {"operator": plant["pool"].id, "repair_operator": None}


def test_a_catalogue_default_cannot_name_an_operator_asset(people, plant, client_for):
    with pytest.raises(Exception) as caught:
        clean_params({"operator": plant["pool"].id})
    assert "params.operator" in str(caught.value) and "type default" in str(caught.value)
    assert clean_params({"operator": None, **GOOD}) == {"operator": None, **GOOD, "mix": {"housing": 3.0, "cover": 1.5}, "setup_time_s": 120.0, "cycle_time_by_type": {"housing": 40.0, "cover": 25.0}}


def test_the_catalogue_has_an_assembly_type(db):
    assembly = AssetType.objects.filter(kind="assembly")
    assert assembly.exists()
    assert assembly.first().defaults.get("cycle_time_s", 0) > 0


# --- connections ------------------------------------------------------------------------------------------

def first_link(layout) -> Connection:
    return Connection.objects.filter(layout=layout).order_by("id").first()


def patch_link(client, link, changes):
    return client.patch(f"/api/connections/{link.id}/", {**changes, "version": link.version}, format="json")


def test_part_types_and_quantity_round_trip_through_rest_the_scene_events_and_audit(people, plant, client_for, django_capture_on_commit_callbacks):
    client = client_for(people["alice"])
    link = first_link(plant["layout"])
    fresh = client.get(f"/api/connections/{link.id}/").json()
    assert (fresh["part_types"], fresh["quantity"]) == (None, 1)
    room = RoomListener(plant["layout"].id)

    with django_capture_on_commit_callbacks(execute=True):
        response = patch_link(client, link, {"part_types": ["housing", "cover"], "quantity": 2})

    assert response.status_code == 200, response.json()
    assert (response.json()["part_types"], response.json()["quantity"]) == (["housing", "cover"], 2)
    scene = client.get(f"/api/layouts/{plant['layout'].id}/scene/").json()
    assert next(c for c in scene["connections"] if c["id"] == link.id) == response.json()
    applied = room.next_event()
    assert (applied["kind"], applied["object"]) == ("connection.update", response.json())
    audit = AuditEntry.objects.filter(action="connection.update").latest("seq")
    assert (audit.data["part_types"], audit.data["quantity"]) == (["housing", "cover"], 2)

    back = patch_link(client, Connection.objects.get(pk=link.pk), {"part_types": None})
    assert back.status_code == 200 and back.json()["part_types"] is None


def test_a_new_connection_takes_part_types_and_quantity(people, plant, client_for):
    client = client_for(people["alice"])
    m1, sink = plant["m1"], plant["layout"].assets.get(name="Sink")
    created = client.post("/api/connections/", {"layout": plant["layout"].id, "source": m1.id, "target": sink.id, "part_types": ["scrap-check"], "quantity": 3}, format="json")
    assert created.status_code == 201, created.json()
    assert (created.json()["part_types"], created.json()["quantity"]) == (["scrap-check"], 3)


BAD_LINKS = [
    ({"part_types": []}, "part_types"),
    ({"part_types": "housing"}, "part_types"),
    ({"part_types": ["housing", "housing"]}, "part_types"),
    ({"part_types": [""]}, "part_types"),
    ({"part_types": [3]}, "part_types"),
    ({"part_types": ["y" * 65]}, "part_types"),
    ({"part_types": [f"t{i}" for i in range(51)]}, "part_types"),
    ({"quantity": 0}, "quantity"),
    ({"quantity": 1001}, "quantity"),
    ({"quantity": 1.5}, "quantity"),
    ({"quantity": None}, "quantity"),
    ({"quantity": "2"}, "quantity"),
]


@pytest.mark.parametrize(("changes", "named"), BAD_LINKS, ids=[f"{list(c)[0]}-{i}" for i, (c, _) in enumerate(BAD_LINKS)])
def test_a_bad_connection_field_is_400_naming_it_and_changes_nothing(people, plant, client_for, changes, named):
    link = first_link(plant["layout"])
    before = (link.part_types, link.quantity, link.version)

    response = patch_link(client_for(people["alice"]), link, changes)

    assert response.status_code == 400, response.json()
    assert named in response.json()["detail"], response.json()
    link.refresh_from_db()
    assert (link.part_types, link.quantity, link.version) == before


def test_a_routing_change_makes_runs_stale(people, plant, client_for):
    layout = plant["layout"]
    layout.refresh_from_db()
    before = layout.content_revision

    patch_link(client_for(people["alice"]), first_link(layout), {"part_types": ["housing"]})

    layout.refresh_from_db()
    assert layout.content_revision > before


# --- branch and diff --------------------------------------------------------------------------------------

def test_a_branch_copies_routing_and_points_at_its_own_operator_pool(people, plant, client_for):
    client = client_for(people["alice"])
    m1, link = plant["m1"], first_link(plant["layout"])
    assert patch_params(client, m1, {"operator": plant["pool"].id, "repair_operator": plant["pool"].id}).status_code == 200
    assert patch_link(client, link, {"part_types": ["housing"], "quantity": 2}).status_code == 200

    branch = client.post(f"/api/layouts/{plant['layout'].id}/branch/", {"name": "More operators"}, format="json").json()

    copy_pool = Asset.objects.get(layout_id=branch["id"], uid=plant["pool"].uid)
    copy_m1 = Asset.objects.get(layout_id=branch["id"], uid=m1.uid)
    assert copy_m1.params == {"operator": copy_pool.id, "repair_operator": copy_pool.id}
    copy_link = Connection.objects.get(layout_id=branch["id"], uid=link.uid)
    assert (copy_link.part_types, copy_link.quantity) == (["housing"], 2)
    unchanged = client.get(f"/api/layouts/{branch['id']}/diff/?against={plant['layout'].id}").json()
    assert unchanged["changed"] == [] and unchanged["connections"]["changed"] == [], unchanged


def test_the_diff_names_a_changed_operator_and_routing(people, plant, client_for):
    client = client_for(people["alice"])
    m1 = plant["m1"]
    assert patch_params(client, m1, {"operator": plant["pool"].id}).status_code == 200
    branch = client.post(f"/api/layouts/{plant['layout'].id}/branch/", {"name": "Own crew"}, format="json").json()
    operator_type = plant["pool"].asset_type_id
    crew = client.post("/api/assets/", {"layout": branch["id"], "asset_type": operator_type, "name": "Second crew"}, format="json").json()
    copy_m1 = Asset.objects.get(layout_id=branch["id"], uid=m1.uid)
    assert patch_params(client, copy_m1, {"operator": crew["id"]}).status_code == 200
    copy_link = Connection.objects.filter(layout_id=branch["id"]).order_by("id").first()
    assert patch_link(client, copy_link, {"part_types": ["cover"], "quantity": 4}).status_code == 200

    diff = client.get(f"/api/layouts/{branch['id']}/diff/?against={plant['layout'].id}").json()

    changed = next(c for c in diff["changed"] if c["uid"] == str(m1.uid))
    assert changed["fields"]["params.operator"] == {"from": "CNC crew", "to": "Second crew"}
    routing = diff["connections"]["changed"][0]["fields"]
    assert routing == {"part_types": {"from": None, "to": ["cover"]}, "quantity": {"from": 1, "to": 4}}
