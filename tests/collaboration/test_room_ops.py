"""Edits in the room: the same services as REST, `applied` in seq order to everyone, `rejected` with the reason."""
import json

import pytest
from channels.db import database_sync_to_async

from twins.models import Asset, Layout
from twins.representations import asset_repr

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def first_machine(layout):
    return Asset.objects.filter(layout=layout, name="M1").get()


@database_sync_to_async
def db_asset(asset_id):
    return Asset.objects.filter(pk=asset_id).first()


async def test_op_is_applied_to_everyone_with_its_id_and_new_version(people, draft, connect):
    asset = await first_machine(draft)
    alice, bob = await connect(people["alice"], draft), await connect(people["bob"], draft)
    await alice.send({"type": "op", "id": "a-1", "kind": "asset.update", "asset": asset.id, "version": asset.version, "changes": {"x": 7.5}})
    for socket in (alice, bob):
        frame = await socket.expect("applied")
        assert frame["id"] == "a-1" and frame["by"] == people["alice"].id and frame["kind"] == "asset.update"
        assert frame["seq"] == alice.welcome["seq"] + 1
        assert frame["object"]["x"] == 7.5 and frame["object"]["version"] == asset.version + 1
    assert (await db_asset(asset.id)).x == 7.5


async def test_stale_version_is_rejected_with_current_state(people, draft, connect):
    asset = await first_machine(draft)
    alice = await connect(people["alice"], draft)
    await alice.send({"type": "op", "id": 1, "kind": "asset.update", "asset": asset.id, "version": asset.version, "changes": {"x": 1}})
    await alice.expect("applied")
    await alice.send({"type": "op", "id": 2, "kind": "asset.update", "asset": asset.id, "version": asset.version, "changes": {"x": 2}})
    frame = await alice.expect("rejected")
    assert frame["id"] == 2 and frame["code"] == "conflict"
    assert frame["current"]["x"] == 1 and frame["current"]["version"] == asset.version + 1
    assert (await db_asset(asset.id)).x == 1


async def test_viewer_edit_is_rejected_forbidden_and_changes_nothing(people, draft, connect):
    asset = await first_machine(draft)
    victor = await connect(people["victor"], draft)
    await victor.send({"type": "op", "id": "v", "kind": "asset.delete", "asset": asset.id, "version": asset.version})
    frame = await victor.expect("rejected")
    assert frame["code"] == "forbidden" and frame["id"] == "v"
    assert await db_asset(asset.id) is not None
    await victor.nothing("applied")


async def test_asset_locked_by_someone_else_rejects_their_edit(people, draft, connect):
    asset = await first_machine(draft)
    alice, bob = await connect(people["alice"], draft), await connect(people["bob"], draft)
    await alice.send({"type": "lock", "asset": asset.id})
    frame = await bob.expect("locks", where=lambda f: f["locks"])
    assert frame["locks"] == {str(asset.id): people["alice"].id}
    await bob.send({"type": "op", "id": "b", "kind": "asset.update", "asset": asset.id, "version": asset.version, "changes": {"x": 3}})
    assert (await bob.expect("rejected"))["code"] == "locked"
    await bob.send({"type": "lock", "asset": asset.id})
    assert (await bob.expect("error"))["code"] == "locked"
    await alice.send({"type": "op", "id": "a", "kind": "asset.update", "asset": asset.id, "version": asset.version, "changes": {"x": 3}})
    assert (await alice.expect("applied"))["id"] == "a"
    await alice.send({"type": "unlock", "asset": asset.id})
    assert (await bob.expect("locks"))["locks"] == {}


async def test_lock_dies_with_its_holders_socket(people, draft, connect):
    asset = await first_machine(draft)
    alice, bob = await connect(people["alice"], draft), await connect(people["bob"], draft)
    await alice.send({"type": "lock", "asset": asset.id})
    await bob.expect("locks", where=lambda f: f["locks"])
    await alice.close()
    assert (await bob.expect("locks"))["locks"] == {}
    await bob.send({"type": "op", "id": "b", "kind": "asset.update", "asset": asset.id, "version": asset.version, "changes": {"x": 4}})
    assert (await bob.expect("applied"))["id"] == "b"


async def test_viewer_cannot_lock(people, draft, connect):
    asset = await first_machine(draft)
    victor = await connect(people["victor"], draft)
    await victor.send({"type": "lock", "asset": asset.id})
    assert (await victor.expect("error"))["code"] == "forbidden"


async def test_create_and_delete_assets_and_connections(people, draft, connect):
    alice = await connect(people["alice"], draft)
    asset = await first_machine(draft)
    await alice.send({"type": "op", "id": "c1", "kind": "asset.create", "data": {"asset_type": asset.asset_type_id, "x": 1, "z": 2}})
    created = (await alice.expect("applied"))["object"]
    await alice.send({"type": "op", "id": "c2", "kind": "connection.create", "data": {"source": asset.id, "target": created["id"]}})
    conn = (await alice.expect("applied"))["object"]
    assert conn["source"] == asset.id and conn["target"] == created["id"]
    await alice.send({"type": "op", "id": "d1", "kind": "connection.delete", "connection": conn["id"]})
    assert (await alice.expect("applied"))["object"] == {"id": conn["id"], "deleted": True}
    await alice.send({"type": "op", "id": "d2", "kind": "asset.delete", "asset": created["id"], "version": created["version"]})
    frame = await alice.expect("applied")
    assert frame["kind"] == "asset.delete" and frame["object"] == {"id": created["id"], "deleted": True}


async def test_op_on_an_asset_of_another_layout_is_not_found(people, draft, connect):
    from tests.builders import make_layout

    other = await database_sync_to_async(make_layout)(factory=people["other"], assets=1)
    foreign = await first_machine(other)
    alice = await connect(people["alice"], draft)
    await alice.send({"type": "op", "id": "x", "kind": "asset.update", "asset": foreign.id, "version": 1, "changes": {"x": 0}})
    assert (await alice.expect("rejected"))["code"] == "not_found"
    assert (await db_asset(foreign.id)).x == foreign.x


async def test_rest_edit_reaches_the_room_as_the_same_applied_frame(people, draft, connect, client_for):
    asset = await first_machine(draft)
    alice, bob = await connect(people["alice"], draft), await connect(people["bob"], draft)
    client = client_for(people["maggie"])
    response = await database_sync_to_async(client.patch)(f"/api/assets/{asset.id}/", {"x": 9.25, "version": asset.version}, format="json")
    assert response.status_code == 200, response.content
    texts = []
    for socket in (alice, bob):
        await socket.expect("applied")
        texts.append(socket.raw[-1])
    assert texts[0] == texts[1]
    frame = json.loads(texts[0])
    assert frame["id"] is None and frame["by"] == people["maggie"].id
    assert frame["object"] == response.json() == asset_repr(await db_asset(asset.id))
    # A websocket edit produces the same shape: only `id`, `seq`, `by` and the state differ.
    await alice.send({"type": "op", "id": "w", "kind": "asset.update", "asset": asset.id, "version": asset.version + 1, "changes": {"x": 9.5}})
    ws_frame = await bob.expect("applied")
    assert list(ws_frame) == list(frame) and list(ws_frame["object"]) == list(frame["object"])


async def test_applied_events_arrive_in_seq_order_even_when_published_out_of_order(people, draft, connect, layer):
    from collaboration import redis_state

    alice = await connect(people["alice"], draft)
    base = alice.welcome["seq"]
    texts = {s: json.dumps({"type": "applied", "seq": s, "id": None, "by": None, "kind": "asset.update", "object": {"id": s}}) for s in (base + 1, base + 2, base + 3)}
    # seq+2 never reaches the group, only the log; seq+3 arrives before seq+1.
    await database_sync_to_async(redis_state.event_log_append)(draft.id, base + 2, texts[base + 2], 100)
    await layer.group_send(f"layout.{draft.id}", {"type": "room.applied", "seq": base + 3, "text": texts[base + 3]})
    await layer.group_send(f"layout.{draft.id}", {"type": "room.applied", "seq": base + 1, "text": texts[base + 1]})
    got = [(await alice.expect("applied"))["seq"] for _ in range(3)]
    assert got == [base + 1, base + 2, base + 3]


async def test_resync_replays_missed_events_from_the_log(people, draft, connect):
    asset = await first_machine(draft)
    alice = await connect(people["alice"], draft)
    start = alice.welcome["seq"]
    for i in range(3):
        await alice.send({"type": "op", "id": i, "kind": "asset.update", "asset": asset.id, "version": asset.version + i, "changes": {"x": i}})
        await alice.expect("applied")
    bob = await connect(people["bob"], draft)
    await bob.send({"type": "resync", "seq": start})
    replay = [await bob.expect("applied") for _ in range(3)]
    assert [f["seq"] for f in replay] == [start + 1, start + 2, start + 3]
    assert [f["id"] for f in replay] == [0, 1, 2]


async def test_resync_older_than_the_log_gets_a_snapshot(people, draft, connect):
    from collaboration import redis_state

    asset = await first_machine(draft)
    alice = await connect(people["alice"], draft)
    await alice.send({"type": "op", "id": 1, "kind": "asset.update", "asset": asset.id, "version": asset.version, "changes": {"x": 5}})
    await alice.expect("applied")
    await database_sync_to_async(redis_state.client().delete)(redis_state.event_log_key(draft.id))
    await alice.send({"type": "resync", "seq": 0})
    snapshot = await alice.expect("snapshot")
    layout = await database_sync_to_async(Layout.objects.get)(pk=draft.id)
    assert snapshot["seq"] == layout.revision
    assert {a["id"]: a["x"] for a in snapshot["assets"]}[asset.id] == 5
    assert len(snapshot["connections"]) == 4 and snapshot["layout"]["id"] == draft.id


async def test_a_catalogue_change_reaches_the_rooms_of_layouts_using_the_type(people, draft, connect):
    from twins.services.catalogue import asset_type_save

    alice = await connect(people["alice"], draft)
    machine_type = await database_sync_to_async(lambda: draft.assets.get(name="M1").asset_type)()
    await database_sync_to_async(asset_type_save)(by=people["staff"], asset_type=machine_type,
                                                  data={"defaults": {"cycle_time_s": 30.0, "cycle_cv": 0.0}})
    frame = await alice.expect("applied", where=lambda f: f["kind"] == "asset_type.update")
    assert frame["object"]["id"] == machine_type.id and frame["object"]["defaults"]["cycle_time_s"] == 30.0
    assert frame["seq"] == alice.welcome["seq"] + 1
