"""Handlers of the client frames other than `pose`: validate into a protocol model, act, answer.

A handler raises `ClientError` for a bad request (→ `error` frame); a service's `ServiceError` on an op
becomes `rejected`; Redis failing under a frame gets `error unavailable`. Handlers call services (in a thread) and the room; they never build frames by hand.
"""
import logging
import time

from channels.db import database_sync_to_async
from pydantic import ValidationError
from redis.exceptions import RedisError

from twins.errors import ServiceError
from twins.models import Role

from .. import events
from ..protocol import (
    CLIENT_TYPES, ChatFrom, ChatIn, ChatOut, Error, Lock, Ping, Pong, Pose, Rejected, Resync, Snapshot, Summon, SummonOut,
    Unlock, client_message, encode,
)
from . import ops, state

log = logging.getLogger(__name__)

# Frames a page sends by itself (keep-alive, catching up): they do not keep its holder's locks alive.
PASSIVE = (Ping, Resync)


class ClientError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


async def send_error(conn, code: str, message: str) -> None:
    await conn.send_text(encode(Error(code=code, message=message)))


def _describe(error: ValidationError) -> str:
    first = error.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(p) for p in first.get("loc", ()) if not str(p).startswith(("tagged-union", "function-")))
    return f"{where}: {first.get('msg')}" if where else str(first.get("msg"))


def parse(data) -> object:
    if not isinstance(data, dict):
        raise ClientError("invalid", "A frame must be a JSON object with a type.")
    kind = data.get("type")
    if type(kind) is not str or kind not in CLIENT_TYPES:  # a list or an object is not hashable: test the type first
        raise ClientError("unknown_type", f"Unknown frame type {str(kind)[:40]!r}.")
    try:
        return client_message.validate_python(data)
    except ValidationError as error:
        raise ClientError("invalid", f"Invalid {kind} frame: {_describe(error)}"[:300]) from None


async def dispatch(conn, room, data) -> None:
    try:
        message = parse(data)
        if conn.locks and type(message) not in PASSIVE:
            conn.active_at = time.monotonic()  # the room's watch keeps the locks alive from this
        await HANDLERS.get(type(message), on_op)(conn, room, message)
    except ClientError as error:
        await send_error(conn, error.code, error.message)
    except (RedisError, OSError):
        # A slow or restarting Redis fails this one frame, not the socket (the room's watch closes the
        # sockets with 4503 if Redis is really gone).
        log.warning("a %s frame in layout %s failed on Redis", data.get("type"), room.layout_id, exc_info=True)
        await send_error(conn, "unavailable", "The room could not reach its shared state just now; try again.")


async def on_pose(conn, room, message: Pose) -> None:
    room.raw[conn.user_id] = (message.p, message.q)


async def on_op(conn, room, message) -> None:
    try:
        await database_sync_to_async(ops.apply_op)(user=conn.user, layout_id=room.layout_id, op=message)
    except ServiceError as error:
        code = error.code if error.code in ("conflict", "forbidden", "invalid", "locked", "not_found") else "invalid"
        await conn.send_text(encode(Rejected(id=message.id, code=code, message=error.message, current=error.current)))
    # Accepted: the `applied` event (carrying this op's id) reaches everyone, this socket included, in seq order.


async def on_lock(conn, room, message: Lock) -> None:
    try:
        await database_sync_to_async(ops.check_lockable)(user=conn.user, layout_id=room.layout_id, asset_id=message.asset)
    except ServiceError as error:
        raise ClientError(error.code, error.message) from None
    if not await state.lock_acquire(room.layout_id, message.asset, conn.user_id):
        raise ClientError("locked", "Someone else is editing this asset.")
    conn.locks.add(message.asset)
    conn.active_at = conn.kept_at = time.monotonic()
    await room.notify("room.locks")


async def on_unlock(conn, room, message: Unlock) -> None:
    if message.asset in conn.locks:
        conn.locks.discard(message.asset)
        if await state.lock_release(room.layout_id, message.asset, conn.user_id):
            await room.notify("room.locks")


async def on_chat(conn, room, message: ChatIn) -> None:
    text = message.text.strip()
    if not text:
        raise ClientError("invalid", "A chat message cannot be empty.")
    frame = ChatOut(from_=ChatFrom(id=conn.user_id, username=conn.username, color=conn.color), text=text, ts=int(time.time() * 1000))
    await room.layer.group_send(events.layout_group(room.layout_id), {"type": "room.event", "text": encode(frame)})


async def on_summon(conn, room, message: Summon) -> None:
    """Managers and owners lead a review: everyone in the room (the sender too) is told where to look."""
    if Role.rank(conn.role) < Role.rank(Role.MANAGER):
        raise ClientError("forbidden", "Only managers and owners can bring everyone to their view.")
    frame = SummonOut(from_=ChatFrom(id=conn.user_id, username=conn.username, color=conn.color),
                      position=message.position, target=message.target, ts=int(time.time() * 1000))
    await room.layer.group_send(events.layout_group(room.layout_id), {"type": "room.event", "text": encode(frame)})


async def on_resync(conn, room, message: Resync) -> None:
    """Replay (message.seq, room.seq] from the event log, or send a snapshot when the log no longer covers it.
    Events this socket was sent live since its welcome are not sent twice: they reached the client ahead of
    the replay, and it holds them until the replay fills the gap (frontend/src/network/Socket.js)."""
    conn.holding = True
    try:
        target = room.seq
        if message.seq >= target:
            conn.sent_seq = max(conn.sent_seq, message.seq)
            return
        replay, expected = [], message.seq + 1
        try:
            for seq, text in await state.events_since(room.layout_id, message.seq):
                if seq != expected:
                    break
                replay.append((seq, text))
                expected += 1
        except Exception:
            log.warning("event log read failed; answering resync with a snapshot", exc_info=True)
            replay = []
        if replay and replay[-1][0] >= target:
            # Live events sent after the welcome may have overtaken this resync; the client has them already.
            already = range(conn.sent_from + 1, conn.sent_seq + 1) if message.seq < conn.sent_from else range(0)
            for seq, text in replay:
                if seq not in already:
                    await conn.send_text(text)
            conn.sent_seq = max(conn.sent_seq, replay[-1][0])
            conn.sent_from = min(conn.sent_from, message.seq)
        else:
            scene = await database_sync_to_async(ops.scene)(user=conn.user, layout_id=room.layout_id)
            await conn.send_text(encode(Snapshot(**scene)))
            conn.sent_seq = conn.sent_from = scene["seq"]
    finally:
        await conn.release()


async def on_ping(conn, room, message: Ping) -> None:
    await conn.send_text(encode(Pong()))


HANDLERS = {Pose: on_pose, Lock: on_lock, Unlock: on_unlock, ChatIn: on_chat, Summon: on_summon, Resync: on_resync, Ping: on_ping}
