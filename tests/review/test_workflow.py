"""The review workflow by role through REST: submit, approve, reject, read-only states and branching."""
import pytest

from twins.models import Asset, Connection, Factory, Layout

pytestmark = pytest.mark.django_db


def post(client, url, data=None):
    return client.post(url, data or {}, format="json")


def move(client, asset, x=9.0):
    asset.refresh_from_db()
    return client.patch(f"/api/assets/{asset.id}/", {"x": x, "version": asset.version}, format="json")


@pytest.fixture
def in_review(people, draft, client_for):
    assert post(client_for(people["alice"]), f"/api/layouts/{draft.id}/submit/").status_code == 200
    return draft


def test_engineer_submits_a_draft_and_it_becomes_read_only(people, draft, client_for):
    alice = client_for(people["alice"])
    response = post(alice, f"/api/layouts/{draft.id}/submit/")
    assert response.status_code == 200 and response.json()["status"] == "in_review"
    machine = draft.assets.get(name="M1")
    denied = move(alice, machine)
    assert denied.status_code == 403 and "read-only" in denied.json()["detail"]
    assert Asset.objects.get(pk=machine.pk).x == 4.0
    assert alice.patch(f"/api/layouts/{draft.id}/", {"name": "Renamed"}, format="json").status_code == 403
    assert post(alice, "/api/connections/", {"layout": draft.id, "source": machine.id, "target": draft.assets.get(name="M3").id}).status_code == 403


def test_submitting_twice_is_refused(people, in_review, client_for):
    assert post(client_for(people["alice"]), f"/api/layouts/{in_review.id}/submit/").status_code == 403


def test_viewer_cannot_submit(people, draft, client_for):
    response = post(client_for(people["victor"]), f"/api/layouts/{draft.id}/submit/")
    assert response.status_code == 403
    assert Layout.objects.get(pk=draft.pk).status == "draft"


def test_engineer_cannot_approve_or_reject(people, in_review, client_for):
    bob = client_for(people["bob"])
    assert post(bob, f"/api/layouts/{in_review.id}/approve/").status_code == 403
    assert post(bob, f"/api/layouts/{in_review.id}/reject/", {"reason": "no"}).status_code == 403
    assert Layout.objects.get(pk=in_review.pk).status == "in_review"


def test_manager_cannot_approve_a_draft(people, draft, client_for):
    assert post(client_for(people["maggie"]), f"/api/layouts/{draft.id}/approve/").status_code == 403


def test_non_member_gets_404_for_every_transition(people, draft, in_review, client_for):
    mallory = client_for(people["mallory"])
    for verb in ("submit", "approve", "reject", "branch", "archive"):
        assert post(mallory, f"/api/layouts/{draft.id}/{verb}/", {"name": "x"}).status_code == 404


def test_manager_approves_and_the_previous_baseline_is_archived(people, in_review, client_for):
    from tests.builders import make_layout

    plant = people["plant"]
    old = make_layout(factory=plant, assets=2, line=True, status=Layout.Status.APPROVED, name="Old baseline")
    Factory.objects.filter(pk=plant.pk).update(baseline_layout=old)
    response = post(client_for(people["maggie"]), f"/api/layouts/{in_review.id}/approve/")
    assert response.status_code == 200 and response.json()["status"] == "approved"
    assert Factory.objects.get(pk=plant.pk).baseline_layout_id == in_review.id
    assert Layout.objects.get(pk=old.pk).status == "archived"
    factory = client_for(people["victor"]).get(f"/api/factories/{plant.id}/").json()
    assert factory["baseline_layout"] == in_review.id


def test_manager_rejects_with_a_reason(people, in_review, client_for):
    response = post(client_for(people["maggie"]), f"/api/layouts/{in_review.id}/reject/", {"reason": "Buffer B2 is too small."})
    assert response.status_code == 200
    assert response.json()["status"] == "rejected" and response.json()["reject_reason"] == "Buffer B2 is too small."
    assert client_for(people["alice"]).get(f"/api/layouts/{in_review.id}/").json()["reject_reason"] == "Buffer B2 is too small."


@pytest.mark.parametrize("verb", ["approve", "reject"])
def test_decided_layouts_are_read_only_for_everyone(people, in_review, client_for, verb):
    assert post(client_for(people["maggie"]), f"/api/layouts/{in_review.id}/{verb}/", {"reason": "r"}).status_code == 200
    machine = in_review.assets.get(name="M2")
    for name in ("alice", "maggie", "olivia", "staff"):
        response = move(client_for(people[name]), machine, x=20.0)
        assert response.status_code == 403, name
    asset_type = machine.asset_type_id
    assert post(client_for(people["olivia"]), "/api/assets/", {"layout": in_review.id, "asset_type": asset_type, "x": 1, "z": 1}).status_code == 403
    machine.refresh_from_db()
    assert client_for(people["olivia"]).delete(f"/api/assets/{machine.id}/", {"version": machine.version}, format="json").status_code == 403
    assert Asset.objects.get(pk=machine.pk).x == 8.0
    # A decision is final: it cannot be submitted or decided again.
    for again in ("submit", "approve", "reject"):
        assert post(client_for(people["olivia"]), f"/api/layouts/{in_review.id}/{again}/").status_code == 403


def test_branch_of_an_approved_layout_is_an_editable_draft_keeping_uids(people, in_review, client_for):
    assert post(client_for(people["maggie"]), f"/api/layouts/{in_review.id}/approve/").status_code == 200
    alice = client_for(people["alice"])
    response = post(alice, f"/api/layouts/{in_review.id}/branch/", {"name": "Scenario B"})
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "draft" and body["parent"] == in_review.id and body["created_by"] == "alice"
    branch = Layout.objects.get(pk=body["id"])
    assert sorted(map(str, branch.assets.values_list("uid", flat=True))) == sorted(map(str, in_review.assets.values_list("uid", flat=True)))
    assert Connection.objects.filter(layout=branch).count() == Connection.objects.filter(layout=in_review).count() == 4
    copy = branch.assets.get(name="M1")
    assert move(alice, copy, x=11.0).status_code == 200
    assert Asset.objects.get(layout=in_review, uid=copy.uid).x == 4.0


def test_viewer_cannot_branch(people, draft, client_for):
    assert post(client_for(people["victor"]), f"/api/layouts/{draft.id}/branch/", {"name": "Mine"}).status_code == 403


def test_rejected_scenario_can_be_archived_by_a_manager_only(people, in_review, client_for):
    post(client_for(people["maggie"]), f"/api/layouts/{in_review.id}/reject/", {"reason": "r"})
    assert post(client_for(people["alice"]), f"/api/layouts/{in_review.id}/archive/").status_code == 403
    response = post(client_for(people["maggie"]), f"/api/layouts/{in_review.id}/archive/")
    assert response.status_code == 200 and response.json()["status"] == "archived"
