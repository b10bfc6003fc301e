"""OPC UA for Machinery (OPC 40001-1): the MachineryItemState of a machine as a twin status, and a browse of a
server's machines that writes a starter map for `opcua_bridge`.

A machine is an object under Objects/Machines, or any object that has a MachineryItemState or an
Identification (OPC 10000-100, DI) child. Its MachineryItemState is a finite state machine whose
`CurrentState` (a LocalizedText) has an `Id` property: the NodeId of the state object of the type, i=5004…5007
in the Machinery namespace. A map entry `"as": "status"` on the `Id` maps by NodeId (robust to localised
names); on `CurrentState` itself it maps by the English state name.
"""
import re

from asyncua import ua

MACHINERY_NS = "http://opcfoundation.org/UA/Machinery/"
STATUS_BY_STATE_ID = {5005: "offline", 5004: "down", 5006: "running", 5007: "idle"}
STATUS_BY_STATE_NAME = {"NotAvailable": "offline", "OutOfService": "down", "Executing": "running", "NotExecuting": "idle"}
STATE_PATHS = (("MachineryItemState",), ("MachineryBuildingBlocks", "MachineryItemState"), ("Monitoring", "Status", "MachineryItemState"))
IDENTIFICATION_FIELDS = ("Manufacturer", "Model", "SerialNumber", "ProductInstanceUri")
NOT_TELEMETRY = frozenset({"Identification", "MachineryBuildingBlocks", "MachineryItemState", "MachineryOperationMode"})
SCALARS = {ua.VariantType.Boolean, ua.VariantType.SByte, ua.VariantType.Byte, ua.VariantType.Int16, ua.VariantType.UInt16,
           ua.VariantType.Int32, ua.VariantType.UInt32, ua.VariantType.Int64, ua.VariantType.UInt64, ua.VariantType.Float,
           ua.VariantType.Double, ua.VariantType.String}
MAX_DEPTH = 4  # from Objects when looking for machines; within a machine when looking for its variables
MAX_NODES = 5000  # browsing stops here: a big server's address space is not walked whole
MAX_VARIABLES = 50  # per machine in the starter map


def status_of(value, machinery_ns: int | None) -> str:
    """The twin status that a MachineryItemState's CurrentState (or its Id) means; ValueError if none."""
    if isinstance(value, ua.NodeId):
        if machinery_ns is not None and value.NamespaceIndex == machinery_ns and value.Identifier in STATUS_BY_STATE_ID:
            return STATUS_BY_STATE_ID[value.Identifier]
        raise ValueError(f"{value.to_string()} is not a MachineryItemState state of {MACHINERY_NS}")
    text = value.Text if isinstance(value, ua.LocalizedText) else value
    if isinstance(text, str) and text in STATUS_BY_STATE_NAME:
        return STATUS_BY_STATE_NAME[text]
    raise ValueError(f"{text!r} is not a MachineryItemState (NotAvailable, OutOfService, Executing, NotExecuting)")


def twin_key(name: str) -> str:
    """A twin key from a machine's browse name: `Press 1` → `press-1`."""
    return re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-")[:80] or "machine"


def value_name(path: list[str]) -> str:
    """A telemetry value name from a variable's browse path below the machine: Monitoring/Spindle Speed → monitoring/spindle_speed."""
    name = "/".join(re.sub(r"[^A-Za-z0-9_.:-]+", "_", part).strip("_") for part in path).lower()
    return name[:64]


async def _children(node) -> dict[str, ua.ReferenceDescription]:
    return {ref.BrowseName.Name: ref for ref in await node.get_children_descriptions()}


async def _find(client, node, path) -> ua.ReferenceDescription | None:
    ref = None
    for name in path:
        ref = (await _children(node)).get(name)
        if ref is None:
            return None
        node = client.get_node(ref.NodeId)
    return ref


async def machines(client) -> list[dict]:
    """The server's machines: `{node, name, identification, state_node, state_kind, state}` each."""
    found, seen, budget = [], set(), [MAX_NODES]
    objects = client.nodes.objects
    machines_folder = (await _children(objects)).get("Machines")
    if machines_folder is not None:
        for ref in (await _children(client.get_node(machines_folder.NodeId))).values():
            if ref.NodeClass == ua.NodeClass.Object:
                found.append(await _describe(client, ref))
                seen.add(ref.NodeId)
    await _walk(client, objects, 0, found, seen | {machines_folder.NodeId if machines_folder else None, ua.NodeId(2253)}, budget)
    return found


async def _walk(client, node, depth, found, seen, budget) -> None:
    if depth >= MAX_DEPTH:
        return
    for ref in (await _children(node)).values():
        if ref.NodeClass != ua.NodeClass.Object or ref.NodeId in seen or budget[0] <= 0:
            continue
        seen.add(ref.NodeId)
        budget[0] -= 1
        child = client.get_node(ref.NodeId)
        names = await _children(child)
        if "MachineryItemState" in names or "Identification" in names or "MachineryBuildingBlocks" in names:
            found.append(await _describe(client, ref))
        else:
            await _walk(client, child, depth + 1, found, seen, budget)


async def _describe(client, ref) -> dict:
    node = client.get_node(ref.NodeId)
    machine = {"node": ref.NodeId.to_string(), "name": ref.BrowseName.Name, "identification": {}, "state_node": None, "state": None}
    identification = await _find(client, node, ("Identification",))
    if identification is not None:
        fields = await _children(client.get_node(identification.NodeId))
        for name in IDENTIFICATION_FIELDS:
            if name in fields:
                value = await client.get_node(fields[name].NodeId).read_value()
                machine["identification"][name] = value.Text if isinstance(value, ua.LocalizedText) else str(value)
    for path in STATE_PATHS:
        state = await _find(client, node, path)
        if state is None:
            continue
        current = await _find(client, client.get_node(state.NodeId), ("CurrentState",))
        if current is None:
            continue
        state_id = await _find(client, client.get_node(current.NodeId), ("Id",))
        machine["state_node"] = (state_id or current).NodeId.to_string()
        text = await client.get_node(current.NodeId).read_value()
        machine["state"] = text.Text if isinstance(text, ua.LocalizedText) else str(text)
        break
    machine["variables"] = await _variables(client, node, [], 0, [MAX_VARIABLES])
    return machine


async def _variables(client, node, path, depth, budget) -> list[tuple[str, list[str]]]:
    """(node id, browse path) of the scalar variables below a machine, not its identification or state."""
    found = []
    if depth >= MAX_DEPTH:
        return found
    for ref in await node.get_children_descriptions(refs=ua.ObjectIds.HierarchicalReferences):
        if budget[0] <= 0 or ref.BrowseName.Name in NOT_TELEMETRY or ref.ReferenceTypeId == ua.NodeId(ua.ObjectIds.HasProperty):
            continue
        child = client.get_node(ref.NodeId)
        if ref.NodeClass == ua.NodeClass.Variable:
            if await child.read_data_type_as_variant_type() in SCALARS and await child.read_value_rank() in (-1, -3, 0):
                found.append((ref.NodeId.to_string(), [*path, ref.BrowseName.Name]))
                budget[0] -= 1
        elif ref.NodeClass == ua.NodeClass.Object:
            found.extend(await _variables(client, child, [*path, ref.BrowseName.Name], depth + 1, budget))
    return found


def starter_map(found: list[dict], *, factory: str) -> list[dict]:
    """Map entries for every machine found: its state as the twin's status, and its scalar variables."""
    entries = []
    for machine in found:
        key = twin_key(machine["name"])
        if machine["state_node"]:
            entries.append({"node": machine["state_node"], "factory": factory, "twin": key, "as": "status"})
        for node, path in machine["variables"]:
            entries.append({"node": node, "factory": factory, "twin": key, "name": value_name(path)})
    return entries
