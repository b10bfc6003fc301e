"""`/api/comments/`: pinned threads, camera, mentions, resolve/reopen, permissions, validation, live events."""
import pytest

from collaboration.models import Comment
from tests.builders import make_layout

pytestmark = pytest.mark.django_db

CAMERA = {"p": [10.0, 8.0, 12.0], "q": [0.0, 0.38, 0.0, 0.92]}


def create(client, layout, **data):
    return client.post("/api/comments/", {"layout": layout.id, **data}, format="json")


@pytest.fixture
def thread(people, draft, client_for):
    response = create(client_for(people["alice"]), draft, text="Is M2 the bottleneck?", asset=draft.assets.get(name="M2").id, camera=CAMERA)
    assert response.status_code == 201
    return response.json()


def test_viewer_comments_on_an_asset_with_the_camera(people, draft, client_for):
    m1 = draft.assets.get(name="M1")
    response = create(client_for(people["victor"]), draft, text="  Too close to the wall  ", asset=m1.id, camera=CAMERA)
    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("layout", "author", "text", "asset", "position", "camera", "resolved", "parent", "mentions")} == {
        "layout": draft.id, "author": "victor", "text": "Too close to the wall", "asset": m1.id, "position": None,
        "camera": CAMERA, "resolved": False, "parent": None, "mentions": []}
    assert body["created_at"] and body["updated_at"] and body["author_id"] == people["victor"].id
    assert client_for(people["maggie"]).get(f"/api/comments/{body['id']}/").json() == body


def test_comment_pinned_to_a_point(people, draft, client_for):
    response = create(client_for(people["bob"]), draft, text="Put a buffer here", position=[6, 0.5, -2.25])
    assert response.status_code == 201
    assert response.json()["position"] == [6.0, 0.5, -2.25] and response.json()["asset"] is None


def test_mentions_list_only_members(people, draft, client_for):
    text = "@bob and @maggie. Could you check? cc @mallory @nobody email@bob"
    body = create(client_for(people["alice"]), draft, text=text).json()
    assert body["mentions"] == ["bob", "maggie"]


def test_list_by_layout_is_paginated_and_filters(people, draft, thread, client_for):
    other = make_layout(factory=people["plant"], assets=1)
    create(client_for(people["bob"]), other, text="Elsewhere")
    reply = create(client_for(people["bob"]), draft, text="Yes, @alice", parent=thread["id"]).json()
    listing = client_for(people["victor"]).get(f"/api/comments/?layout={draft.id}").json()
    assert listing["count"] == 2 and [c["id"] for c in listing["results"]] == [thread["id"], reply["id"]]
    assert listing["results"][1]["mentions"] == ["alice"] and listing["results"][1]["parent"] == thread["id"]
    assert client_for(people["victor"]).get(f"/api/comments/?layout={draft.id}&parent={thread['id']}").json()["count"] == 1


def test_reply_to_a_reply_joins_the_thread_root(people, draft, thread, client_for):
    reply = create(client_for(people["bob"]), draft, text="first", parent=thread["id"]).json()
    nested = create(client_for(people["victor"]), draft, text="second", parent=reply["id"]).json()
    assert nested["parent"] == thread["id"]


def test_author_edits_own_comment_and_mentions_follow(people, draft, thread, client_for):
    alice = client_for(people["alice"])
    response = alice.patch(f"/api/comments/{thread['id']}/", {"text": "M2 or M3, @bob?", "asset": None, "position": [1, 2, 3]}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["text"] == "M2 or M3, @bob?" and body["mentions"] == ["bob"] and body["asset"] is None and body["position"] == [1.0, 2.0, 3.0]
    assert body["updated_at"] > body["created_at"]


def test_an_empty_edit_changes_nothing_and_is_not_audited(people, draft, thread, client_for):
    from collaboration.models import AuditEntry

    before = AuditEntry.objects.count()
    response = client_for(people["alice"]).patch(f"/api/comments/{thread['id']}/", {}, format="json")
    assert response.status_code == 200 and response.json() == thread
    assert AuditEntry.objects.count() == before


def test_others_cannot_edit_a_comment(people, draft, thread, client_for):
    for name in ("bob", "maggie", "olivia"):
        assert client_for(people[name]).patch(f"/api/comments/{thread['id']}/", {"text": "hijacked"}, format="json").status_code == 403
    assert Comment.objects.get(pk=thread["id"]).text == "Is M2 the bottleneck?"


def test_resolve_and_reopen_by_engineer(people, draft, thread, client_for):
    bob = client_for(people["bob"])
    resolved = bob.post(f"/api/comments/{thread['id']}/resolve/")
    assert resolved.status_code == 200 and resolved.json()["resolved"] is True
    assert client_for(people["victor"]).get(f"/api/comments/?layout={draft.id}&resolved=0").json()["count"] == 0
    reopened = bob.post(f"/api/comments/{thread['id']}/reopen/")
    assert reopened.status_code == 200 and reopened.json()["resolved"] is False


def test_viewer_resolves_only_own_comments(people, draft, thread, client_for):
    victor = client_for(people["victor"])
    assert victor.post(f"/api/comments/{thread['id']}/resolve/").status_code == 403
    assert victor.patch(f"/api/comments/{thread['id']}/", {"resolved": True}, format="json").status_code == 403
    own = create(victor, draft, text="mine").json()
    assert victor.patch(f"/api/comments/{own['id']}/", {"resolved": True}, format="json").json()["resolved"] is True
    assert Comment.objects.get(pk=thread["id"]).resolved is False


def test_delete_by_author_or_manager_only(people, draft, thread, client_for):
    reply = create(client_for(people["bob"]), draft, text="reply", parent=thread["id"]).json()
    assert client_for(people["bob"]).delete(f"/api/comments/{thread['id']}/").status_code == 403
    assert client_for(people["victor"]).delete(f"/api/comments/{reply['id']}/").status_code == 403
    assert client_for(people["bob"]).delete(f"/api/comments/{reply['id']}/").status_code == 204
    other = create(client_for(people["victor"]), draft, text="spam").json()
    assert client_for(people["maggie"]).delete(f"/api/comments/{other['id']}/").status_code == 204
    assert client_for(people["alice"]).delete(f"/api/comments/{thread['id']}/").status_code == 204
    assert not Comment.objects.filter(layout=draft).exists()


def test_comments_are_allowed_on_read_only_layouts(people, draft, client_for):
    client_for(people["alice"]).post(f"/api/layouts/{draft.id}/submit/")
    assert create(client_for(people["maggie"]), draft, text="Looks good").status_code == 201


def test_non_member_gets_404_and_lists_never_leak(people, draft, thread, client_for):
    mallory = client_for(people["mallory"])
    assert mallory.get(f"/api/comments/{thread['id']}/").status_code == 404
    assert mallory.patch(f"/api/comments/{thread['id']}/", {"text": "x"}, format="json").status_code == 404
    assert mallory.delete(f"/api/comments/{thread['id']}/").status_code == 404
    assert mallory.post(f"/api/comments/{thread['id']}/resolve/").status_code == 404
    assert create(mallory, draft, text="hello").status_code == 404
    assert mallory.get(f"/api/comments/?layout={draft.id}").json()["count"] == 0
    assert mallory.get("/api/comments/").json()["count"] == 0
    assert client_for(people["staff"]).get(f"/api/comments/{thread['id']}/").status_code == 200


@pytest.mark.parametrize("data, field", [
    ({"text": "x" * 4001}, "text"),
    ({"text": "   "}, "text"),
    ({}, "text"),
    ({"text": "ok", "position": [1, 2]}, "position"),
    ({"text": "ok", "position": ["1", 2, 3]}, "position"),
    ({"text": "ok", "position": [True, 2, 3]}, "position"),
    ({"text": "ok", "position": [1e300, 2, 3]}, "position"),
    ({"text": "ok", "camera": {"p": [1, 2, 3]}}, "camera"),
    ({"text": "ok", "camera": {"p": [1, 2, 3], "q": [0, 0, 0, 0]}}, "camera"),
    ({"text": "ok", "camera": {"p": [1, 2, 3], "q": [0, 0, 1]}}, "camera"),
    ({"text": "ok", "camera": [1, 2, 3]}, "camera"),
    ({"text": "ok", "asset": "M1"}, "asset"),
    ({"text": "ok", "resolved": True}, "resolved"),
])
def test_invalid_comments_are_rejected_with_field_errors(people, draft, client_for, data, field):
    response = create(client_for(people["alice"]), draft, **data)
    assert response.status_code == 400
    assert field in response.json() and response.json()["detail"]
    assert not Comment.objects.exists()


def test_text_of_exactly_4000_characters_is_accepted(people, draft, client_for):
    assert create(client_for(people["alice"]), draft, text="x" * 4000).status_code == 201


def test_non_finite_position_is_rejected(people, draft, client_for):
    response = client_for(people["alice"]).post("/api/comments/", f'{{"layout": {draft.id}, "text": "x", "position": [NaN, 0, 0]}}',
                                                content_type="application/json")
    assert response.status_code == 400


def test_asset_and_parent_must_be_in_the_same_layout(people, draft, client_for):
    other = make_layout(factory=people["plant"], assets=1)
    foreign_asset = other.assets.first()
    foreign_parent = create(client_for(people["alice"]), other, text="there").json()
    alice = client_for(people["alice"])
    assert "asset" in create(alice, draft, text="x", asset=foreign_asset.id).json()
    assert "parent" in create(alice, draft, text="x", parent=foreign_parent["id"]).json()
    assert create(alice, draft, text="x", asset=999999).status_code == 400


def test_every_comment_change_is_published_to_the_room(people, draft, client_for, room, django_capture_on_commit_callbacks):
    listener = room(draft.id)
    alice = client_for(people["alice"])
    with django_capture_on_commit_callbacks(execute=True):
        created = create(alice, draft, text="Live, @bob", position=[1, 0, 1]).json()
    event = listener.next_event()
    assert event["_message_type"] == "room.event"
    assert event["type"] == "comment" and event["action"] == "created"
    assert event["comment"] == created
    with django_capture_on_commit_callbacks(execute=True):
        alice.patch(f"/api/comments/{created['id']}/", {"text": "Edited"}, format="json")
    event = listener.next_event()
    assert (event["action"], event["comment"]["text"], event["comment"]["mentions"]) == ("updated", "Edited", [])
    with django_capture_on_commit_callbacks(execute=True):
        client_for(people["bob"]).post(f"/api/comments/{created['id']}/resolve/")
    event = listener.next_event()
    assert (event["action"], event["comment"]["resolved"]) == ("resolved", True)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(people["bob"]).post(f"/api/comments/{created['id']}/reopen/")
    event = listener.next_event()
    assert (event["action"], event["comment"]["resolved"]) == ("updated", False)
    with django_capture_on_commit_callbacks(execute=True):
        alice.delete(f"/api/comments/{created['id']}/")
    event = listener.next_event()
    assert event["action"] == "deleted" and event["comment"] == {
        "id": created["id"], "layout": draft.id, "parent": None, "asset": None, "deleted": True, "replies": []}
