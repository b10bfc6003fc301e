"""Assets, connections and layouts through REST: versions, revisions, validation, branches, read-only states."""
import json

import pytest

from collaboration.models import AuditEntry
from twins.models import Asset, Connection, Layout

pytestmark = pytest.mark.django_db


def snapshot(layout):
    return (list(Asset.objects.filter(layout=layout).order_by("id").values()), list(Connection.objects.filter(layout=layout).order_by("id").values()),
            Layout.objects.get(pk=layout.pk).revision)


def test_update_bumps_version_and_revision(people, draft, client_for):
    asset = draft.assets.get(name="M1")
    response = client_for(people["alice"]).patch(f"/api/assets/{asset.id}/", {"x": 7.5, "params": {"cycle_time_s": 12}, "version": 1}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["x"] == 7.5 and body["params"] == {"cycle_time_s": 12.0} and body["version"] == 2
    assert Layout.objects.get(pk=draft.pk).revision == 1


def test_stale_version_is_rejected_with_current_state(people, draft, client_for):
    asset = draft.assets.get(name="M1")
    client_for(people["alice"]).patch(f"/api/assets/{asset.id}/", {"x": 1.0, "version": 1}, format="json")
    stale = client_for(people["bob"]).patch(f"/api/assets/{asset.id}/", {"x": 99.0, "version": 1}, format="json")
    assert stale.status_code == 409
    assert stale.json()["current"]["x"] == 1.0 and stale.json()["current"]["version"] == 2
    assert Asset.objects.get(pk=asset.pk).x == 1.0


def test_if_match_header_carries_the_version(people, draft, client_for):
    asset = draft.assets.get(name="M2")
    client = client_for(people["alice"])
    assert client.patch(f"/api/assets/{asset.id}/", {"z": 3.0}, format="json", HTTP_IF_MATCH='"2"').status_code == 409
    assert client.patch(f"/api/assets/{asset.id}/", {"z": 3.0}, format="json", HTTP_IF_MATCH='"1"').status_code == 200
    assert client.delete(f"/api/assets/{asset.id}/", HTTP_IF_MATCH='"1"').status_code == 409
    assert client.delete(f"/api/assets/{asset.id}/", HTTP_IF_MATCH='"2"').status_code == 204
    assert not Asset.objects.filter(pk=asset.pk).exists()


def test_missing_version_is_a_clear_error(people, draft, client_for):
    asset = draft.assets.get(name="M1")
    response = client_for(people["alice"]).patch(f"/api/assets/{asset.id}/", {"x": 3.0}, format="json")
    assert response.status_code == 400 and "version" in response.json()["detail"]


@pytest.mark.parametrize("changes", [
    {"x": "far"}, {"x": None}, {"rotation_deg": [1]}, {"name": ""}, {"name": "x" * 500}, {"params": {"cycle_time_s": -1}},
    {"params": {"warp_speed": 9}}, {"params": {"capacity": 1.5}}, {"params": "fast"}, {"asset_type": 999999}, {"twin_key": "no spaces"},
    {"x": 1e300}, {"version": 1, "uid": "x"},
])
def test_bad_asset_input_is_400_and_changes_nothing(people, draft, client_for, changes):
    asset = draft.assets.get(name="M1")
    before = snapshot(draft)
    response = client_for(people["alice"]).patch(f"/api/assets/{asset.id}/", {"version": 1, **changes}, format="json")
    if "uid" in changes:  # read-only fields are ignored rather than rejected
        assert response.status_code == 200
        return
    assert response.status_code == 400, response.json()
    assert response["Content-Type"].startswith("application/json")
    assert snapshot(draft) == before


def test_nan_in_json_is_rejected(people, draft, client_for):
    asset = draft.assets.get(name="M1")
    body = '{"x": NaN, "version": 1}'
    response = client_for(people["alice"]).generic("PATCH", f"/api/assets/{asset.id}/", body, content_type="application/json")
    assert response.status_code == 400
    assert Asset.objects.get(pk=asset.pk).version == 1


def test_create_asset_in_a_draft(people, draft, client_for):
    machine_type = draft.assets.get(name="M1").asset_type_id
    response = client_for(people["alice"]).post("/api/assets/", {"layout": draft.id, "asset_type": machine_type, "name": "New", "x": 2, "z": 3}, format="json")
    assert response.status_code == 201
    assert response.json()["version"] == 1 and response.json()["uid"]


@pytest.mark.parametrize("case", ["self", "foreign", "duplicate", "missing", "negative_capacity", "zero_speed"])
def test_bad_connections_are_400_naming_the_culprit(people, draft, client_for, case):
    m1, m2 = draft.assets.get(name="M1"), draft.assets.get(name="M2")
    other = Layout.objects.create(factory=people["plant"], name="Other")
    stranger = Asset.objects.create(layout=other, asset_type=m1.asset_type, name="Stranger")
    body = {"layout": draft.id, "source": m1.id, "target": m2.id}
    body.update({
        "self": {"target": m1.id}, "foreign": {"target": stranger.id}, "duplicate": {}, "missing": {"target": None},
        "negative_capacity": {"target": draft.assets.get(name="Sink").id, "buffer_capacity": -1},
        "zero_speed": {"target": draft.assets.get(name="Sink").id, "transport_speed_mps": 0},
    }[case])
    before = snapshot(draft)
    response = client_for(people["alice"]).post("/api/connections/", body, format="json")
    assert response.status_code == 400, response.json()
    detail = json.dumps(response.json())
    assert any(word in detail for word in ("source", "target", "buffer_capacity", "transport_speed_mps", str(m1.id)))
    assert snapshot(draft) == before


def test_connection_lifecycle(people, draft, client_for):
    client = client_for(people["alice"])
    m1, m3 = draft.assets.get(name="M1"), draft.assets.get(name="M3")
    created = client.post("/api/connections/", {"layout": draft.id, "source": m1.id, "target": m3.id, "buffer_capacity": 2, "weight": 0.5}, format="json")
    assert created.status_code == 201
    cid = created.json()["id"]
    assert client.patch(f"/api/connections/{cid}/", {"transport_speed_mps": 1.5}, format="json").json()["transport_speed_mps"] == 1.5
    assert client.get(f"/api/connections/?layout={draft.id}").json()["count"] == 5
    assert client.delete(f"/api/connections/{cid}/").status_code == 204


def test_deleting_an_asset_removes_its_connections(people, draft, client_for):
    m2 = draft.assets.get(name="M2")
    assert client_for(people["alice"]).delete(f"/api/assets/{m2.id}/", {"version": 1}, format="json").status_code == 204
    assert not Connection.objects.filter(layout=draft).filter(source=m2.id).exists()


def test_branch_is_a_deep_copy_keeping_uids(people, draft, client_for):
    response = client_for(people["alice"]).post(f"/api/layouts/{draft.id}/branch/", {"name": "Scenario B"}, format="json")
    assert response.status_code == 201
    branch = Layout.objects.get(pk=response.json()["id"])
    assert branch.parent_id == draft.id and branch.status == "draft"
    assert set(branch.assets.values_list("uid", flat=True)) == set(draft.assets.values_list("uid", flat=True))
    pairs = lambda lay: {(c.source.uid, c.target.uid) for c in lay.connections.select_related("source", "target")}  # noqa: E731
    assert pairs(branch) == pairs(draft)
    assert not set(branch.assets.values_list("id", flat=True)) & set(draft.assets.values_list("id", flat=True))


@pytest.mark.parametrize("status", ["in_review", "approved", "rejected", "archived"])
def test_non_draft_layouts_are_read_only_for_everyone(people, draft, client_for, status):
    Layout.objects.filter(pk=draft.pk).update(status=status)
    asset = draft.assets.get(name="M1")
    for who in ("alice", "olivia", "staff"):
        response = client_for(people[who]).patch(f"/api/assets/{asset.id}/", {"x": 3, "version": 1}, format="json")
        assert response.status_code == 403 and "branch" in response.json()["detail"]


def test_scene_has_everything_the_3d_view_needs(people, draft, client_for):
    scene = client_for(people["victor"]).get(f"/api/layouts/{draft.id}/scene/").json()
    assert set(scene) >= {"layout", "asset_types", "assets", "connections", "seq"}
    assert len(scene["assets"]) == 5 and len(scene["connections"]) == 4
    assert scene["layout"]["my_role"] == "viewer" and scene["layout"]["factory_info"]["floor_width_m"] == 60


def test_every_change_is_audited(people, draft, client_for):
    asset = draft.assets.get(name="M1")
    client_for(people["alice"]).patch(f"/api/assets/{asset.id}/", {"x": 2, "version": 1}, format="json")
    entry = AuditEntry.objects.filter(factory=people["plant"]).order_by("-seq").first()
    assert entry.action == "asset.update" and entry.actor == "alice" and entry.data["x"] == 2


def test_pagination_shape(people, draft, client_for):
    body = client_for(people["alice"]).get(f"/api/assets/?layout={draft.id}&page_size=2").json()
    assert set(body) == {"count", "next", "previous", "results"} and body["count"] == 5 and len(body["results"]) == 2


def test_bad_filter_is_400(people, client_for):
    assert client_for(people["alice"]).get("/api/assets/?layout=abc").status_code == 400
