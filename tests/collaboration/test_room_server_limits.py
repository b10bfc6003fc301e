"""The ASGI server's own websocket limits (CONTRACT.md §5), on a real daphne started as `make run` starts it:
a message over 64 KiB closes with 1009 and invalid UTF-8 with 1007 — a closing handshake, not a dropped
connection (1006) — and the other sockets in the room go on."""
import asyncio
import json

import pytest
import websockets
from channels.db import database_sync_to_async

from collaboration.protocol import MAX_FRAME_BYTES
from tests.collaboration.daphne import free_port, start_daphne, stop
from tests.collaboration.test_room_processes import join, token

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def port(people):
    port = free_port()
    proc = start_daphne(port)
    yield port
    stop(proc)


async def close_code(ws) -> int:
    """The code of the close frame the server sent (1006: none, the connection was dropped)."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), 15)
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else 1006


async def ping(ws) -> None:
    await ws.send(json.dumps({"type": "ping"}))
    while json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] != "pong":
        pass


def chat(size: int) -> str:
    frame = '{"type":"chat","text":"%s"}'
    return frame % ("x" * (size - len(frame) + 2))


@pytest.mark.parametrize("message", [
    pytest.param(chat(2 * 1024 * 1024), id="2 MiB"),
    pytest.param(chat(MAX_FRAME_BYTES + 1), id="64 KiB + 1"),
    pytest.param([chat(3 * MAX_FRAME_BYTES)[i:i + 16_000] for i in range(0, 3 * MAX_FRAME_BYTES, 16_000)], id="fragmented 192 KiB"),
])
async def test_a_message_over_64_kib_is_closed_with_1009(people, draft, port, message):
    alice, _ = await join(port, draft.id, await database_sync_to_async(token)(people["alice"]))
    bob, _ = await join(port, draft.id, await database_sync_to_async(token)(people["bob"]))
    try:
        await alice.send(message)
    except websockets.ConnectionClosed:
        pass  # the close overtook the rest of the frame
    assert await close_code(alice) == 1009
    await ping(bob)
    await bob.close()


async def test_a_message_of_64_kib_is_read_and_answered(people, draft, port):
    alice, _ = await join(port, draft.id, await database_sync_to_async(token)(people["alice"]))
    await alice.send(chat(MAX_FRAME_BYTES))
    error = json.loads(await asyncio.wait_for(alice.recv(), 10))
    assert error["type"] == "error" and error["code"] == "invalid"  # a chat is at most 2,000 characters
    await ping(alice)
    await alice.close()


async def test_a_text_frame_that_is_not_utf8_is_closed_with_1007(people, draft, port):
    alice, _ = await join(port, draft.id, await database_sync_to_async(token)(people["alice"]))
    bob, _ = await join(port, draft.id, await database_sync_to_async(token)(people["bob"]))
    await alice.send(b'{"type":"chat","text":"\xff\xfe caf\xc3"}', text=True)
    assert await close_code(alice) == 1007
    await ping(bob)
    await bob.close()
