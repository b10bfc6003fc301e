"""Two real daphne processes on one Redis and one database form one room."""
import asyncio
import json

import pytest
import websockets
from channels.db import database_sync_to_async
from rest_framework.authtoken.models import Token

from tests.collaboration.daphne import free_port, start_daphne, stop
from twins.models import Asset

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def two_servers(people):
    ports = [free_port(), free_port()]
    procs = [start_daphne(p) for p in ports]
    yield ports
    for proc in procs:
        stop(proc)


def token(user) -> str:
    return Token.objects.get_or_create(user=user)[0].key


async def join(port, layout_id, key):
    ws = await websockets.connect(f"ws://127.0.0.1:{port}/ws/layouts/{layout_id}/", origin=f"http://127.0.0.1:{port}",
                                  additional_headers={"Authorization": f"Token {key}"}, open_timeout=20)
    welcome = json.loads(await asyncio.wait_for(ws.recv(), 20))
    assert welcome["type"] == "welcome"
    return ws, welcome


async def expect(ws, kind, where=lambda f: True, timeout=10.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), max(0.01, deadline - loop.time())))
        if frame["type"] == kind and where(frame):
            return frame


async def test_poses_presence_and_applied_cross_processes(two_servers, people, draft):
    a_port, b_port = two_servers
    alice_key, bob_key = await database_sync_to_async(token)(people["alice"]), await database_sync_to_async(token)(people["bob"])
    asset = await database_sync_to_async(lambda: Asset.objects.filter(layout=draft, name="M1").get())()
    alice, _ = await join(a_port, draft.id, alice_key)
    bob, _ = await join(b_port, draft.id, bob_key)
    try:
        frame = await expect(alice, "presence", lambda f: len(f["members"]) == 2)
        assert {m["username"] for m in frame["members"]} == {"alice", "bob"}
        await alice.send(json.dumps({"type": "pose", "p": [1.5, 1.6, 2.5], "q": [0, 0, 0, 1]}))
        frame = await expect(bob, "poses", lambda f: str(people["alice"].id) in f["poses"])
        assert frame["poses"][str(people["alice"].id)]["p"] == [1.5, 1.6, 2.5]
        await bob.send(json.dumps({"type": "pose", "p": [3, 1.6, 4], "q": [0, 0, 0, 1]}))
        frame = await expect(alice, "poses", lambda f: str(people["bob"].id) in f["poses"])
        assert str(people["alice"].id) not in frame["poses"]
        await bob.send(json.dumps({"type": "op", "id": "b1", "kind": "asset.update", "asset": asset.id, "version": asset.version, "changes": {"x": 11}}))
        for ws in (alice, bob):
            applied = await expect(ws, "applied")
            assert applied["id"] == "b1" and applied["object"]["x"] == 11
        await bob.send(json.dumps({"type": "chat", "text": "across"}))
        assert (await expect(alice, "chat"))["text"] == "across"
        await bob.close()
        frame = await expect(alice, "presence", lambda f: len(f["members"]) == 1)
        assert frame["members"][0]["username"] == "alice"
    finally:
        await alice.close()
        await bob.close()
