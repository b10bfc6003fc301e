"""20 clients edit one layout at once, dropping and resyncing at random: everyone ends with the same state
as the REST scene and the database, and every acknowledged op is in it."""
import asyncio
import json
import random

import pytest
from channels.db import database_sync_to_async

from collaboration.room import state as room_state
from tests.builders import make_user
from tests.collaboration.conftest import HOST, ORIGIN, Socket, open_socket, token_header
from twins.models import Layout, Membership, Role
from twins.selectors import layout_scene

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def scene_of(layout_id, user):
    return layout_scene(layout=Layout.objects.select_related("factory").get(pk=layout_id), user=user)


class Client:
    def __init__(self, user, layout_id, rng):
        self.user, self.layout_id, self.rng = user, layout_id, rng
        self.assets, self.connections, self.seq = {}, {}, 0
        self.early: dict[int, dict] = {}
        self.acked: set = set()
        self.pending: set = set()
        self.socket = None
        self.reader = None

    def load(self, scene):
        self.assets = {a["id"]: a for a in scene["assets"]}
        self.connections = {c["id"]: c for c in scene["connections"]}
        self.seq = scene["seq"]

    def apply(self, frame):
        # Live events can overtake a resync's replay right after a reconnect: hold them until the gap fills.
        if frame["type"] == "snapshot":
            self.load(frame)
        elif frame["type"] == "applied" and frame["seq"] > self.seq:
            self.early[frame["seq"]] = frame
        while self.seq + 1 in self.early:
            self._apply(self.early.pop(self.seq + 1))
        for seq in [s for s in self.early if s <= self.seq]:
            del self.early[seq]
        if frame["type"] in ("applied", "rejected") and frame.get("id") in self.pending:
            self.pending.discard(frame["id"])
            if frame["type"] == "applied":
                self.acked.add(frame["id"])

    def _apply(self, frame):
        if True:
            self.seq = frame["seq"]
            obj, kind = frame["object"], frame["kind"]
            table = self.assets if kind.startswith("asset.") else self.connections
            if obj.get("deleted"):
                table.pop(obj["id"], None)
                if kind == "asset.delete":
                    self.connections = {k: c for k, c in self.connections.items() if obj["id"] not in (c["source"], c["target"])}
            else:
                table[obj["id"]] = obj

    async def connect(self):
        headers = [ORIGIN, HOST, await database_sync_to_async(token_header)(self.user)]
        communicator, ok = await open_socket(f"/ws/layouts/{self.layout_id}/", headers)
        assert ok
        self.socket = Socket(communicator)
        await self.socket.expect("welcome", timeout=10)
        if not self.assets:
            self.load(await database_sync_to_async(scene_of)(self.layout_id, self.user))
        await self.socket.send({"type": "resync", "seq": self.seq})
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self):
        while True:
            try:
                frame = await self.socket.recv(30)
            except (AssertionError, asyncio.TimeoutError, TimeoutError):
                return
            if frame["type"] == "__close__":
                return
            self.apply(frame)

    async def disconnect(self):
        self.reader.cancel()
        await self.socket.close()

    async def act(self, n):
        op_id = f"{self.user.username}-{n}"
        roll = self.rng.random()
        if roll < 0.1 or not self.assets:
            op = {"kind": "asset.create", "data": {"asset_type": next(iter(self.assets.values()))["asset_type"] if self.assets else self.type_id, "x": self.rng.uniform(0, 50), "z": 1}}
        elif roll < 0.15 and len(self.assets) > 3:
            asset = self.rng.choice(list(self.assets.values()))
            op = {"kind": "asset.delete", "asset": asset["id"], "version": asset["version"]}
        else:
            asset = self.rng.choice(list(self.assets.values()))
            op = {"kind": "asset.update", "asset": asset["id"], "version": asset["version"], "changes": {"x": round(self.rng.uniform(0, 50), 2)}}
        self.pending.add(op_id)
        await self.socket.send({"type": "op", "id": op_id, **op})


async def test_twenty_clients_converge(people, draft):
    rng = random.Random(4)

    def engineers():
        users = []
        for i in range(20):
            user = make_user(f"eng{i}")
            Membership.objects.get_or_create(user=user, factory=people["plant"], defaults={"role": Role.ENGINEER})
            users.append(user)
        return users

    users = await database_sync_to_async(engineers)()
    clients = [Client(u, draft.id, random.Random(rng.random())) for u in users]
    for client in clients:
        await client.connect()
        client.type_id = next(iter(client.assets.values()))["asset_type"]

    async def run(client):
        for n in range(8):
            await client.act(n)
            await asyncio.sleep(client.rng.uniform(0.0, 0.15))
            if client.rng.random() < 0.15:
                await client.disconnect()
                await asyncio.sleep(client.rng.uniform(0, 0.2))
                await client.connect()

    await asyncio.gather(*(run(c) for c in clients))
    final = await database_sync_to_async(scene_of)(draft.id, people["alice"])
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while any(c.seq < final["seq"] for c in clients) and loop.time() < deadline:
        await asyncio.sleep(0.1)
    for client in clients:
        assert client.seq == final["seq"], f"{client.user.username} at {client.seq}, server at {final['seq']}"
        assert client.assets == {a["id"]: a for a in final["assets"]}
        assert client.connections == {c["id"]: c for c in final["connections"]}
    # Every acknowledged op is in the layout's history, and the history is complete from the start.
    history = await room_state.events_since(draft.id, draft.revision)
    assert [seq for seq, _ in history] == list(range(draft.revision + 1, final["seq"] + 1))
    in_history = {json.loads(text)["id"] for _, text in history}
    acked = set().union(*(c.acked for c in clients))
    assert acked and acked <= in_history
    assert sum(len(c.acked) for c in clients) >= 20
    for client in clients:
        await client.disconnect()
