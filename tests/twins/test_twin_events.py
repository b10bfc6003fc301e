"""`twin.changed` and `alarm` reach the factory's channel-layer group through real Redis, after commit."""
import asyncio
import json
import time

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from twins.models import AlarmRule
from twins.services.telemetry import telemetry_ingest
from twins.twin_feed import TICK_S

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def _close_thread_connections():
    yield
    from django.db import connections

    await sync_to_async(connections.close_all)()


async def listen(factory_id: int):
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(f"factory.{factory_id}", channel)
    return layer, channel


async def next_frame(layer, channel, kind: str, timeout: float = 3.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        message = await asyncio.wait_for(layer.receive(channel), max(0.01, deadline - time.monotonic()))
        assert message["type"] == "room.event"
        frame = json.loads(message["text"])
        if frame["type"] == kind:
            return frame


async def test_twin_changed_carries_the_latest_state_coalesced_to_ten_frames_a_second(twins, people):
    layer, channel = await listen(people["plant"].id)
    ingest = sync_to_async(telemetry_ingest)
    started = time.monotonic()
    for i in range(30):
        await ingest(factory=people["plant"], points=[{"twin": "cnc-1", "values": {"t": i, "status": "running"}},
                                                      {"twin": "press-1", "values": {"t": -i}}])
    frames = []
    while True:
        frame = await next_frame(layer, channel, "twin.changed")
        frames.append(frame)
        latest = {u["key"]: u for u in frame["updates"]}
        if latest.get("cnc-1", {}).get("values", {}).get("t") == 29:
            break
    elapsed = time.monotonic() - started
    assert len(frames) <= elapsed / TICK_S + 2 and len(frames) < 30
    update = latest["cnc-1"]
    assert update == {"twin": twins["cnc"].id, "key": "cnc-1", "status": "running", "values": {"t": 29.0, "status": "running"}, "ts": update["ts"]}
    assert all(len({u["twin"] for u in f["updates"]}) == len(f["updates"]) for f in frames)  # one entry per twin


async def test_nothing_is_published_for_a_rejected_batch(twins, people):
    layer, channel = await listen(people["plant"].id)
    with pytest.raises(Exception):
        await sync_to_async(telemetry_ingest)(factory=people["plant"], points=[{"twin": "cnc-1", "values": {"t": 1}}, {"twin": "ghost", "values": {"t": 1}}])
    with pytest.raises(asyncio.TimeoutError):
        await next_frame(layer, channel, "twin.changed", timeout=4 * TICK_S)


async def test_alarm_frames_announce_raise_and_clear(twins, people):
    await sync_to_async(AlarmRule.objects.create)(factory=people["plant"], twin=twins["cnc"], name="temperature", op=">", threshold=80, hysteresis=5, severity="critical")
    layer, channel = await listen(people["plant"].id)
    ingest = sync_to_async(telemetry_ingest)
    await ingest(factory=people["plant"], points=[{"twin": "cnc-1", "values": {"temperature": 91}}])
    raised = (await next_frame(layer, channel, "alarm"))["alarm"]
    assert {k: raised[k] for k in ("twin", "severity", "message", "active")} == {
        "twin": twins["cnc"].id, "severity": "critical", "message": "CNC-1: temperature 91 > 80", "active": True}
    await ingest(factory=people["plant"], points=[{"twin": "cnc-1", "values": {"temperature": 70}}])
    cleared = (await next_frame(layer, channel, "alarm"))["alarm"]
    assert (cleared["id"], cleared["active"]) == (raised["id"], False)
