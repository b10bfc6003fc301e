"""The audit trail: every change path appends to the factory's hash chain; verification finds tampering."""
import io

import pytest
from django.core.management import call_command

from collaboration.audit import audit_append, audit_verify, entry_hash
from collaboration.models import AuditEntry
from tests.builders import make_layout
from twins.models import Factory, Layout

pytestmark = pytest.mark.django_db


def entries(factory, since=0):
    return list(AuditEntry.objects.filter(factory=factory, seq__gt=since).order_by("seq"))


def last_seq(factory):
    return AuditEntry.objects.filter(factory=factory).order_by("-seq").values_list("seq", flat=True).first() or 0


@pytest.fixture
def history(people, draft, client_for):
    """A factory with some history: an edit, a branch, a submit and a comment."""
    alice = client_for(people["alice"])
    m1 = draft.assets.get(name="M1")
    assert alice.patch(f"/api/assets/{m1.id}/", {"x": 5.0, "version": 1}, format="json").status_code == 200
    branch = alice.post(f"/api/layouts/{draft.id}/branch/", {"name": "B"}, format="json").json()
    assert alice.post(f"/api/layouts/{branch['id']}/submit/").status_code == 200
    assert alice.post("/api/comments/", {"layout": draft.id, "text": "note"}, format="json").status_code == 201
    return people["plant"]


def test_rest_asset_edit_is_audited(people, draft, client_for):
    m1 = draft.assets.get(name="M1")
    client_for(people["alice"]).patch(f"/api/assets/{m1.id}/", {"x": 5.0, "version": 1}, format="json")
    [entry] = entries(people["plant"])
    assert (entry.action, entry.actor, entry.object_type, entry.object_id, entry.layout_id_ref) == ("asset.update", "alice", "asset", str(m1.id), draft.id)
    assert entry.data["x"] == 5.0


def test_branch_submit_approve_reject_are_audited(people, draft, client_for):
    plant = people["plant"]
    old = make_layout(factory=plant, assets=1, status=Layout.Status.APPROVED)
    Factory.objects.filter(pk=plant.pk).update(baseline_layout=old)
    alice, maggie = client_for(people["alice"]), client_for(people["maggie"])
    branch = alice.post(f"/api/layouts/{draft.id}/branch/", {"name": "B"}, format="json").json()
    alice.post(f"/api/layouts/{branch['id']}/submit/")
    alice.post(f"/api/layouts/{draft.id}/submit/")
    maggie.post(f"/api/layouts/{branch['id']}/reject/", {"reason": "too slow"}, format="json")
    maggie.post(f"/api/layouts/{draft.id}/approve/")
    got = [(e.actor, e.action, e.layout_id_ref, e.data.get("transition") or e.data.get("status")) for e in entries(plant)]
    assert got == [
        ("alice", "layout.create", branch["id"], "draft"),
        ("alice", "layout.update", branch["id"], "submit"),
        ("alice", "layout.update", draft.id, "submit"),
        ("maggie", "layout.update", branch["id"], "reject"),
        ("maggie", "layout.update", old.id, "archived"),
        ("maggie", "layout.update", draft.id, "approve"),
    ]
    assert entries(plant)[0].data["branched_from"] == draft.id
    assert entries(plant)[3].data["reason"] == "too slow"
    assert entries(plant)[5].data["previous_baseline"] == old.id


def test_comment_changes_are_audited(people, draft, client_for):
    alice = client_for(people["alice"])
    comment = alice.post("/api/comments/", {"layout": draft.id, "text": "Hi @bob", "position": [1, 2, 3]}, format="json").json()
    alice.patch(f"/api/comments/{comment['id']}/", {"text": "Hello"}, format="json")
    client_for(people["bob"]).post(f"/api/comments/{comment['id']}/resolve/")
    client_for(people["bob"]).post(f"/api/comments/{comment['id']}/reopen/")
    alice.delete(f"/api/comments/{comment['id']}/")
    got = [(e.actor, e.action, e.object_id) for e in entries(people["plant"])]
    cid = str(comment["id"])
    assert got == [("alice", "comment.create", cid), ("alice", "comment.update", cid), ("bob", "comment.resolve", cid),
                   ("bob", "comment.reopen", cid), ("alice", "comment.delete", cid)]
    created, *_, deleted = entries(people["plant"])
    assert created.data["mentions"] == ["bob"] and created.data["position"] == [1.0, 2.0, 3.0]
    assert deleted.data["text"] == "Hello"


def test_member_changes_are_audited(people, client_for):
    olivia = client_for(people["olivia"])
    plant = people["plant"]
    assert olivia.post(f"/api/factories/{plant.id}/members/", {"username": "mallory", "role": "viewer"}, format="json").status_code == 201
    assert olivia.delete(f"/api/factories/{plant.id}/members/mallory/").status_code == 204
    got = [(e.actor, e.action, e.object_id, e.data.get("role")) for e in entries(plant)]
    assert got == [("olivia", "member.set", "mallory", "viewer"), ("olivia", "member.remove", "mallory", None)]


def test_members_read_the_trail_newest_first(people, history, client_for):
    body = client_for(people["victor"]).get(f"/api/audit/?factory={history.id}").json()
    assert body["count"] == last_seq(history) == 4
    assert [e["seq"] for e in body["results"]] == [4, 3, 2, 1]
    first = body["results"][-1]
    assert set(first) == {"seq", "factory", "ts", "actor", "action", "object_type", "object_id", "layout", "data", "prev_hash", "hash"}
    assert first["prev_hash"] == "0" * 64 and body["results"][-2]["prev_hash"] == first["hash"]
    ascending = client_for(people["victor"]).get(f"/api/audit/?factory={history.id}&order=asc&action=comment.").json()
    assert [e["action"] for e in ascending["results"]] == ["comment.create"]


def test_non_members_get_404_and_their_lists_stay_empty(people, history, client_for):
    mallory = client_for(people["mallory"])
    assert mallory.get(f"/api/audit/?factory={history.id}").status_code == 404
    assert mallory.get(f"/api/audit/verify/?factory={history.id}").status_code == 404
    assert mallory.get("/api/audit/").json()["count"] == 0
    assert client_for(people["staff"]).get(f"/api/audit/verify/?factory={history.id}").json()["ok"] is True


def test_verify_reports_an_intact_chain(people, history, client_for):
    body = client_for(people["victor"]).get(f"/api/audit/verify/?factory={history.id}").json()
    assert body == {"ok": True, "checked": 4, "first_bad": None}


def test_verify_needs_the_factory(people, client_for):
    assert client_for(people["victor"]).get("/api/audit/verify/").status_code == 400


def test_changed_data_of_a_past_entry_is_detected(people, history, client_for):
    AuditEntry.objects.filter(factory=history, seq=2).update(data={"forged": True})
    body = client_for(people["maggie"]).get(f"/api/audit/verify/?factory={history.id}").json()
    assert body == {"ok": False, "checked": 2, "first_bad": 2, "reason": "content", "message": body["message"]}


def test_changed_actor_is_detected(people, history):
    AuditEntry.objects.filter(factory=history, seq=3).update(actor="maggie")
    assert audit_verify(factory_id=history.id)["first_bad"] == 3


def test_forged_entry_with_a_recomputed_hash_breaks_the_next_link(people, history):
    entry = AuditEntry.objects.get(factory=history, seq=2)
    entry.data = {"forged": True}
    AuditEntry.objects.filter(pk=entry.pk).update(data=entry.data, hash=entry_hash(entry))
    result = audit_verify(factory_id=history.id)
    assert result == {"ok": False, "checked": 3, "first_bad": 3, "reason": "link", "message": result["message"]}


def test_deleted_entry_is_reported(people, history, client_for):
    AuditEntry.objects.filter(factory=history, seq=2).delete()
    body = client_for(people["olivia"]).get(f"/api/audit/verify/?factory={history.id}").json()
    assert body["ok"] is False and body["first_bad"] == 2


def test_tampering_in_one_factory_leaves_the_others_intact(people, history):
    audit_append(factory_id=people["other"].id, actor=people["mallory"], action="test.note", data={"n": 1})
    AuditEntry.objects.filter(factory=history, seq=1).update(object_id="999")
    assert audit_verify(factory_id=history.id)["first_bad"] == 1
    assert audit_verify(factory_id=people["other"].id) == {"ok": True, "checked": 1, "first_bad": None}


def test_numbers_survive_the_database_round_trip(people):
    data = {"big": 1e20, "huge_int": 10**18, "tiny": 1e-7, "x": 4.0, "third": 1 / 3, "neg": -0.0, "nested": [{"k": 0.1}, None, "s"]}
    audit_append(factory_id=people["plant"].id, actor="system", action="test.numbers", data=data)
    assert audit_verify(factory_id=people["plant"].id) == {"ok": True, "checked": 1, "first_bad": None}


def test_verify_audit_command_exit_codes(people, history):
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "plant: ok, 4 entries" in out.getvalue()
    AuditEntry.objects.filter(factory=history, seq=3).update(data={})
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_audit", stdout=out)
    assert exit_info.value.code == 1
    assert "plant: BROKEN at seq 3" in out.getvalue() and "other-plant: ok" in out.getvalue()
    out = io.StringIO()
    call_command("verify_audit", "--factory", "other-plant", stdout=out)
    assert "BROKEN" not in out.getvalue()
