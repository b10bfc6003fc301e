"""The OPC UA bridge against a real asyncua server started by the test, including a server restart."""
import asyncio
import socket
import time

import pytest
from asgiref.sync import sync_to_async
from asyncua import Server, ua

from twins.management.commands.opcua_bridge import OpcUaBridge, load_map
from twins.models import TelemetryPoint, Twin

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def start_server(port: int):
    server = Server()
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{port}/metaverse/")
    idx = await server.register_namespace("urn:metaverse:test")
    objects = server.nodes.objects
    nodes = {
        "temperature": await objects.add_variable(ua.NodeId("Press1.Temperature", idx), "Temperature", 20.0),
        "running": await objects.add_variable(ua.NodeId("Press1.Running", idx), "Running", False),
        "status": await objects.add_variable(ua.NodeId("Press1.Status", idx), "Status", "idle"),
    }
    await server.start()
    return server, idx, nodes


async def count(**filters) -> int:
    return await sync_to_async(TelemetryPoint.objects.filter(**filters).count)()


async def wait_for(predicate, timeout=15.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_map_is_validated():
    with pytest.raises(ValueError, match=r"map\[1\]"):
        load_map([{"node": "ns=2;s=A", "factory": "f", "twin": "t", "name": "n"}, {"node": "ns=2;s=B", "factory": "f"}])
    with pytest.raises(ValueError, match="not an OPC UA node id"):
        load_map([{"node": "what?", "factory": "f", "twin": "t", "name": "n"}])


async def test_data_changes_are_ingested_and_the_bridge_survives_a_server_restart(twins, people):
    port = free_port()
    server, idx, nodes = await start_server(port)
    slug = people["plant"].slug
    mapping = load_map([
        {"node": f"ns={idx};s=Press1.Temperature", "factory": slug, "twin": "press-1", "name": "temperature"},
        {"node": f"ns={idx};s=Press1.Running", "factory": slug, "twin": "press-1", "name": "running"},
        {"node": f"ns={idx};s=Press1.Status", "factory": slug, "twin": "press-1", "name": "status"},
    ])
    bridge = OpcUaBridge(f"opc.tcp://127.0.0.1:{port}/metaverse/", mapping, period_ms=50)
    task = asyncio.create_task(bridge.run())
    try:
        await asyncio.wait_for(bridge.connected.wait(), 15)
        await wait_for(lambda: count(name="temperature"), what="the initial values")  # subscriptions deliver the current value
        await nodes["temperature"].write_value(71.5)
        await nodes["running"].write_value(True)
        await nodes["status"].write_value("running")
        await wait_for(lambda: count(name="temperature", value=71.5), what="a data change")
        await wait_for(lambda: count(name="status", text="running"), what="the status change")
        press = await sync_to_async(Twin.objects.get)(pk=twins["press"].pk)
        assert press.values["running"] == 1.0 and press.status == "running"

        await server.stop()  # the endpoint goes away: every connection drops, the port closes
        await wait_for(lambda: _async(not bridge.connected.is_set()), what="the bridge to notice the server is gone")
        await asyncio.sleep(1.5)  # the bridge's first reconnect attempt fails
        await server.start()
        await asyncio.wait_for(bridge.connected.wait(), 20)
        await nodes["temperature"].write_value(88.25)
        await wait_for(lambda: count(name="temperature", value=88.25), what="a data change after the restart")
        assert bridge.connections == 2
    finally:
        bridge.stopping.set()
        await asyncio.wait_for(task, 10)
        await server.stop()


async def _async(value):
    return value
