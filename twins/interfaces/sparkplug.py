"""Sparkplug B 3.0 as a host application sees it: BIRTH, DATA and DEATH messages of edge nodes and their
devices become telemetry points (CONTRACT §10).

`spBv1.0/{group}/{NBIRTH|NDATA|NDEATH}/{edge}` and `spBv1.0/{group}/{DBIRTH|DDATA|DDEATH}/{edge}/{device}`:
group = factory slug, device (or the edge node, for its own metrics) = twin key, metric name = value name.
Payloads are decoded with Eclipse Tahu's protobuf module (the `tahutils` package). Per edge node the host
keeps what the BIRTH messages defined (aliases, datatypes, the devices alive, bdSeq) and the next `seq`;
a gap in `seq`, data from a node it has no birth for, or an alias it does not know asks that edge node for a
rebirth (an NCMD `Node Control/Rebirth` = true), as the specification says. A DEATH sets the twin `offline`
(an NDEATH: the node and every device alive under it), a BIRTH without a `status` metric sets it `unknown`
(back online, state not reported). Each metric becomes a point of its own, so that one unstorable metric
(an odd name, a NaN) is logged and skipped without the rest of its message.
"""
import logging
import time
from dataclasses import dataclass, field

from google.protobuf.message import DecodeError
from tahutils.tahu import sparkplug_b as tahu
from tahutils.tahu.sparkplug_b_pb2 import Payload

log = logging.getLogger("twins.sparkplug")

NAMESPACE = "spBv1.0"
TOPIC = f"{NAMESPACE}/#"
REBIRTH_METRIC = "Node Control/Rebirth"
REBIRTH_EVERY_S = 5.0  # at most one rebirth request per edge node in this time: a rebirth takes a moment
NODE_TYPES = frozenset({"NBIRTH", "NDATA", "NDEATH"})
DEVICE_TYPES = frozenset({"DBIRTH", "DDATA", "DDEATH"})
IGNORED_TYPES = frozenset({"NCMD", "DCMD", "STATE"})  # commands (ours included) and host states are not telemetry
RESERVED_PREFIXES = ("Node Control/", "Device Control/")
DT = tahu.MetricDataType
SIGNED_BITS = {DT.Int8: 8, DT.Int16: 16, DT.Int32: 32, DT.Int64: 64}


@dataclass
class _Node:
    """What one edge node's last NBIRTH (and its devices' DBIRTHs) established."""

    born: bool = False
    next_seq: int | None = None
    bd_seq: int | None = None
    has_values: bool = False  # the NBIRTH carried metrics of its own: the edge node is a twin too
    devices: set = field(default_factory=set)
    aliases: dict = field(default_factory=dict)  # scope (device id, or None for the node) -> {alias: (name, datatype)}
    datatypes: dict = field(default_factory=dict)  # scope -> {name: datatype}
    last_rebirth: float = float("-inf")


def parse_topic(topic: str) -> tuple[str, str, str, str | None] | None:
    """(group, message type, edge node, device or None); None for messages a host ignores; ValueError if broken."""
    parts = topic.split("/")
    if len(parts) >= 2 and parts[1] == "STATE" or len(parts) >= 3 and parts[2] in IGNORED_TYPES:
        return None
    if parts[0] != NAMESPACE or len(parts) not in (4, 5) or not all(parts):
        raise ValueError(f"topic is not {NAMESPACE}/{{group}}/{{type}}/{{edge}}[/{{device}}]")
    group, kind, edge = parts[1], parts[2], parts[3]
    device = parts[4] if len(parts) == 5 else None
    if kind in NODE_TYPES and device is None or kind in DEVICE_TYPES and device is not None:
        return group, kind, edge, device
    raise ValueError(f"{kind} is not a Sparkplug B message type for this topic")


def metric_value(metric, datatype: int | None):
    """The metric's value as telemetry stores it (a number or a string); None for a null metric."""
    if metric.is_null:
        return None
    kind = metric.WhichOneof("value")
    if kind in ("int_value", "long_value"):
        value = getattr(metric, kind)
        bits = SIGNED_BITS.get(datatype)
        if bits and value >= 1 << (bits - 1):  # signed integers travel as two's complement in unsigned fields
            value -= 1 << bits
        return value
    if kind in ("float_value", "double_value", "string_value"):
        return getattr(metric, kind)
    if kind == "boolean_value":
        return 1.0 if metric.boolean_value else 0.0
    raise ValueError(f"metrics of datatype {datatype} ({kind or 'no value'}) are not stored")


def rebirth_request() -> bytes:
    """An NCMD payload asking an edge node to publish its BIRTH messages again."""
    payload = Payload()
    payload.timestamp = int(time.time() * 1000)
    tahu.addMetric(payload, REBIRTH_METRIC, None, DT.Boolean, True)
    return payload.SerializeToString()


class SparkplugHost:
    """Turns Sparkplug B messages, fed in arrival order, into `(factory_slug, point, origin)` items for the
    bridge's ingester; `publish(topic, payload)` sends the rebirth requests."""

    def __init__(self, publish, *, clock=time.monotonic, rebirth_every_s: float = REBIRTH_EVERY_S):
        self.publish, self.clock, self.rebirth_every_s = publish, clock, rebirth_every_s
        self.nodes: dict[tuple[str, str], _Node] = {}
        self.rebirths_requested = 0

    def handle(self, topic: str, raw: bytes) -> list[tuple[str, dict, str]]:
        parsed = parse_topic(topic)
        if parsed is None:
            return []
        group, kind, edge, device = parsed
        try:
            payload = Payload.FromString(raw)
        except (DecodeError, ValueError) as exc:
            raise ValueError(f"payload is not a Sparkplug B protobuf ({exc})") from None
        node = self.nodes.setdefault((group, edge), _Node())
        if kind == "NBIRTH":
            return self._node_birth(node, group, edge, payload, topic)
        if kind == "NDEATH":
            return self._node_death(node, group, edge, payload, topic)
        self._check_seq(node, group, edge, payload, topic)
        if kind == "DBIRTH":
            return self._device_birth(node, group, edge, device, payload, topic)
        if kind == "DDEATH":
            node.devices.discard(device)
            return [(group, {"twin": device, "ts": _ts(payload), "values": {"status": "offline"}}, topic)]
        return self._items(node, group, edge, device or edge, device, payload, topic)

    def _node_birth(self, node: _Node, group, edge, payload, topic):
        fresh = _Node(born=True, next_seq=(payload.seq + 1) % 256 if payload.HasField("seq") else None)
        fresh.last_rebirth = node.last_rebirth
        for metric in payload.metrics:
            if metric.name == "bdSeq":
                fresh.bd_seq = metric_value(metric, metric.datatype)
        self.nodes[(group, edge)] = fresh
        items = self._birth_items(fresh, group, edge, edge, None, payload, topic)
        fresh.has_values = bool(items)
        return items

    def _device_birth(self, node: _Node, group, edge, device, payload, topic):
        node.devices.add(device)
        node.aliases[device], node.datatypes[device] = {}, {}
        return self._birth_items(node, group, edge, device, device, payload, topic)

    def _birth_items(self, node: _Node, group, edge, twin, scope, payload, topic):
        """Record the aliases and datatypes a BIRTH defines; its values are the twin's current state."""
        aliases, datatypes = node.aliases.setdefault(scope, {}), node.datatypes.setdefault(scope, {})
        for metric in payload.metrics:
            if metric.name:
                datatypes[metric.name] = metric.datatype
                if metric.HasField("alias"):
                    aliases[metric.alias] = (metric.name, metric.datatype)
        items = self._items(node, group, edge, twin, scope, payload, topic)
        if items and not any("status" in point["values"] for _, point, _ in items):
            items.append((group, {"twin": twin, "ts": _ts(payload), "values": {"status": "unknown"}}, f"{topic} (born)"))
        return items

    def _node_death(self, node: _Node, group, edge, payload, topic):
        bd_seq = next((metric_value(m, m.datatype) for m in payload.metrics if m.name == "bdSeq"), None)
        if node.born and bd_seq is not None and node.bd_seq is not None and bd_seq != node.bd_seq:
            log.info("Sparkplug: ignored a stale NDEATH of %s/%s (bdSeq %s, the live session's is %s)", group, edge, bd_seq, node.bd_seq)
            return []
        twins = sorted(node.devices) + ([edge] if node.has_values or not node.born else [])
        self.nodes[(group, edge)] = _Node(last_rebirth=node.last_rebirth)
        return [(group, {"twin": twin, "values": {"status": "offline"}}, topic) for twin in twins]

    def _items(self, node: _Node, group, edge, twin, scope, payload, topic):
        items, unknown = [], False
        aliases, datatypes = node.aliases.get(scope, {}), node.datatypes.get(scope, {})
        for metric in payload.metrics:
            if metric.name:
                name, datatype = metric.name, metric.datatype or datatypes.get(metric.name)
            elif metric.HasField("alias") and metric.alias in aliases:
                name, datatype = aliases[metric.alias]
            else:
                unknown = True
                continue
            if name == "bdSeq" or name.startswith(RESERVED_PREFIXES):
                continue
            try:
                value = metric_value(metric, datatype)
            except ValueError as exc:
                log.warning("Sparkplug: skipped metric %r of %s: %s", name, topic, exc)
                continue
            if value is None:
                continue
            ts = metric.timestamp if metric.HasField("timestamp") else _ts(payload)
            point = {"twin": twin, "values": {name: value}}
            if ts is not None:
                point["ts"] = ts
            items.append((group, point, f"metric {name!r} of {topic}"))
        if unknown:
            self._ask_rebirth(node, group, edge, topic, "a metric alias that no BIRTH defined")
        return items

    def _check_seq(self, node: _Node, group, edge, payload, topic) -> None:
        seq = payload.seq if payload.HasField("seq") else None
        if node.next_seq is None:
            self._ask_rebirth(node, group, edge, topic, "no NBIRTH of this edge node was seen")
        elif seq != node.next_seq:
            self._ask_rebirth(node, group, edge, topic, f"seq {seq} where {node.next_seq} was due")
        if seq is not None:
            node.next_seq = (seq + 1) % 256

    def _ask_rebirth(self, node: _Node, group, edge, topic, why: str) -> None:
        now = self.clock()
        if now - node.last_rebirth < self.rebirth_every_s:
            return
        node.last_rebirth = now
        self.rebirths_requested += 1
        log.warning("Sparkplug: %s on %s; asking %s/%s for a rebirth", why, topic, group, edge)
        self.publish(f"{NAMESPACE}/{group}/NCMD/{edge}", rebirth_request())


def _ts(payload) -> int | None:
    return payload.timestamp if payload.HasField("timestamp") else None
