"""OPC UA for Machinery (OPC 40001-1) against a real asyncua server that the test builds with the companion
specification's nodes: `--browse` finds the machines and writes a starter map, and that map, unedited, brings
their MachineryItemState into the twins' status."""
import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from asyncua import Server, ua
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.twins.test_opcua_bridge import count, free_port, wait_for
from twins.interfaces.machinery import MACHINERY_NS, status_of
from twins.management.commands.opcua_bridge import OpcUaBridge, load_map
from twins.models import Twin

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

DI_NS = "http://opcfoundation.org/UA/DI/"
STATES = {"OutOfService": 5004, "NotAvailable": 5005, "Executing": 5006, "NotExecuting": 5007}  # OPC 40001-1 NodeIds


class MachineryServer:
    """An asyncua server shaped like a Machinery server: Objects/Machines/{machine} with a DI Identification,
    MachineryBuildingBlocks/MachineryItemState (CurrentState + Id) and a Monitoring folder; one more machine
    outside Machines that is found by its MachineryItemState; and an object that is not a machine."""

    async def start(self, port: int):
        self.server = server = Server()
        await server.init()
        server.set_endpoint(f"opc.tcp://127.0.0.1:{port}/machinery/")
        self.app = app = await server.register_namespace("urn:metaverse:test:machines")
        self.di = await server.register_namespace(DI_NS)
        self.mach = mach = await server.register_namespace(MACHINERY_NS)
        state_type = await server.nodes.base_object_type.add_object_type(ua.NodeId(1002, mach), ua.QualifiedName("MachineryItemState_StateMachineType", mach))
        for name, number in STATES.items():  # the state objects whose NodeIds CurrentState.Id refers to
            await state_type.add_object(ua.NodeId(number, mach), ua.QualifiedName(name, mach))
        machines = await server.nodes.objects.add_folder(ua.NodeId(1001, mach), ua.QualifiedName("Machines", mach))
        self.press = await self._machine(machines, app, "Press-1", "Schuler", "MSD 400", "SN-4711", under_blocks=True)
        line = await server.nodes.objects.add_object(app, "Line 2")
        self.cnc = await self._machine(line, app, "CNC-1", "DMG Mori", "DMU 50", "SN-0815", under_blocks=False)
        plain = await server.nodes.objects.add_object(app, "Utilities")
        await plain.add_variable(app, "Compressed Air Pressure", 6.1)
        await server.start()
        return self

    async def _machine(self, parent, app, name, manufacturer, model, serial, *, under_blocks: bool) -> dict:
        machine = await parent.add_object(app, name)
        ident = await machine.add_object(ua.NodeId(f"{name}.Identification", app), ua.QualifiedName("Identification", self.di))
        for field, value in (("Manufacturer", ua.LocalizedText(manufacturer, "en")), ("Model", ua.LocalizedText(model, "en")), ("SerialNumber", serial)):
            await ident.add_property(ua.NodeId(f"{name}.{field}", app), ua.QualifiedName(field, self.di), value)
        holder = machine
        if under_blocks:
            holder = await machine.add_folder(ua.NodeId(f"{name}.Blocks", app), ua.QualifiedName("MachineryBuildingBlocks", self.mach))
        state = await holder.add_object(ua.NodeId(f"{name}.MachineryItemState", app), ua.QualifiedName("MachineryItemState", self.mach),
                                        objecttype=ua.NodeId(1002, self.mach))
        current = await state.add_variable(ua.NodeId(f"{name}.CurrentState", app), "CurrentState", ua.LocalizedText("NotExecuting", "en"))
        state_id = await current.add_property(ua.NodeId(f"{name}.CurrentState.Id", app), "Id", ua.NodeId(STATES["NotExecuting"], self.mach))
        monitoring = await machine.add_object(app, "Monitoring")
        temperature = await monitoring.add_variable(ua.NodeId(f"{name}.Temperature", app), "Temperature", 21.5)
        await monitoring.add_variable(app, "Strokes", ua.Variant(0, ua.VariantType.UInt32))
        await temperature.add_property(app, "EngineeringUnits", "°C")  # a property: metadata, not telemetry
        return {"current": current, "id": state_id, "temperature": temperature}

    async def set_state(self, machine: dict, state: str, text: str | None = None) -> None:
        """What a Machinery server does on a transition: CurrentState's text (maybe localised) and its Id."""
        await machine["current"].write_value(ua.LocalizedText(text or state, "en" if text is None else "de"))
        await machine["id"].write_value(ua.NodeId(STATES[state], self.mach))

    async def stop(self):
        await self.server.stop()


@pytest.fixture
async def machinery_server():
    server = await MachineryServer().start(free_port())
    yield server
    await server.stop()


def endpoint(server: MachineryServer) -> str:
    return server.server.endpoint.geturl()


async def test_browse_lists_the_machines_and_writes_a_starter_map(machinery_server, tmp_path, capsys):
    map_file = tmp_path / "map.json"
    await asyncio.to_thread(call_command, "opcua_bridge", "--endpoint", endpoint(machinery_server), "--browse", "--map", str(map_file), "--factory", "plant")
    out = capsys.readouterr().out
    assert "Press-1" in out and "Manufacturer Schuler" in out and "SerialNumber SN-4711" in out and "state NotExecuting" in out
    assert "CNC-1" in out and "Utilities" not in out
    entries = json.loads(map_file.read_text())
    by_twin = {}
    for entry in entries:
        by_twin.setdefault(entry["twin"], []).append(entry)
    assert set(by_twin) == {"press-1", "cnc-1"}
    press = by_twin["press-1"]
    assert {"node": f"ns={machinery_server.app};s=Press-1.CurrentState.Id", "factory": "plant", "twin": "press-1", "as": "status"} in press
    assert {e.get("name") for e in press} == {None, "monitoring/temperature", "monitoring/strokes"}  # no identification, no property
    load_map(entries)  # what --browse writes, the bridge reads

    with pytest.raises(CommandError, match="never overwrites"):
        await asyncio.to_thread(call_command, "opcua_bridge", "--endpoint", endpoint(machinery_server), "--browse", "--map", str(map_file))


async def test_a_server_without_machines_is_told_so(tmp_path):
    server = Server()
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{free_port()}/plain/")
    await server.start()
    try:
        with pytest.raises(CommandError, match="no Machinery objects"):
            await asyncio.to_thread(call_command, "opcua_bridge", "--endpoint", server.endpoint.geturl(), "--browse", "--map", str(tmp_path / "m.json"))
        assert not (tmp_path / "m.json").exists()
    finally:
        await server.stop()


async def status(twin) -> str:
    return (await sync_to_async(Twin.objects.get)(pk=twin.pk)).status


async def test_the_starter_map_brings_machinery_item_state_into_the_twin_status(machinery_server, twins, people, tmp_path):
    map_file = tmp_path / "map.json"
    await asyncio.to_thread(call_command, "opcua_bridge", "--endpoint", endpoint(machinery_server), "--browse", "--map", str(map_file), "--factory", people["plant"].slug)
    bridge = OpcUaBridge(endpoint(machinery_server), load_map(json.loads(map_file.read_text())), period_ms=50)
    task = asyncio.create_task(bridge.run())
    press, cnc = twins["press"], twins["cnc"]
    try:
        await asyncio.wait_for(bridge.connected.wait(), 15)
        await wait_for(lambda: _is(status(press), "idle"), what="the initial NotExecuting")
        await wait_for(lambda: _is(status(cnc), "idle"), what="the CNC's initial NotExecuting")
        for state, expected in [("Executing", "running"), ("OutOfService", "down"), ("NotAvailable", "offline"), ("NotExecuting", "idle")]:
            await machinery_server.set_state(machinery_server.press, state)
            await wait_for(lambda expected=expected: _is(status(press), expected), what=f"{state} → {expected}")
        await machinery_server.set_state(machinery_server.cnc, "Executing", text="In Ausführung")  # a German server
        await wait_for(lambda: _is(status(cnc), "running"), what="a localised Executing, read by its Id")
        await machinery_server.press["temperature"].write_value(48.5)
        await wait_for(lambda: count(name="monitoring/temperature", value=48.5), what="a Monitoring variable")
        assert await status(press) == "idle"
    finally:
        bridge.stopping.set()
        await asyncio.wait_for(task, 10)


async def _is(awaitable, expected) -> bool:
    return await awaitable == expected


def test_map_entries_as_status_are_checked():
    target = load_map([{"node": "ns=2;s=M.CurrentState", "factory": "f", "twin": "m", "as": "status"}])[ua.NodeId.from_string("ns=2;s=M.CurrentState")]
    assert (target.name, target.as_) == ("status", "status")
    with pytest.raises(ValueError, match=r"map\[0\]: \"as\" must be one of status"):
        load_map([{"node": "ns=2;s=A", "factory": "f", "twin": "t", "as": "state"}])
    with pytest.raises(ValueError, match="leave name out"):
        load_map([{"node": "ns=2;s=A", "factory": "f", "twin": "t", "as": "status", "name": "mode"}])


def test_machinery_item_states_map_to_twin_statuses():
    assert [status_of(ua.NodeId(i, 3), 3) for i in (5005, 5004, 5006, 5007)] == ["offline", "down", "running", "idle"]
    assert [status_of(ua.LocalizedText(t, "en"), None) for t in ("NotAvailable", "OutOfService", "Executing", "NotExecuting")] == ["offline", "down", "running", "idle"]
    with pytest.raises(ValueError, match="not a MachineryItemState state"):
        status_of(ua.NodeId(5006, 2), 3)  # the right number in another namespace
    with pytest.raises(ValueError, match="not a MachineryItemState"):
        status_of(ua.LocalizedText("Running", "en"), 3)
