"""`manage.py opcua_bridge --endpoint opc.tcp://HOST:PORT --map FILE`: data-change subscriptions (not polling)
on the mapped OPC UA nodes, each change ingested like a telemetry point; reconnects with backoff.

The map is JSON: `[{"node": "ns=2;s=Press1.Temperature", "factory": "demo-plant", "twin": "press-1", "name": "temperature"}]`.
Booleans become 0/1; numbers and strings pass through; the source timestamp is the point's `ts`. An entry
`{"node", "factory", "twin", "as": "status"}` on a MachineryItemState's CurrentState (or its Id) sets the twin's
status (OPC 40001-1, twins/interfaces/machinery.py). `--browse` lists the server's machines and writes a
starter map of them instead.
"""
import asyncio
import json
import logging
import os
import signal
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from asyncua import Client, ua
from django.core.management.base import BaseCommand, CommandError
from django.db import connections as db_connections

from twins.interfaces import machinery
from twins.services.telemetry_bridge import BridgeIngester
from twins.twin_feed import feed

log = logging.getLogger("twins.opcua_bridge")

FLUSH_S = 0.1
MAX_BATCH = 500
MAX_BACKOFF_S = 30.0


AS_KINDS = ("status",)


@dataclass(frozen=True)
class Target:
    """Where a node's changes go: a value of a twin, or (`as_ = "status"`) the twin's MachineryItemState."""

    factory: str
    twin: str
    name: str
    as_: str | None = None


def load_map(entries) -> dict:
    """{NodeId: Target}; ValueError names the bad entry."""
    if not isinstance(entries, list) or not entries:
        raise ValueError("the map must be a non-empty JSON list")
    mapping = {}
    for i, entry in enumerate(entries):
        as_ = entry.get("as") if isinstance(entry, dict) else None
        needed = ("node", "factory", "twin") if as_ is not None else ("node", "factory", "twin", "name")
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) and entry.get(k) for k in needed):
            raise ValueError(f"map[{i}] needs the strings {', '.join(needed[:-1])} and {needed[-1]}")
        if as_ is not None and as_ not in AS_KINDS:
            raise ValueError(f"map[{i}]: \"as\" must be one of {', '.join(AS_KINDS)}, not {as_!r}")
        if as_ is not None and entry.get("name", as_) != as_:
            raise ValueError(f"map[{i}]: an \"as\": \"{as_}\" entry is stored as the value {as_}; leave name out")
        try:
            node_id = ua.NodeId.from_string(entry["node"])
        except Exception:
            raise ValueError(f"map[{i}]: {entry['node']!r} is not an OPC UA node id") from None
        mapping[node_id] = Target(entry["factory"], entry["twin"], as_ or entry["name"], as_)
    return mapping


def _value(val):
    if isinstance(val, bool):
        return float(val)
    if isinstance(val, (int, float, str)):
        return val
    raise ValueError(f"unsupported value type {type(val).__name__}")


def _ts(data_value) -> str:
    ts = getattr(data_value, "SourceTimestamp", None) or getattr(data_value, "ServerTimestamp", None) or datetime.now(UTC)
    return (ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts).isoformat()


class _Handler:
    def __init__(self, bridge: "OpcUaBridge", lost: asyncio.Event):
        self.bridge, self.lost = bridge, lost

    def datachange_notification(self, node, val, data):
        target = self.bridge.mapping.get(node.nodeid)
        if target is None:
            return
        try:
            value = machinery.status_of(val, self.bridge.machinery_ns) if target.as_ == "status" else _value(val)
            point = {"twin": target.twin, "ts": _ts(data.monitored_item.Value), "values": {target.name: value}}
        except ValueError as exc:
            log.warning("OPC UA bridge: skipped change of %s: %s", node.nodeid.to_string(), exc)
            return
        self.bridge.inbox.put_nowait((target.factory, point, f"change of {node.nodeid.to_string()}"))

    def status_change_notification(self, status):
        log.warning("OPC UA subscription status: %s", status)
        self.lost.set()


class OpcUaBridge:
    def __init__(self, endpoint: str, mapping: dict, *, period_ms: int = 100):
        self.endpoint, self.mapping, self.period_ms = endpoint, mapping, period_ms
        self.ingester = BridgeIngester("opcua")
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.stopping = asyncio.Event()
        self.connected = asyncio.Event()
        self.connections = 0
        self.machinery_ns: int | None = None  # the server's index of the Machinery namespace, per session
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="opcua-db")  # one thread, one DB connection

    async def _writer(self) -> None:
        while True:
            items = [await self.inbox.get()]
            deadline = asyncio.get_running_loop().time() + FLUSH_S
            while len(items) < MAX_BATCH:
                try:
                    items.append(await asyncio.wait_for(self.inbox.get(), max(0.0, deadline - asyncio.get_running_loop().time())))
                except asyncio.TimeoutError:
                    break
            try:
                await asyncio.get_running_loop().run_in_executor(self._db, self.ingester.ingest, items)
            except Exception:
                log.exception("OPC UA bridge: %d change(s) could not be stored", len(items))

    async def _session(self) -> None:
        lost = asyncio.Event()
        client = Client(self.endpoint, timeout=4, watchdog_intervall=1.0)

        async def on_lost(exc):
            lost.set()

        client.connection_lost_callback = on_lost
        try:
            await client.connect()
            namespaces = await client.get_namespace_array()
            self.machinery_ns = namespaces.index(machinery.MACHINERY_NS) if machinery.MACHINERY_NS in namespaces else None
            subscription = await client.create_subscription(self.period_ms, _Handler(self, lost))
            nodes = [client.get_node(node_id) for node_id in self.mapping]
            results = await subscription.subscribe_data_change(nodes)
            for node, result in zip(nodes, results):
                if isinstance(result, ua.StatusCode):
                    log.error("OPC UA bridge: cannot subscribe to %s: %s", node.nodeid.to_string(), result)
            self.connections += 1
            self.connected.set()
            log.info("OPC UA bridge connected to %s, %d node(s) subscribed", self.endpoint, len(nodes))
            stop = asyncio.create_task(self.stopping.wait())
            gone = asyncio.create_task(lost.wait())
            await asyncio.wait([stop, gone], return_when=asyncio.FIRST_COMPLETED)
            stop.cancel()
            gone.cancel()
        finally:
            self.connected.clear()
            try:
                await asyncio.wait_for(client.disconnect(), 2)
            except Exception:
                pass

    async def run(self) -> None:
        writer = asyncio.create_task(self._writer())
        delay = 1.0
        try:
            while not self.stopping.is_set():
                connections = self.connections
                try:
                    await self._session()
                except Exception as exc:  # refused, timed out, server gone mid-handshake …
                    log.warning("OPC UA bridge: %s unreachable (%s); retrying in %.0f s", self.endpoint, exc or type(exc).__name__, delay)
                if self.stopping.is_set():
                    break
                delay = 1.0 if self.connections > connections else min(delay * 2, MAX_BACKOFF_S)
                try:
                    await asyncio.wait_for(self.stopping.wait(), delay)
                except asyncio.TimeoutError:
                    pass
        finally:
            while not self.inbox.empty():  # store what already arrived
                await asyncio.sleep(FLUSH_S)
            writer.cancel()
            await asyncio.get_running_loop().run_in_executor(self._db, db_connections.close_all)
            self._db.shutdown(wait=False)
            await asyncio.to_thread(feed.wait_idle, 2.0)


class Command(BaseCommand):
    help = "Subscribe to the mapped OPC UA nodes and ingest every data change as telemetry."

    def add_arguments(self, parser):
        parser.add_argument("--endpoint", required=True, help="opc.tcp://HOST:PORT[/path]")
        parser.add_argument("--map", dest="map_file", help="JSON list of {node, factory, twin, name} (with --browse: the file to write)")
        parser.add_argument("--period-ms", type=int, default=100, help="Publishing interval of the subscription.")
        parser.add_argument("--browse", action="store_true", help="List the server's Machinery objects and write a starter map.")
        parser.add_argument("--factory", default="demo-plant", help="With --browse: the factory slug of the starter map.")

    def handle(self, *args, endpoint, map_file, period_ms, browse, factory, **options):
        if browse:
            return self._browse(endpoint, map_file or "opcua-map.json", factory)
        if not map_file:
            raise CommandError("--map FILE is required (or --browse to write a starter map).")
        try:
            with open(map_file, encoding="utf-8") as fh:
                mapping = load_map(json.load(fh))
        except (OSError, ValueError) as exc:
            raise CommandError(f"--map {map_file}: {exc}") from None
        asyncio.run(self._run(OpcUaBridge(endpoint, mapping, period_ms=period_ms)))

    def _browse(self, endpoint: str, map_file: str, factory: str) -> None:
        if os.path.exists(map_file):
            raise CommandError(f"--map {map_file} exists; the starter map never overwrites a map. Name another file.")
        try:
            found = asyncio.run(_browse(endpoint))
        except (OSError, TimeoutError, ua.UaError) as exc:
            raise CommandError(f"{endpoint}: {exc or type(exc).__name__}") from None
        if not found:
            raise CommandError(f"{endpoint} has no Machinery objects (nothing under Objects/Machines, no MachineryItemState or Identification).")
        for machine in found:
            ident = ", ".join(f"{k} {v}" for k, v in machine["identification"].items()) or "no identification"
            state = f"{machine['state']} ({machine['state_node']})" if machine["state_node"] else "no MachineryItemState"
            self.stdout.write(f"{machine['name']}  {machine['node']}  {ident}; state {state}; {len(machine['variables'])} variable(s)")
        entries = machinery.starter_map(found, factory=factory)
        with open(map_file, "w", encoding="utf-8") as fh:
            json.dump(entries, fh, indent=2)
            fh.write("\n")
        self.stdout.write(f"Wrote {len(entries)} map entries for {len(found)} machine(s) to {map_file}; twin keys come from the browse names: check them, create the twins, then run with --map {map_file}.")

    async def _run(self, bridge: OpcUaBridge) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, bridge.stopping.set)
        self.stdout.write(f"OPC UA bridge: {bridge.endpoint}, {len(bridge.mapping)} node(s)")
        await bridge.run()
        self.stdout.write(f"OPC UA bridge stopped: {bridge.ingester.stored} points stored, {bridge.ingester.skipped} skipped.")


async def _browse(endpoint: str) -> list[dict]:
    client = Client(endpoint, timeout=10)
    async with client:
        return await machinery.machines(client)
