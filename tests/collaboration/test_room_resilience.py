"""Failures of the parts under the room, on real daphne processes and a real Redis: a client that stops
reading, a Redis restart, an ASGI process killed under its clients (RELIABILITY.md, "Faults")."""
import asyncio
import json
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import websockets
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from rest_framework.authtoken.models import Token

from collaboration import events
from tests.collaboration.daphne import ROOT, free_port, start_daphne, stop
from twins.models import Asset, Layout
from twins.selectors import layout_scene

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

FINAL_CLOSES = {4401, 4403, 4404}  # frontend/src/network/protocol.js: reconnecting cannot help


def token(user) -> str:
    return Token.objects.get_or_create(user=user)[0].key


def scene_assets(layout_id: int, user) -> dict[int, dict]:
    scene = layout_scene(layout=Layout.objects.select_related("factory").get(pk=layout_id), user=user)
    return {a["id"]: a for a in scene["assets"]}


async def wait_until(check, timeout: float, what: str):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)


class Browser:
    """A room client that does what frontend/src/network/Socket.js does: it starts from the REST scene; after a
    close it can recover from it reconnects with backoff (to the next of `ports`, as a load balancer would
    once a server is gone); a welcome ahead of its last `seq` gets `resync {seq}`; `applied` frames are
    applied in `seq` order, and live ones that overtake the resync's replay wait until the ones before them
    are in.

    `slow_uplink`: a resync reaches the server only after a live event has gone out to this socket (a slow
    uplink, made certain): the moment at which the replay and the live stream cross."""

    def __init__(self, user, key: str, layout_id: int, ports: list[int], *, slow_uplink: bool = False):
        self.user, self.key, self.layout_id, self.ports, self.slow_uplink = user, key, layout_id, ports, slow_uplink
        self.port_index = 0
        self.seq = 0
        self.assets: dict[int, dict] = {}
        self.early: dict[int, dict] = {}
        self.await_seq = None
        self.resync_due = False
        self.received: list[int] = []   # seq of every `applied` frame, in arrival order
        self.applied: list[int] = []    # seq of every event applied to the state, in order
        self.snapshots = 0
        self.welcomes = 0
        self.closes: list[int] = []
        self.online = False
        self.ws = None
        self.acks: dict[str, asyncio.Future] = {}
        self.task = None

    async def start(self) -> None:
        scene = await database_sync_to_async(layout_scene)(
            layout=await database_sync_to_async(Layout.objects.select_related("factory").get)(pk=self.layout_id), user=self.user)
        self.assets = {a["id"]: a for a in scene["assets"]}
        self.seq = scene["seq"]
        self.task = asyncio.ensure_future(self._run())
        await wait_until(lambda: self.online, 20, f"{self.user.username}'s first welcome")

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        if self.ws is not None:
            await self.ws.close()

    # --- connection ---------------------------------------------------------------------------------------
    async def _run(self):
        attempt = 0
        while True:
            welcomes = self.welcomes
            code = await self._session(self.ports[self.port_index % len(self.ports)])
            self.online = False
            self.closes.append(code)
            if code in FINAL_CLOSES:
                return
            attempt = 1 if self.welcomes > welcomes else attempt + 1
            self.port_index += 1
            await asyncio.sleep(min(4.0, 0.25 * 2 ** (attempt - 1)))

    async def _session(self, port: int) -> int:
        try:
            self.ws = await websockets.connect(
                f"ws://127.0.0.1:{port}/ws/layouts/{self.layout_id}/", origin=f"http://127.0.0.1:{port}",
                additional_headers={"Authorization": f"Token {self.key}"}, open_timeout=10, ping_interval=None)
        except (OSError, TimeoutError, websockets.InvalidHandshake):
            return 1006
        try:
            async for text in self.ws:
                await self._handle(json.loads(text))
            return self.ws.close_code
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else 1006

    async def _resync(self) -> None:
        self.resync_due = False
        await self.ws.send(json.dumps({"type": "resync", "seq": self.seq}))

    # --- incoming -----------------------------------------------------------------------------------------
    async def _handle(self, frame: dict) -> None:
        kind = frame["type"]
        if kind == "welcome":
            self.welcomes += 1
            self.early.clear()
            if frame["seq"] > self.seq:
                self.await_seq = frame["seq"]
                self.resync_due = True
                if not self.slow_uplink:
                    await self._resync()
            else:
                self.online = True
        elif kind == "applied":
            self.received.append(frame["seq"])
            if self.resync_due and frame["seq"] > self.await_seq:
                await self._resync()
            if self.await_seq is not None and frame["seq"] > self.seq + 1:
                self.early[frame["seq"]] = frame
            else:
                self._apply(frame)
            self._drain()
        elif kind == "snapshot":
            self.snapshots += 1
            self.assets = {a["id"]: a for a in frame["assets"]}
            self.seq = max(self.seq, frame["seq"])
            self._drain()
            if self.await_seq is not None:
                self._caught_up()

    def _apply(self, frame: dict) -> None:
        if frame["seq"] <= self.seq:
            return
        self.seq = frame["seq"]
        self.applied.append(frame["seq"])
        obj = frame["object"]
        if frame["kind"].startswith("asset."):
            if obj.get("deleted"):
                self.assets.pop(obj["id"], None)
            else:
                self.assets[obj["id"]] = obj
        ack = self.acks.pop(frame.get("id"), None)
        if ack is not None and not ack.done():
            ack.set_result(obj)

    def _drain(self) -> None:
        while self.seq + 1 in self.early:
            self._apply(self.early.pop(self.seq + 1))
        for seq in [s for s in self.early if s <= self.seq]:
            del self.early[seq]
        if self.await_seq is not None and self.seq >= self.await_seq:
            self._caught_up()

    def _caught_up(self) -> None:
        self.await_seq = None
        for seq in sorted(self.early):
            self._apply(self.early.pop(seq))
        self.online = True

    # --- edits --------------------------------------------------------------------------------------------
    async def move(self, asset_id: int, x: float, timeout: float = 10.0) -> dict:
        """Move an asset over the socket and wait for its `applied` to come back."""
        op_id = f"{self.user.username}-{time.monotonic_ns()}"
        self.acks[op_id] = asyncio.get_running_loop().create_future()
        version = self.assets[asset_id]["version"]
        await self.ws.send(json.dumps({"type": "op", "id": op_id, "kind": "asset.update", "asset": asset_id, "version": version, "changes": {"x": x}}))
        return await asyncio.wait_for(self.acks[op_id], timeout)


async def browser(people, keys, name, layout_id, ports, **kwargs) -> Browser:
    client = Browser(people[name], keys[name], layout_id, ports, **kwargs)
    await client.start()
    return client


@pytest.fixture
def keys(people):
    return {name: token(people[name]) for name in ("alice", "bob", "victor")}


@pytest.fixture
def m1(draft):
    return Asset.objects.get(layout=draft, name="M1").id


# --- 1. a client that stops reading ------------------------------------------------------------------------
BACKLOG_LIMIT = 256 * 1024


def paused_socket(port: int) -> socket.socket:
    """A connected socket with a small receive buffer, so that a client that stops reading soon stops the
    server's kernel from sending too (a large autotuned buffer would absorb megabytes)."""
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", port))
    raw.setblocking(False)
    return raw


async def test_a_client_that_stops_reading_is_closed_with_4500_and_the_others_keep_receiving(people, draft, keys):
    port = free_port()
    proc = start_daphne(port, extra_env={"METAVERSE_WS_MAX_BACKLOG_BYTES": str(BACKLOG_LIMIT)})
    sockets = []
    try:
        url = f"ws://127.0.0.1:{port}/ws/layouts/{draft.id}/"

        async def join(name, **kwargs):
            ws = await websockets.connect(url, origin=f"http://127.0.0.1:{port}", additional_headers={"Authorization": f"Token {keys[name]}"},
                                          open_timeout=20, ping_interval=None, **kwargs)
            sockets.append(ws)
            assert json.loads(await asyncio.wait_for(ws.recv(), 20))["type"] == "welcome"
            return ws

        # max_queue=1: once one frame waits unread, websockets stops reading the socket (TCP backpressure).
        alice = await join("alice", sock=paused_socket(port), max_queue=1)    # stops reading, later resumes
        await join("victor", sock=paused_socket(port), max_queue=1)  # never reads again
        bob = await join("bob", max_size=None)

        # The room keeps sending: server events for the factory (telemetry's twin.changed), 22 KB each, ~8 MB
        # in all: well past the limit plus what the kernels' socket buffers absorb (about 2 MB here).
        count = 350
        frames = [json.dumps({"type": "twin.changed", "updates": [{"twin": i, "key": f"t{i}", "status": "ok", "values": {"v": float(j)}, "ts": i} for j in range(300)]})
                  for i in range(count)]

        async def read_all(ws) -> list[int]:
            got = []
            while len(got) < count:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 20))
                if frame["type"] == "twin.changed":
                    got.append(frame["updates"][0]["ts"])
            return got

        bob_reads = asyncio.ensure_future(read_all(bob))
        layer = get_channel_layer()
        for text in frames:
            await layer.group_send(events.factory_group(people["plant"].id), {"type": "room.event", "text": text})
        assert await bob_reads == list(range(count)), "the reading client lost or reordered frames"

        # alice reads again: what the server had sent her before it gave up on her, in order, then the close.
        got, close = [], None
        try:
            while len(got) < count:
                frame = json.loads(await asyncio.wait_for(alice.recv(), 10))
                if frame["type"] == "twin.changed":
                    got.append(frame["updates"][0]["ts"])
        except websockets.ConnectionClosed as closed:
            close = closed.rcvd
        assert close is not None and close.code == 4500, f"alice read {len(got)} of {count} frames, then {close or 'no close frame'}: not cut off with 4500"
        assert got == list(range(len(got))), "what alice was sent before the cut-off is not the stream's beginning"

        # victor never reads: his connection is dropped after the grace and he leaves the room; bob stays.
        async def members(ws):
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 20))
                if frame["type"] == "presence":
                    return {m["username"] for m in frame["members"]}

        deadline = time.monotonic() + 20
        while (present := await members(bob)) != {"bob"}:
            assert time.monotonic() < deadline, f"still in the room: {present}"
        await bob.send(json.dumps({"type": "ping"}))
        while json.loads(await asyncio.wait_for(bob.recv(), 10))["type"] != "pong":
            pass
    finally:
        for ws in sockets:
            ws.transport.abort()
        stop(proc)


# --- 2. Redis restarts under a room ------------------------------------------------------------------------
class PrivateRedis:
    """A redis-server of the test's own (never the shared one): it can be killed and started again on its port."""

    def __init__(self, workdir: Path):
        self.bin = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(self.bin).exists():
            pytest.fail("redis-server not found: install Debian's redis-server (scripts/redis.sh needs it too).")
        self.dir = workdir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.bin, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(self.dir)],
            cwd=ROOT, stdout=open(self.dir / "redis.log", "ab"), stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start; see {self.dir / 'redis.log'}")

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def private_redis(tmp_path):
    redis = PrivateRedis(tmp_path)
    redis.start()
    yield redis
    if redis.proc.poll() is None:
        redis.kill()


async def test_after_a_redis_restart_the_clients_reconnect_and_edits_reach_everyone(people, draft, keys, m1, private_redis):
    port = free_port()
    proc = start_daphne(port, extra_env={"REDIS_URL": private_redis.url})
    alice = bob = None
    try:
        alice = await browser(people, keys, "alice", draft.id, [port])
        bob = await browser(people, keys, "bob", draft.id, [port])
        await bob.move(m1, 5.0)
        await wait_until(lambda: alice.assets[m1]["x"] == 5.0, 10, "alice to see bob's first move")

        # A quick restart (a `systemctl restart redis`): the new Redis has forgotten the room's groups.
        private_redis.kill()
        await asyncio.sleep(1.0)
        private_redis.start()
        await wait_until(lambda: alice.closes and bob.closes, 15, "the server to close the room's sockets (their groups are gone)")
        assert alice.closes[0] == bob.closes[0] == 4503, f"closed with {alice.closes[0]} / {bob.closes[0]}: not the code that says 'reconnect'"
        await wait_until(lambda: alice.welcomes > 1 and bob.welcomes > 1 and alice.online and bob.online, 30,
                         "both clients to be back in the room")
        await bob.move(m1, 7.0)
        await wait_until(lambda: alice.assets[m1]["x"] == 7.0, 10, "alice to see bob's move made after the restart")
        await alice.move(m1, 9.0)
        await wait_until(lambda: bob.assets[m1]["x"] == 9.0, 10, "bob to see alice's move made after the restart")
        assert alice.assets == bob.assets == await database_sync_to_async(scene_assets)(draft.id, people["alice"])
    finally:
        for client in (alice, bob):
            if client is not None:
                await client.stop()
        stop(proc)


# --- 3. the ASGI process of a client is killed -------------------------------------------------------------
async def test_a_client_whose_server_dies_reconnects_to_another_and_gets_every_missed_change_once_in_order(people, draft, keys, m1):
    ports = [free_port(), free_port()]
    procs = [start_daphne(p) for p in ports]
    alice = bob = None
    try:
        alice = await browser(people, keys, "alice", draft.id, ports, slow_uplink=True)
        bob = await browser(people, keys, "bob", draft.id, [ports[1]])
        start = alice.seq
        for x in (1.0, 2.0):
            await bob.move(m1, x)
        await wait_until(lambda: alice.seq == bob.seq, 10, "alice to follow bob on the other process")
        before = alice.seq

        procs[0].kill()  # process A dies at once, without closing its sockets
        procs[0].wait()
        await wait_until(lambda: alice.closes, 10, "alice to notice that her server is gone")
        for x in range(3, 8):  # while alice is away
            await bob.move(m1, float(x))
        missed_until = bob.seq

        back = asyncio.Event()

        async def keep_editing():  # and while she comes back: live events cross her resync's replay
            x = 100.0
            while not back.is_set():
                await bob.move(m1, x)
                x += 1
                await asyncio.sleep(0.02)

        editing = asyncio.ensure_future(keep_editing())
        try:
            await wait_until(lambda: alice.online and alice.welcomes >= 2 and alice.seq >= missed_until, 30, "alice to be back, on process B")
        finally:
            back.set()
            await editing  # bob's last move is answered: bob.seq is final
        await wait_until(lambda: alice.seq == bob.seq, 10, "alice to receive bob's last move")

        after = [s for s in alice.received if s > before]
        assert sorted(after) == list(range(before + 1, bob.seq + 1)), f"gaps or duplicates in what alice received: {after}"
        assert alice.applied == list(range(start + 1, bob.seq + 1)), f"alice skipped or reordered changes: {alice.applied}"
        assert alice.snapshots == 0  # the event log covered what she missed: change by change, not a snapshot
        assert alice.assets == bob.assets == await database_sync_to_async(scene_assets)(draft.id, people["alice"])
    finally:
        for client in (alice, bob):
            if client is not None:
                await client.stop()
        for proc in procs:
            if proc.poll() is None:
                stop(proc)


async def test_a_frame_that_meets_a_stalled_redis_gets_an_error_and_the_socket_stays_open(people, draft, keys, m1, private_redis):
    """Redis stops answering for longer than the room's timeout (CLIENT PAUSE: as a Redis busy saving or
    failing over): the lock asked meanwhile is refused with `error unavailable`, not a 1011 close."""
    import redis

    from tests.collaboration.test_room_processes import join

    port = free_port()
    proc = start_daphne(port, extra_env={"REDIS_URL": private_redis.url})
    try:
        alice, _ = await join(port, draft.id, keys["alice"])
        await database_sync_to_async(redis.Redis.from_url(private_redis.url).execute_command)("CLIENT", "PAUSE", 7000, "ALL")
        await alice.send(json.dumps({"type": "lock", "asset": m1}))
        frames = []
        while not frames or frames[-1]["type"] != "error":
            frames.append(json.loads(await asyncio.wait_for(alice.recv(), 20)))
        assert frames[-1]["code"] == "unavailable", frames
        await asyncio.sleep(3)  # Redis answers again: the same request goes through
        await alice.send(json.dumps({"type": "lock", "asset": m1}))
        while (frame := json.loads(await asyncio.wait_for(alice.recv(), 20)))["type"] != "locks":
            assert frame["type"] != "error", frame
        assert frame["locks"] == {str(m1): people["alice"].id}
        await alice.close()
    finally:
        stop(proc)
