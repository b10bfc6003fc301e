"""Endpoint × role × own/other factory: codes as CONTRACT.md §2 says, lists never leak (RELIABILITY.md)."""
import pytest

from tests.builders import make_layout
from twins.models import Layout

pytestmark = pytest.mark.django_db

ROLES = ["victor", "alice", "maggie", "olivia", "staff"]
EDITORS = {"alice", "maggie", "olivia", "staff"}
MANAGERS = {"maggie", "olivia", "staff"}
OWNERS = {"olivia", "staff"}


@pytest.fixture
def world(people, draft):
    foreign = make_layout(factory=people["other"], assets=2, line=True, name="Foreign")
    return {**people, "draft": draft, "foreign": foreign}


@pytest.mark.parametrize("who", ROLES)
def test_lists_show_only_my_factories(world, client_for, who):
    client = client_for(world[who])
    factories = {f["slug"] for f in client.get("/api/factories/").json()["results"]}
    layouts = {row["factory"] for row in client.get("/api/layouts/").json()["results"]}
    assets = {row["layout"] for row in client.get("/api/assets/").json()["results"]}
    if who == "staff":
        assert {"plant", "other-plant"} <= factories
    else:
        assert factories == {"plant"}
        assert layouts == {world["plant"].id}
        assert assets == {world["draft"].id}


@pytest.mark.parametrize("url", ["/api/factories/{other}/", "/api/layouts/{foreign}/", "/api/layouts/{foreign}/scene/",
                                 "/api/assets/{foreign_asset}/", "/api/connections/{foreign_connection}/", "/api/factories/{other}/members/"])
def test_other_factories_objects_answer_404(world, client_for, url):
    foreign = world["foreign"]
    url = url.format(other=world["other"].id, foreign=foreign.id, foreign_asset=foreign.assets.first().id,
                     foreign_connection=foreign.connections.first().id)
    assert client_for(world["alice"]).get(url).status_code == 404


def test_foreign_writes_answer_404_and_change_nothing(world, client_for):
    client = client_for(world["alice"])
    foreign = world["foreign"]
    asset = foreign.assets.first()
    assert client.patch(f"/api/assets/{asset.id}/", {"x": 9, "version": asset.version}, format="json").status_code == 404
    assert client.delete(f"/api/assets/{asset.id}/", HTTP_IF_MATCH=f'"{asset.version}"').status_code == 404
    assert client.post("/api/assets/", {"layout": foreign.id, "asset_type": asset.asset_type_id}, format="json").status_code == 404
    assert client.post(f"/api/layouts/{foreign.id}/branch/", {"name": "x"}, format="json").status_code == 404
    foreign.refresh_from_db()
    assert foreign.revision == 0 and foreign.assets.count() == 4


@pytest.mark.parametrize("who", ROLES)
def test_editing_a_draft_needs_engineer(world, client_for, who):
    asset = world["draft"].assets.get(name="M1")
    response = client_for(world[who]).patch(f"/api/assets/{asset.id}/", {"x": 1.5, "version": asset.version}, format="json")
    assert response.status_code == (200 if who in EDITORS else 403)


@pytest.mark.parametrize("who", ROLES)
def test_branching_needs_engineer(world, client_for, who):
    response = client_for(world[who]).post(f"/api/layouts/{world['draft'].id}/branch/", {"name": "Try"}, format="json")
    assert response.status_code == (201 if who in EDITORS else 403)


@pytest.mark.parametrize("who", ROLES)
def test_approving_needs_manager(world, client_for, who):
    Layout.objects.filter(pk=world["draft"].pk).update(status=Layout.Status.IN_REVIEW)
    response = client_for(world[who]).post(f"/api/layouts/{world['draft'].id}/approve/")
    assert response.status_code == (200 if who in MANAGERS else 403)


@pytest.mark.parametrize("who", ROLES)
def test_managing_members_needs_owner(world, client_for, who):
    url = f"/api/factories/{world['plant'].id}/members/"
    client = client_for(world[who])
    assert client.get(url).status_code == 200
    response = client.post(url, {"username": "mallory", "role": "viewer"}, format="json")
    assert response.status_code == (201 if who in OWNERS else 403)


@pytest.mark.parametrize("who", ROLES)
def test_creating_factories_needs_staff(world, client_for, who):
    response = client_for(world[who]).post("/api/factories/", {"name": f"New {who}"}, format="json")
    assert response.status_code == (201 if who == "staff" else 403)


def test_my_role_is_reported_per_factory(world, client_for):
    for who, role in [("victor", "viewer"), ("alice", "engineer"), ("maggie", "manager"), ("olivia", "owner")]:
        row = client_for(world[who]).get("/api/factories/").json()["results"][0]
        assert row["my_role"] == role


def test_losing_membership_hides_the_factory(world, client_for):
    client_for(world["olivia"]).delete(f"/api/factories/{world['plant'].id}/members/bob/")
    assert client_for(world["bob"]).get(f"/api/layouts/{world['draft'].id}/").status_code == 404
