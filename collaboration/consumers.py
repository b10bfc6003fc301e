"""`/ws/layouts/{id}/`: the layout room socket (CONTRACT.md §5), a bare ASGI websocket handler.

Channels' generic consumer dispatches every frame through several layers; at 10 poses/s per user that
dispatch, not Redis, limits a room (docs/benchmarks.md). So this handler does as little per frame as it
can: a `pose` is parsed, checked and stored in the room's per-tick buffer without any other call; every
other frame goes to `room.handlers` (validate → handler → `error` frame).

Close codes: 4401 no valid user, 4403 not a member (or membership lost), 4404 no such layout, 4009 frame
over 64 KiB, 4008 flooding or too many sockets, 4500 too slow reading (reconnect and resync), 4503 the
server lost Redis (reconnect). Logging out closes with 4401. Under `metaverse.server` daphne itself closes
a message over 64 KiB with 1009 and invalid UTF-8 with 1007 before they reach this handler.
"""
import logging
from time import monotonic

from channels.db import database_sync_to_async

from .protocol import MAX_FRAME_BYTES, LoneSurrogate, Member, Welcome, check_pose, decode_json
from .room import handlers, hub, ops, state
from .room.connection import CLOSE_POLICY, CLOSE_TOO_BIG, POSE_COST, Conn
from .auth import user_for_scope

log = logging.getLogger(__name__)

MAX_SOCKETS_PER_USER = 12


async def _refuse(send, code: int) -> None:
    # daphne answers a close before accept with HTTP 403; the contract wants the code, so accept first.
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": code})


class LayoutSocket:
    """ASGI app; one call per socket."""

    async def __call__(self, scope, receive, send):
        if (await receive())["type"] != "websocket.connect":
            return
        layout_id = int(scope["url_route"]["kwargs"]["layout_id"])
        user = await user_for_scope(scope)
        if user is None:
            return await _refuse(send, 4401)
        code, factory_id, role = await database_sync_to_async(ops.room_access)(user=user, layout_id=layout_id)
        if code is not None:
            return await _refuse(send, code)
        await send({"type": "websocket.accept"})
        conn = Conn(send=send, user=user, color=ops.color_for(user.id), role=role)
        try:
            if not await state.socket_open(user.id, conn.id, MAX_SOCKETS_PER_USER):
                await handlers.send_error(conn, "too_many_sockets", f"At most {MAX_SOCKETS_PER_USER} open sockets per user.")
                await conn.close(CLOSE_POLICY)
                return await self._drain(receive)
            room = await hub.room_for(layout_id, factory_id)
        except Exception:
            log.exception("joining layout %s failed", layout_id)
            await conn.close(4503)
            return await self._drain(receive)
        try:
            you = Member(**conn.member)
            await room.join(conn, lambda members, seq, locks: Welcome(you=you, members=[Member(**m) for m in members], seq=seq, locks=locks))
            await self._serve(conn, room, receive)
        finally:
            await room.leave(conn)
            conn.stop_writer()

    @staticmethod
    async def _drain(receive):
        while (await receive())["type"] != "websocket.disconnect":
            pass

    async def _serve(self, conn, room, receive):
        raw = room.raw
        user_id = conn.user_id
        while True:
            message = await receive()
            if message["type"] != "websocket.receive":
                return
            if conn.closed:
                continue
            text = message.get("text")
            if text is None:
                if len(message.get("bytes") or b"") > MAX_FRAME_BYTES:
                    await conn.close(CLOSE_TOO_BIG)
                else:
                    await handlers.send_error(conn, "invalid", "Frames are JSON text, not binary.")
                continue
            if len(text) > MAX_FRAME_BYTES // 4 and len(text.encode()) > MAX_FRAME_BYTES:
                await conn.close(CLOSE_TOO_BIG)
                continue
            verdict = conn.charge(POSE_COST)
            if verdict == 0:
                try:
                    data = decode_json(text)
                except LoneSurrogate as error:
                    await handlers.send_error(conn, "invalid", str(error))
                    continue
                except (ValueError, RecursionError):
                    await handlers.send_error(conn, "bad_json", "The frame is not valid JSON.")
                    continue
                if type(data) is dict and data.get("type") == "pose":
                    pose = check_pose(data)
                    if pose is not None:
                        raw[user_id] = pose  # the hot path: the tick encodes and sends it
                        if conn.locks:  # moving about is activity: it keeps the user's locks alive
                            conn.active_at = monotonic()
                        continue
                else:
                    verdict = conn.charge(1 - POSE_COST)
                if verdict == 0:
                    await handlers.dispatch(conn, room, data)
                    continue
            if verdict == 2:
                await conn.close(CLOSE_POLICY)
            elif not conn.warned:
                conn.warned = True
                await handlers.send_error(conn, "rate_limited", "Too many frames; slow down.")
