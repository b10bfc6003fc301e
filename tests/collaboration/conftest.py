"""Helpers for the room tests: sockets through the real ASGI stack and the real Redis channel layer."""
import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from rest_framework.authtoken.models import Token

from collaboration.room import hub
from collaboration.routing import websocket_application

ORIGIN = (b"origin", b"http://localhost")
HOST = (b"host", b"localhost")  # what a browser on http://localhost/ sends with the handshake


def token_header(user) -> tuple[bytes, bytes]:
    token, _ = Token.objects.get_or_create(user=user)
    return (b"authorization", f"Token {token.key}".encode())


class Socket:
    """A client of the room: sends JSON, receives frames, remembers everything it saw."""

    def __init__(self, communicator):
        self.c = communicator
        self.seen: list[dict] = []
        self.raw: list[str] = []
        self.close_code = None
        self.done = False

    async def send(self, frame) -> None:
        await self.c.send_to(text_data=frame if isinstance(frame, str) else json.dumps(frame))

    async def recv(self, timeout: float = 3.0) -> dict:
        # Not communicator.receive_output: its timeout cancels the application.
        if self.c.future.done() and self.c.output_queue.empty():
            self.c.future.result()
            raise AssertionError("the application has finished")
        out = await asyncio.wait_for(self.c.output_queue.get(), timeout)
        if out["type"] == "websocket.close":
            self.close_code = out.get("code")
            return {"type": "__close__", "code": out.get("code")}
        frame = json.loads(out["text"])
        self.seen.append(frame)
        self.raw.append(out["text"])
        return frame

    async def expect(self, kind: str, timeout: float = 3.0, where=None) -> dict:
        """The next frame of this type (other types are skipped)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"no {kind} frame within {timeout}s; saw {[f.get('type') for f in self.seen[-10:]]}")
            try:
                frame = await self.recv(left)
            except (TimeoutError, asyncio.TimeoutError):
                raise AssertionError(f"no {kind} frame within {timeout}s; saw {[f.get('type') for f in self.seen[-10:]]}") from None
            if frame["type"] == kind and (where is None or where(frame)):
                return frame
            if frame["type"] == "__close__" and kind != "__close__":
                raise AssertionError(f"closed with {frame['code']} while waiting for {kind}")

    async def nothing(self, kind: str, wait: float = 0.3) -> None:
        """No frame of this type arrives within `wait` seconds."""
        try:
            await self.expect(kind, timeout=wait)
        except AssertionError as error:
            if "no " in str(error):
                return
            raise
        raise AssertionError(f"unexpected {kind} frame")

    async def close(self) -> None:
        self.done = True
        await self.c.disconnect()


async def open_socket(path: str, headers: list) -> tuple[WebsocketCommunicator, bool]:
    communicator = WebsocketCommunicator(websocket_application, path, headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    return communicator, connected


@pytest.fixture
async def connect():
    """`await connect(user, layout)` → a Socket that has received its welcome (as `.welcome`)."""
    opened = []

    async def make(user, layout_or_id, *, origin=ORIGIN, host=HOST, welcome=True, extra_headers=()):
        layout_id = getattr(layout_or_id, "id", layout_or_id)
        headers = [h for h in (origin, host) if h] + list(extra_headers)
        if user is not None:
            headers.append(await database_sync_to_async(token_header)(user))
        communicator, connected = await open_socket(f"/ws/layouts/{layout_id}/", headers)
        socket = Socket(communicator)
        socket.connected = connected
        opened.append(socket)
        if welcome:
            assert connected
            socket.welcome = await socket.expect("welcome", timeout=5)
        return socket

    yield make
    for socket in opened:
        if not socket.connected or socket.close_code is not None or socket.done:
            continue
        try:
            await socket.c.disconnect(timeout=3)
        except BaseException:
            pass
    await hub.shutdown()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    """Each test runs on its own event loop: give it its own channel layer (the layer keeps loop-bound locks)."""
    from channels.layers import channel_layers

    channel_layers.backends.pop("default", None)
    yield
    channel_layers.backends.pop("default", None)


@pytest.fixture
def layer():
    return get_channel_layer()
