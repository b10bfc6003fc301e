"""Hostile or broken input: an error frame and an open socket, or a close for floods and huge frames."""
import asyncio

import pytest
from channels.db import database_sync_to_async

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("frame, code", [
    ("not json", "bad_json"),
    ("[1,2,3]", "invalid"),
    ('{"no_type": 1}', "unknown_type"),
    ('{"type": "teleport"}', "unknown_type"),
    ('{"type": ["pose"]}', "unknown_type"),
    ('{"type": {"a": 1}}', "unknown_type"),
    ('{"type": 5}', "unknown_type"),
    ('{"type": null}', "unknown_type"),
    ('{"type": true, "p": [0, 0, 0], "q": [0, 0, 0, 1]}', "unknown_type"),
    ('{"type": "op", "id": "x", "kind": "asset.explode"}', "invalid"),
    ('{"type": "op", "id": "x", "kind": "asset.update", "asset": "1", "version": 1, "changes": {}}', "invalid"),
    ('{"type": "op", "id": "' + "x" * 100 + '", "kind": "asset.delete", "asset": 1, "version": 1}', "invalid"),
    ('{"type": "resync", "seq": -1}', "invalid"),
    ('{"type": "lock"}', "invalid"),
    ('{"type": "ping", "extra": true}', "invalid"),
    ('{"type": "chat", "text": 5}', "invalid"),
    ('"' + "a" * 60000 + '"', "invalid"),
])
async def test_malformed_frame_gets_an_error_and_the_socket_stays_open(people, draft, connect, frame, code):
    alice = await connect(people["alice"], draft)
    await alice.send(frame)
    error = await alice.expect("error")
    assert error["code"] == code and error["message"]
    await alice.send({"type": "ping"})
    await alice.expect("pong")


@pytest.mark.parametrize("field, value", [
    ("name", '"Press \\ud800"'),
    ("twin_key", '"\\udfff"'),
    ("params", '{"output_type": "a\\ud83d"}'),
])
async def test_a_lone_utf16_surrogate_gets_an_error_and_changes_nothing(people, draft, connect, field, value):
    """`"\\ud800"` is JSON but not text: it could be neither stored (PostgreSQL refuses it) nor sent on."""
    from twins.models import Asset

    asset = await database_sync_to_async(lambda: Asset.objects.filter(layout=draft, name="M1").get())()
    alice, bob = await connect(people["alice"], draft), await connect(people["bob"], draft)
    await alice.send('{"type": "op", "id": "s", "kind": "asset.update", "asset": %d, "version": %d, "changes": {"%s": %s}}'
                     % (asset.id, asset.version, field, value))
    error = await alice.expect("error")
    assert error["code"] == "invalid" and "surrogate" in error["message"]
    await alice.send('{"type": "chat", "text": "\\udc00"}')
    assert (await alice.expect("error"))["code"] == "invalid"
    await alice.send('{"type": "chat", "text": "\\ud83d\\ude00 a pair is fine"}')
    assert (await bob.expect("chat"))["text"] == "\U0001f600 a pair is fine"
    await alice.send({"type": "ping"})
    await alice.expect("pong")
    fresh = await database_sync_to_async(Asset.objects.get)(pk=asset.id)
    assert (fresh.version, fresh.name, fresh.twin_key, fresh.params) == (asset.version, asset.name, asset.twin_key, asset.params)
    await bob.nothing("applied", wait=0.2)


async def test_chat_is_broadcast_and_limited_to_2000_characters(people, draft, connect):
    alice, bob = await connect(people["alice"], draft), await connect(people["bob"], draft)
    await alice.send({"type": "chat", "text": "hello"})
    frame = await bob.expect("chat")
    assert frame["text"] == "hello" and frame["from"]["username"] == "alice" and isinstance(frame["ts"], int)
    await alice.send({"type": "chat", "text": "x" * 2001})
    assert (await alice.expect("error"))["code"] == "invalid"
    await bob.nothing("chat", wait=0.2)
    await alice.send({"type": "chat", "text": "x" * 2000})
    assert len((await bob.expect("chat"))["text"]) == 2000


async def test_frame_over_64_kib_closes_with_4009(people, draft, connect):
    alice = await connect(people["alice"], draft)
    await alice.send('{"type":"chat","text":"' + "x" * (2 * 1024 * 1024) + '"}')
    assert (await alice.expect("__close__"))["code"] == 4009


async def test_flood_gets_rate_limited_then_closed_with_4008(people, draft, connect):
    alice, bob = await connect(people["alice"], draft), await connect(people["bob"], draft)
    for _ in range(1000):
        await alice.send({"type": "ping"})
    frames = []
    while True:
        frame = await alice.recv(3)
        frames.append(frame["type"])
        if frame["type"] == "__close__":
            assert frame["code"] == 4008
            break
    assert "error" in frames and frames.count("error") >= 1
    assert alice.seen[[f["type"] for f in alice.seen].index("error")]["code"] == "rate_limited"
    await bob.send({"type": "ping"})  # others are unaffected
    await bob.expect("pong")


async def test_pose_stream_at_10_hz_is_never_rate_limited(people, draft, connect):
    alice = await connect(people["alice"], draft)
    for i in range(60):
        await alice.send({"type": "pose", "p": [i, 0, 0], "q": [0, 0, 0, 1]})
        await alice.send({"type": "ping"}) if i % 10 == 0 else None
        await asyncio.sleep(0.01)
    await alice.nothing("error", wait=0.2)


async def test_too_many_sockets_for_one_user_are_refused(people, draft, connect, settings):
    from collaboration import consumers

    sockets = [await connect(people["alice"], draft) for _ in range(consumers.MAX_SOCKETS_PER_USER)]
    extra = await connect(people["alice"], draft, welcome=False)
    assert (await extra.expect("error"))["code"] == "too_many_sockets"
    assert (await extra.expect("__close__"))["code"] == 4008
    await sockets[0].close()
    again = await connect(people["alice"], draft)
    assert again.welcome["you"]["username"] == "alice"


async def test_logout_closes_the_users_sockets(people, draft, connect, client_for):
    alice, bob = await connect(people["alice"], draft), await connect(people["bob"], draft)
    client = client_for(people["alice"])
    response = await database_sync_to_async(client.post)("/api/auth/logout/")
    assert response.status_code == 200
    assert (await alice.expect("__close__"))["code"] == 4401
    await bob.send({"type": "ping"})
    await bob.expect("pong")


async def test_losing_membership_closes_the_socket(people, draft, connect):
    from collaboration import events
    from twins.models import Membership

    victor = await connect(people["victor"], draft)

    def remove():
        from django.db import transaction

        with transaction.atomic():
            Membership.objects.filter(user=people["victor"], factory=people["plant"]).delete()
            events.publish_access_revoked(user_id=people["victor"].id, factory_id=people["plant"].id)

    await database_sync_to_async(remove)()
    assert (await victor.expect("__close__"))["code"] == 4403


async def test_revocation_in_another_factory_leaves_the_socket_open(people, draft, connect, layer):
    alice = await connect(people["alice"], draft)
    await layer.group_send(f"user.{people['alice'].id}", {"type": "user.revoked", "user": people["alice"].id, "factory": people["other"].id})
    await alice.send({"type": "ping"})
    await alice.expect("pong")
