"""`GET /api/layouts/{id}/diff/?against=ID`: changes from a baseline to a branch, matched by asset uid."""
import pytest

from twins.models import Asset

pytestmark = pytest.mark.django_db


@pytest.fixture
def branch(people, draft, client_for):
    """A branch of the draft line, edited by alice over REST: M1 moved, M2 re-parameterised, M3 removed,
    a new buffer added and connected, and the Source → M1 connection's buffer enlarged."""
    alice = client_for(people["alice"])
    body = alice.post(f"/api/layouts/{draft.id}/branch/", {"name": "Scenario"}, format="json").json()
    assets = {a["name"]: a for a in alice.get(f"/api/assets/?layout={body['id']}").json()["results"]}
    assert alice.patch(f"/api/assets/{assets['M1']['id']}/", {"x": 5.5, "z": 2.0, "rotation_deg": 90, "version": 1}, format="json").status_code == 200
    assert alice.patch(f"/api/assets/{assets['M2']['id']}/", {"params": {"cycle_time_s": 7.5}, "name": "M2 fast", "version": 1}, format="json").status_code == 200
    assert alice.delete(f"/api/assets/{assets['M3']['id']}/", {"version": 1}, format="json").status_code == 204
    new = alice.post("/api/assets/", {"layout": body["id"], "asset_type": assets["M1"]["asset_type"], "name": "Extra", "x": 12.0, "z": 6.0}, format="json")
    assert new.status_code == 201
    link = alice.post("/api/connections/", {"layout": body["id"], "source": assets["M2"]["id"], "target": new.json()["id"]}, format="json")
    assert link.status_code == 201
    conns = alice.get(f"/api/connections/?layout={body['id']}").json()["results"]
    first = next(c for c in conns if c["source"] == assets["Source"]["id"])
    assert alice.patch(f"/api/connections/{first['id']}/", {"buffer_capacity": 20, "version": first["version"]}, format="json").status_code == 200
    return body["id"]


def diff(client, layout, against):
    response = client.get(f"/api/layouts/{layout}/diff/?against={against}")
    assert response.status_code == 200, response.content
    return response.json()


def test_moved_asset_has_from_and_to(people, draft, branch, client_for):
    result = diff(client_for(people["maggie"]), branch, draft.id)
    m1 = Asset.objects.get(layout=draft, name="M1")
    assert result["moved"] == [{"uid": str(m1.uid), "id": Asset.objects.get(layout_id=branch, uid=m1.uid).id, "name": "M1",
                                "from": {"x": 4.0, "z": 0.0, "rotation_deg": 0.0}, "to": {"x": 5.5, "z": 2.0, "rotation_deg": 90.0}}]


def test_added_and_removed_assets(people, draft, branch, client_for):
    result = diff(client_for(people["victor"]), branch, draft.id)
    assert [a["name"] for a in result["added"]] == ["Extra"]
    assert result["added"][0]["x"] == 12.0
    assert [(a["name"], a["uid"]) for a in result["removed"]] == [("M3", str(Asset.objects.get(layout=draft, name="M3").uid))]


def test_changed_params_and_fields(people, draft, branch, client_for):
    result = diff(client_for(people["maggie"]), branch, draft.id)
    assert len(result["changed"]) == 1
    change = result["changed"][0]
    assert change["uid"] == str(Asset.objects.get(layout=draft, name="M2").uid)
    assert change["fields"]["name"] == {"from": "M2", "to": "M2 fast"}
    # Effective parameters: the baseline's M2 had no own value, so it ran at its type's default (10 s).
    assert change["fields"]["params.cycle_time_s"] == {"from": 10.0, "to": 7.5}


def test_an_explicit_value_equal_to_the_default_is_no_change(people, draft, client_for):
    m1 = draft.assets.get(name="M1")
    copy = client_for(people["alice"]).post(f"/api/layouts/{draft.id}/branch/", {"name": "Same"}, format="json").json()
    twin = Asset.objects.get(layout_id=copy["id"], uid=m1.uid)
    client_for(people["alice"]).patch(f"/api/assets/{twin.id}/", {"params": {"cycle_time_s": 10.0}, "version": 1}, format="json")
    assert diff(client_for(people["maggie"]), copy["id"], draft.id)["changed"] == []


def test_connection_changes(people, draft, branch, client_for):
    connections = diff(client_for(people["maggie"]), branch, draft.id)["connections"]
    assert [(c["source"], c["target"]) for c in connections["added"]] == [("M2 fast", "Extra")]
    assert sorted((c["source"], c["target"]) for c in connections["removed"]) == [("M2", "M3"), ("M3", "Sink")]
    assert [(c["source"], c["fields"]) for c in connections["changed"]] == [("Source", {"buffer_capacity": {"from": 5, "to": 20}})]


def test_diff_in_the_other_direction_swaps_added_and_removed(people, draft, branch, client_for):
    result = diff(client_for(people["maggie"]), draft.id, branch)
    assert [a["name"] for a in result["added"]] == ["M3"] and [a["name"] for a in result["removed"]] == ["Extra"]
    assert result["moved"][0]["from"] == {"x": 5.5, "z": 2.0, "rotation_deg": 90.0}


def test_identical_layouts_have_an_empty_diff(people, draft, client_for):
    alice = client_for(people["alice"])
    copy = alice.post(f"/api/layouts/{draft.id}/branch/", {"name": "Copy"}, format="json").json()["id"]
    result = diff(alice, copy, draft.id)
    assert result["added"] == result["removed"] == result["moved"] == result["changed"] == []
    assert result["connections"] == {"added": [], "removed": [], "changed": []}


def test_diff_against_another_factory_is_404(people, draft, client_for):
    from tests.builders import make_layout

    foreign = make_layout(factory=people["other"], assets=1)
    assert client_for(people["maggie"]).get(f"/api/layouts/{draft.id}/diff/?against={foreign.id}").status_code == 404
    assert client_for(people["mallory"]).get(f"/api/layouts/{foreign.id}/diff/?against={draft.id}").status_code == 404
