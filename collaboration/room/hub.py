"""A layout's room as seen from one process: its local sockets, the pose tick, ordered `applied` delivery,
and the link to the other processes (one channel-layer channel per room per process)."""
import asyncio
import logging
import time
import uuid

from channels.db import database_sync_to_async
from redis.exceptions import ConnectionError as RedisConnectionError, RedisError
from channels.layers import get_channel_layer

from .. import events, redis_state
from ..protocol import Locks, Presence, encode, pose_piece, poses_frame
from . import state
from .connection import CLOSE_UNAVAILABLE

log = logging.getLogger(__name__)

PROCESS_ID = uuid.uuid4().hex[:12]
TICK_S = 0.05          # 20 Hz
LOCK_WATCH_S = 2.0
GAP_WAIT_S = 0.1       # how long an out-of-order `applied` waits before the log is asked for the gap
GAP_GIVE_UP_S = 1.5

_rooms: dict[tuple[asyncio.AbstractEventLoop, int], "Room"] = {}


def poses_group(layout_id: int) -> str:
    return f"poses.{layout_id}"


async def room_for(layout_id: int, factory_id: int) -> "Room":
    key = (asyncio.get_running_loop(), layout_id)
    room = _rooms.get(key)
    if room is None:
        room = _rooms[key] = Room(key, layout_id, factory_id)
    try:
        await room.started
    except BaseException:
        # A room that could not start (Redis away) must not stay: the next join tries a fresh one.
        if _rooms.get(key) is room:
            del _rooms[key]
        raise
    return room


async def shutdown() -> None:
    """Stop every room of the running loop (tests; a process's rooms otherwise end with their sockets)."""
    loop = asyncio.get_running_loop()
    for key, room in list(_rooms.items()):
        if key[0] is loop:
            del _rooms[key]
            room.stop_tasks()
            await room.wait_stopped()
            try:
                await room.leave_groups()
            except Exception:
                pass
    for key in [k for k in _rooms if k[0].is_closed()]:
        del _rooms[key]


def _revision(layout_id: int) -> int:
    from twins.models import Layout

    return Layout.objects.filter(pk=layout_id).values_list("revision", flat=True).first() or 0


class Room:
    def __init__(self, key, layout_id: int, factory_id: int):
        self.key = key
        self.layout_id = layout_id
        self.factory_id = factory_id
        self.conns: set = set()
        self.users: dict[int, set] = {}
        self.seq = 0
        self.pending: dict[int, str] = {}
        self._gap_task = None
        self._drain_lock = asyncio.Lock()
        self.raw: dict[int, tuple] = {}          # local poses received since the last tick
        self.local_latest: dict[int, str] = {}   # encoded latest pose of each local user
        self.remote_in: dict[str, str] = {}      # pieces from other processes since the last tick
        self.remote_latest: dict[str, str] = {}
        self.republish = False
        self.other_procs: set[str] = set()
        self.members: list[dict] = []
        self.locks: dict[str, int] = {}
        self._locks_lock = asyncio.Lock()
        self.channel = None
        self.layer = get_channel_layer()
        self.tasks: list[asyncio.Task] = []
        self.stopped = False
        self.started = asyncio.ensure_future(self._start())

    @property
    def groups(self):
        return (events.layout_group(self.layout_id), poses_group(self.layout_id), events.factory_group(self.factory_id))

    async def _start(self):
        self.channel = await self.layer.new_channel()
        for group in self.groups:
            await self.layer.group_add(group, self.channel)
        # After joining the group: every event not yet received has a seq above this revision.
        self.seq = await database_sync_to_async(_revision)(self.layout_id)
        self.locks = await state.locks_read(self.layout_id)
        self.tasks = [asyncio.ensure_future(f()) for f in (self._reader, self._ticker, self._watch)]

    # --- joining and leaving ----------------------------------------------------------------------------
    async def join(self, conn, welcome_factory) -> None:
        conn.room = self
        conn.holding = True
        conn.sent_seq = conn.sent_from = self.seq
        self.conns.add(conn)
        if conn.user_id not in self.users:
            self.users[conn.user_id] = set()
            await self.layer.group_add(events.user_group(conn.user_id), self.channel)
        self.users[conn.user_id].add(conn)
        await state.presence_set(self.layout_id, {conn.id: {**conn.member, "proc": PROCESS_ID}})
        members, procs, _ = await state.presence_read(self.layout_id)
        self._see_procs(procs)
        await conn.send_text(encode(welcome_factory(members=members, seq=conn.sent_seq, locks=self.locks)))
        await conn.release()
        conn.ready = True
        latest = {**self.remote_latest, **{str(k): v for k, v in self.local_latest.items()}}
        latest.pop(str(conn.user_id), None)
        if latest:
            await conn.send_text(poses_frame(",".join(latest.values())))
        await self.notify("room.presence")

    async def leave(self, conn) -> None:
        # Bookkeeping first, without awaiting, so that a cancelled socket task still leaves the room clean.
        self.conns.discard(conn)
        mine = self.users.get(conn.user_id)
        user_gone = mine is not None and conn in mine and len(mine) == 1
        if mine is not None:
            mine.discard(conn)
            if not mine:
                del self.users[conn.user_id]
                self.local_latest.pop(conn.user_id, None)
                self.raw.pop(conn.user_id, None)
        held_by_others = set().union(*(c.locks for c in self.users.get(conn.user_id, ())))
        to_release = [a for a in conn.locks if a not in held_by_others]
        conn.locks.clear()
        empty = not self.conns and _rooms.get(self.key) is self
        if empty:
            del _rooms[self.key]
            self.stop_tasks()
        try:
            if user_gone and not empty:
                await self.layer.group_discard(events.user_group(conn.user_id), self.channel)
            released = False
            for asset_id in to_release:
                released |= await state.lock_release(self.layout_id, asset_id, conn.user_id)
            await state.presence_remove(self.layout_id, conn.id)
            await state.socket_close(conn.user_id, conn.id)
            if released:
                await self.notify("room.locks")
            await self.notify("room.presence")
            if empty:
                await self.leave_groups()
                await self.wait_stopped()
        except Exception:
            log.warning("cleanup after a socket in layout %s failed", self.layout_id, exc_info=True)

    async def wait_stopped(self) -> None:
        # A cancelled receive finishes its pending blocking pop (up to 5 s): wake it with a message.
        try:
            await self.layer.send(self.channel, {"type": "room.stop"})
        except Exception:
            pass
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def stop_tasks(self) -> None:
        self.stopped = True
        for task in self.tasks:
            task.cancel()
        if self._gap_task:
            self._gap_task.cancel()

    async def leave_groups(self) -> None:
        for group in self.groups:
            await self.layer.group_discard(group, self.channel)
        for uid in list(self.users):
            await self.layer.group_discard(events.user_group(uid), self.channel)

    async def notify(self, kind: str) -> None:
        await self.layer.group_send(events.layout_group(self.layout_id), {"type": kind})

    # --- messages from other processes and other areas --------------------------------------------------
    async def _reader(self):
        while True:
            try:
                message = await self.layer.receive(self.channel)
                kind = message.get("type")
                if kind == "room.poses":
                    if message.get("origin") != PROCESS_ID:
                        self.remote_in.update(message["pieces"])
                elif kind == "room.applied":
                    await self.on_applied(int(message["seq"]), message["text"])
                elif kind == "room.event":
                    await self.broadcast(message["text"])
                elif kind == "room.presence":
                    await self.refresh_presence()
                elif kind == "room.locks":
                    await self.refresh_locks()
                elif kind == "user.revoked":
                    await self.revoke(message.get("user"), message.get("factory"))
            except asyncio.CancelledError:
                raise
            except (RedisConnectionError, OSError):
                if not self.stopped:
                    log.warning("room %s: the channel layer lost Redis", self.layout_id, exc_info=True)
                    await self.lose_redis()
                return
            except Exception:
                if self.stopped:
                    return
                log.exception("room %s: message handling failed", self.layout_id)
                await asyncio.sleep(0.1)

    async def lose_redis(self) -> None:
        """Redis went away, perhaps to come back empty: a restarted Redis has forgotten this room's groups,
        so events would silently stop reaching its sockets. Close them with 4503 (reconnect): the clients
        come back to a fresh room that joins its groups again, and resync from their last `seq`."""
        log.warning("room %s lost Redis; closing its sockets so that clients reconnect", self.layout_id)
        if _rooms.get(self.key) is self:
            del _rooms[self.key]  # new sockets get a new room, not this one with its lost groups
        for conn in list(self.conns):
            await conn.close(CLOSE_UNAVAILABLE)
        self.stop_tasks()

    async def broadcast(self, text: str) -> None:
        for conn in list(self.conns):
            if conn.ready:
                await conn.send_text(text)

    async def revoke(self, user_id, factory_id) -> None:
        if factory_id is not None and factory_id != self.factory_id:
            return
        code = 4401 if factory_id is None else 4403
        for conn in list(self.users.get(user_id, ())):
            await conn.close(code)

    async def refresh_presence(self) -> None:
        members, procs, _ = await state.presence_read(self.layout_id)
        self._see_procs(procs)
        present = {str(m["id"]) for m in members}
        for uid in [u for u in self.remote_latest if u not in present]:
            del self.remote_latest[uid]
        if members != self.members:
            self.members = members
            await self.broadcast(encode(Presence(members=members)))

    def _see_procs(self, procs: set[str]) -> None:
        others = procs - {PROCESS_ID}
        if others - self.other_procs:
            self.republish = True  # a process joined: give it everyone's current pose
        self.other_procs = others

    async def keep_locks(self) -> None:
        """A lock lives `lock_ttl_s()` past its holder's last pose or edit: for the sockets active since the
        last beat, move the locks' expiry in Redis to that; the locks of those quiet for longer have expired
        there (the next `refresh_locks` tells the room) and are forgotten here."""
        now, ttl = time.monotonic(), redis_state.lock_ttl_s()
        for conn in list(self.conns):
            if not conn.locks:
                continue
            idle = now - conn.active_at
            if idle >= ttl:
                conn.locks.clear()
            elif conn.active_at > conn.kept_at:
                conn.kept_at = conn.active_at
                conn.locks -= await state.locks_keep(self.layout_id, list(conn.locks), conn.user_id, idle)

    async def refresh_locks(self) -> None:
        # One at a time: the watch and a `room.locks` message both refresh, and a read that started first
        # but finished last would otherwise broadcast the older state over the newer one.
        async with self._locks_lock:
            locks = await state.locks_read(self.layout_id)
            if locks != self.locks:
                self.locks = locks
                await self.broadcast(encode(Locks(locks=locks)))

    # --- `applied` in seq order -------------------------------------------------------------------------
    async def on_applied(self, seq: int, text: str) -> None:
        if seq <= self.seq:
            return
        self.pending[seq] = text
        await self._drain()
        if self.pending and (self._gap_task is None or self._gap_task.done()):
            self._gap_task = asyncio.ensure_future(self._fill_gap())

    async def _drain(self) -> None:
        async with self._drain_lock:
            while self.seq + 1 in self.pending:
                self.seq += 1
                text = self.pending.pop(self.seq)
                for conn in list(self.conns):
                    await conn.deliver(self.seq, text)
            for seq in [s for s in self.pending if s <= self.seq]:
                del self.pending[seq]

    async def _fill_gap(self) -> None:
        """A later event came first: wait briefly, then take the missing ones from the event log."""
        waited = 0.0
        while self.pending:
            await asyncio.sleep(GAP_WAIT_S)
            waited += GAP_WAIT_S
            try:
                for seq, text in await state.events_since(self.layout_id, self.seq):
                    if seq > self.seq:
                        self.pending.setdefault(seq, text)
            except Exception:
                log.warning("event log read failed for layout %s", self.layout_id, exc_info=True)
            await self._drain()
            if self.pending and waited >= GAP_GIVE_UP_S:
                # Never published (its broadcast failed): skip it; clients that notice resync to a snapshot.
                log.warning("layout %s: seq %s missing, skipping", self.layout_id, self.seq + 1)
                self.seq = min(self.pending) - 1
                await self._drain()
                waited = 0.0

    # --- poses ------------------------------------------------------------------------------------------
    async def _ticker(self):
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            next_at += TICK_S
            delay = next_at - loop.time()
            if delay < 0:
                next_at, delay = loop.time(), 0
            await asyncio.sleep(delay)
            try:
                await self.flush_poses()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("room %s: pose tick failed", self.layout_id)

    async def flush_poses(self) -> None:
        changed: dict[str, str] = {}
        local: dict[str, str] = {}
        if self.raw:
            raw = dict(self.raw)  # the same dict stays in use by the sockets' receive loops
            self.raw.clear()
            for uid, (p, q) in raw.items():
                piece = local[str(uid)] = pose_piece(uid, p, q)
                self.local_latest[uid] = piece
            changed.update(local)
        if self.republish:
            self.republish = False
            local = {str(k): v for k, v in self.local_latest.items()}
        if self.remote_in:
            remote, self.remote_in = self.remote_in, {}
            self.remote_latest.update(remote)
            changed.update(remote)
        if changed:
            await self._send_poses(changed)
        if local and self.other_procs:
            await self.layer.group_send(poses_group(self.layout_id), {"type": "room.poses", "origin": PROCESS_ID, "pieces": local})

    async def _send_poses(self, changed: dict[str, str]) -> None:
        keys = list(changed)
        values = list(changed.values())
        joined = ",".join(values)
        full = poses_frame(joined)
        offsets = {}
        at = 0
        for key, value in zip(keys, values):
            offsets[key] = (at, at + len(value))
            at += len(value) + 1
        for conn in list(self.conns):
            if not conn.ready:
                continue
            own = offsets.get(conn.member_key)
            if own is None:
                await conn.send_text(full)
            elif len(keys) > 1:
                start, end = own
                rest = joined[:start] + joined[end + 1:] if end < len(joined) else joined[:start - 1]
                await conn.send_text(poses_frame(rest))

    # --- liveness: locks that expired, presence heartbeats, Redis going away ----------------------------
    async def _watch(self):
        beats = failures = 0
        while True:
            await asyncio.sleep(LOCK_WATCH_S)
            beats += 1
            try:
                await self.keep_locks()
                await self.refresh_locks()
                if beats * LOCK_WATCH_S >= state.HEARTBEAT_S:
                    beats = 0
                    await self._heartbeat()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if not isinstance(error, (RedisError, OSError)):
                    log.exception("room %s: watch failed", self.layout_id)
                    continue
                failures += 1
                log.warning("room %s: Redis failed (%d in a row)", self.layout_id, failures, exc_info=True)
                if failures < 3:  # a slow moment is not a lost Redis
                    continue
                await self.lose_redis()
                return

    async def _heartbeat(self):
        entries = {c.id: {**c.member, "proc": PROCESS_ID} for c in self.conns}
        sockets = {uid: [c.id for c in conns] for uid, conns in self.users.items()}
        await state.presence_set(self.layout_id, entries, sockets)
        for group in self.groups:  # re-joining is idempotent and heals a Redis restart
            await self.layer.group_add(group, self.channel)
        for uid in list(self.users):
            await self.layer.group_add(events.user_group(uid), self.channel)
        _, _, pruned = await state.presence_read(self.layout_id)
        if pruned:
            await self.notify("room.presence")
