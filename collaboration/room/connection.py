"""One open socket: its user, how frames reach it (bounded), its rate limit and its place in the `seq` stream."""
import asyncio
import collections
import functools
import os
import time
import uuid

# A client whose unread output passes this is cut off (it can reconnect and resync). The environment
# variable lets the tests reach the limit with little traffic.
MAX_BACKLOG_BYTES = int(os.environ.get("METAVERSE_WS_MAX_BACKLOG_BYTES") or 2 * 1024 * 1024)
MAX_BACKLOG_FRAMES = 500
# After the 4500 close is queued behind the unread output, how long the client has to read up to it
# before the connection is dropped (and that output freed).
CUT_OFF_GRACE_S = 5.0

# Token bucket: 60 frames/s sustained, bursts of 120; a pose costs a quarter of a frame.
RATE_PER_S = 60.0
BURST = 120.0
POSE_COST = 0.25
FLOOD_DEBT = -120.0  # still sending this far past the limit: close 4008

CLOSE_NO_USER = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NO_LAYOUT = 4404
CLOSE_POLICY = 4008
CLOSE_TOO_BIG = 4009
CLOSE_TOO_SLOW = 4500
CLOSE_UNAVAILABLE = 4503


def _daphne_transport(send):
    """daphne hands the app `partial(server.handle_reply, protocol)`: its Twisted transport shows the backlog."""
    if isinstance(send, functools.partial) and send.args:
        transport = getattr(send.args[0], "transport", None)
        if transport is not None and hasattr(transport, "dataBuffer"):
            return transport
    return None


class Conn:
    __slots__ = (
        "id", "user_id", "username", "color", "role", "member", "room", "locks", "_send", "_transport",
        "_outbox", "_outbox_bytes", "_wake", "_writer", "tokens", "_refill_at", "warned", "sent_seq",
        "sent_from", "holding", "held", "closed", "active_at", "kept_at", "ready", "member_key", "user",
    )

    def __init__(self, *, send, user, color: str, role: str):
        self.id = uuid.uuid4().hex
        self.user = user
        user_id, username = user.id, user.username
        self.user_id = user_id
        self.member_key = str(user_id)
        self.ready = False  # poses and room events start after the welcome
        self.username = username
        self.color = color
        self.role = role
        self.member = {"id": user_id, "username": username, "color": color, "role": role}
        self.room = None
        self.locks: set[int] = set()
        self._send = send
        self._transport = _daphne_transport(send)
        self._outbox = collections.deque()
        self._outbox_bytes = 0
        self._wake = asyncio.Event()
        self._writer = None if self._transport is not None else asyncio.ensure_future(self._write_loop())
        self.tokens = BURST
        self._refill_at = time.monotonic()
        self.warned = False
        self.sent_seq = 0
        self.sent_from = 0  # this socket has been sent every `applied` in (sent_from, sent_seq]
        self.holding = True  # until the welcome is out, `applied` frames wait in `held`
        self.held: list[tuple[int, str]] = []
        self.closed = False
        # Locks live while their holder is active: the time of the last pose or edit (kept only while this
        # socket holds a lock), and the activity the locks' expiry in Redis last counted from.
        self.active_at = 0.0
        self.kept_at = 0.0

    # --- output -----------------------------------------------------------------------------------------
    async def send_text(self, text: str) -> None:
        if self.closed:
            return
        if self._transport is not None:
            # daphne: send never waits, Twisted buffers; watch that buffer instead.
            await self._send({"type": "websocket.send", "text": text})
            if self.backlog() > MAX_BACKLOG_BYTES:
                await self.cut_off()
            return
        self._outbox.append(text)
        self._outbox_bytes += len(text)
        self._wake.set()
        if len(self._outbox) > MAX_BACKLOG_FRAMES or self._outbox_bytes > MAX_BACKLOG_BYTES:
            await self.cut_off()

    def backlog(self) -> int:
        t = self._transport
        if t is None:
            return self._outbox_bytes
        return len(t.dataBuffer) - getattr(t, "offset", 0) + getattr(t, "_tempDataLen", 0)

    async def _write_loop(self):
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._outbox:
                text = self._outbox.popleft()
                self._outbox_bytes -= len(text)
                if isinstance(text, tuple):  # a close
                    await self._send({"type": "websocket.close", "code": text[1]})
                    return
                await self._send({"type": "websocket.send", "text": text})

    async def cut_off(self) -> None:
        """The client stopped reading: send it nothing more but the close 4500, so that it reconnects and
        resyncs. Under daphne the close waits behind what the client has not read yet (dropping that would
        cut a frame in half); autobahn drops the connection if the client has not answered the close within
        CUT_OFF_GRACE_S, so a client that never reads again holds its bounded backlog no longer than that."""
        if self.closed:
            return
        self.closed = True
        if self._transport is not None:
            self._send.args[0].closeHandshakeTimeout = CUT_OFF_GRACE_S  # the autobahn protocol
            await self._send({"type": "websocket.close", "code": CLOSE_TOO_SLOW})
        else:
            self._outbox.clear()
            self._outbox_bytes = 0
            self._outbox.append(("close", CLOSE_TOO_SLOW))
            self._wake.set()

    async def close(self, code: int) -> None:
        if self.closed:
            return
        self.closed = True
        if self._transport is not None:
            await self._send({"type": "websocket.close", "code": code})
        else:
            self._outbox.append(("close", code))
            self._wake.set()

    def stop_writer(self) -> None:
        if self._writer is not None and not self._writer.done():
            if not self._outbox:
                self._writer.cancel()

    # --- ordered `applied` stream -----------------------------------------------------------------------
    async def deliver(self, seq: int, text: str) -> None:
        if self.holding:
            self.held.append((seq, text))
        elif seq > self.sent_seq:
            self.sent_seq = seq
            await self.send_text(text)

    async def release(self) -> None:
        """Send what arrived while the welcome or a resync was being prepared, skipping what it covered."""
        while self.held:
            held, self.held = self.held, []
            for seq, text in held:
                if seq > self.sent_seq:
                    self.sent_seq = seq
                    await self.send_text(text)
        self.holding = False

    # --- rate limit -------------------------------------------------------------------------------------
    def charge(self, cost: float) -> int:
        """0: go ahead; 1: over the limit (drop the frame); 2: flooding (close)."""
        now = time.monotonic()
        self.tokens = min(BURST, self.tokens + (now - self._refill_at) * RATE_PER_S)
        self._refill_at = now
        self.tokens -= cost
        if self.tokens >= 0:
            self.warned = False
            return 0
        return 2 if self.tokens < FLOOD_DEBT else 1
