"""Soft locks live while their holder is active in the room — poses and edits count, keep-alive pings do
not — and die `ROOM_LOCK_TTL_S` after the holder goes quiet (CONTRACT.md §5). Real room code, real Redis;
the TTL is shortened to a few seconds so that the expiry can be watched."""
import asyncio
import time

import pytest
from channels.db import database_sync_to_async

from collaboration.room.hub import LOCK_WATCH_S
from twins.models import Asset

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

TTL_S = 3.0


@pytest.fixture(autouse=True)
def short_locks(settings):
    settings.ROOM_LOCK_TTL_S = TTL_S


@database_sync_to_async
def machine(layout):
    return Asset.objects.filter(layout=layout, name="M1").get()


async def locked_by(alice, bob, asset) -> None:
    await alice.send({"type": "lock", "asset": asset.id})
    frame = await bob.expect("locks", where=lambda f: f["locks"])
    assert frame["locks"] == {str(asset.id): alice.welcome["you"]["id"]}


async def dropped(socket, asset, since: int) -> list[dict]:
    """The `locks` frames this socket was sent after its `since`-th frame (all of them: the queue is read
    now) that no longer list the asset."""
    await socket.nothing("__none__", wait=0.2)
    return [f for f in socket.seen[since:] if f["type"] == "locks" and str(asset.id) not in f["locks"]]


async def expect_expiry(alice, bob, asset, quiet_since: float) -> None:
    """bob is told the lock is gone TTL_S after alice's last activity (give or take one watch beat)."""
    await bob.expect("locks", timeout=TTL_S + LOCK_WATCH_S + 3, where=lambda f: str(asset.id) not in f["locks"])
    quiet = time.monotonic() - quiet_since
    assert TTL_S - 0.2 <= quiet <= TTL_S + LOCK_WATCH_S + 1.0, quiet
    await bob.send({"type": "lock", "asset": asset.id})  # it is free: bob takes it
    frame = await alice.expect("locks", where=lambda f: f["locks"].get(str(asset.id)) == bob.welcome["you"]["id"])
    assert frame["locks"] == {str(asset.id): bob.welcome["you"]["id"]}


async def test_a_lock_lives_while_its_holder_moves_about_and_dies_after_they_stop(people, draft, connect):
    asset = await machine(draft)
    alice, bob = await connect(people["alice"], draft), await connect(people["bob"], draft)
    await locked_by(alice, bob, asset)
    since = len(bob.seen)
    for i in range(int(3 * TTL_S / 0.3)):  # three TTLs of nothing but camera moves
        await alice.send({"type": "pose", "p": [i * 0.1, 1.7, 4.0], "q": [0, 0, 0, 1]})
        quiet_since = time.monotonic()
        await asyncio.sleep(0.3)
    assert not await dropped(bob, asset, since)
    await bob.send({"type": "op", "id": "b", "kind": "asset.update", "asset": asset.id, "version": asset.version, "changes": {"x": 3}})
    assert (await bob.expect("rejected"))["code"] == "locked"
    await expect_expiry(alice, bob, asset, quiet_since)


async def test_a_lock_lives_while_its_holder_edits(people, draft, connect):
    asset = await machine(draft)
    alice, bob = await connect(people["alice"], draft), await connect(people["bob"], draft)
    await locked_by(alice, bob, asset)
    since = len(bob.seen)
    version = asset.version
    for i in range(int(3 * TTL_S)):  # an edit a second for three TTLs
        await alice.send({"type": "op", "id": f"a{i}", "kind": "asset.update", "asset": asset.id, "version": version, "changes": {"x": i}})
        quiet_since = time.monotonic()
        version = (await alice.expect("applied", where=lambda f, i=i: f["id"] == f"a{i}"))["object"]["version"]
        await asyncio.sleep(1.0)
    assert not await dropped(bob, asset, since)
    await expect_expiry(alice, bob, asset, quiet_since)


async def test_keep_alive_pings_do_not_keep_a_quiet_holders_lock(people, draft, connect):
    asset = await machine(draft)
    alice, bob = await connect(people["alice"], draft), await connect(people["bob"], draft)
    await locked_by(alice, bob, asset)
    quiet_since = time.monotonic()

    async def keep_alive():
        while True:
            await alice.send({"type": "ping"})
            await asyncio.sleep(0.5)

    pinging = asyncio.ensure_future(keep_alive())
    try:
        await expect_expiry(alice, bob, asset, quiet_since)
    finally:
        pinging.cancel()
    # alice is still in the room, but the asset is bob's now: her edit is refused, her unlock changes nothing.
    await alice.send({"type": "op", "id": "late", "kind": "asset.update", "asset": asset.id, "version": asset.version, "changes": {"x": 9}})
    assert (await alice.expect("rejected", where=lambda f: f["id"] == "late"))["code"] == "locked"
    await alice.send({"type": "unlock", "asset": asset.id})
    await asyncio.sleep(LOCK_WATCH_S + 0.5)
    await alice.send({"type": "op", "id": "later", "kind": "asset.update", "asset": asset.id, "version": asset.version, "changes": {"x": 9}})
    assert (await alice.expect("rejected", where=lambda f: f["id"] == "later"))["code"] == "locked"
    await bob.send({"type": "op", "id": "b", "kind": "asset.update", "asset": asset.id, "version": asset.version, "changes": {"x": 5}})
    assert (await bob.expect("applied", where=lambda f: f["id"] == "b"))["object"]["x"] == 5
