"""Sparkplug B through the MQTT bridge against the real broker at $MQTT_URL, with messages made by Eclipse
Tahu's own encoder (the `tahutils` package): births, data by alias, sequence gaps, deaths."""
import asyncio
import json
import queue
import threading
import time
import uuid
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from tahutils.tahu import sparkplug_b as tahu
from tahutils.tahu.sparkplug_b_pb2 import Payload

from tests.twins.test_mqtt_bridge import MQTT_URL, wait_for
from twins.interfaces.sparkplug import REBIRTH_METRIC, SparkplugHost
from twins.management.commands.mqtt_bridge import MqttBridge
from twins.models import TelemetryPoint, Twin

pytestmark = pytest.mark.django_db(transaction=True)

DT = tahu.MetricDataType


@pytest.fixture
def bridge():
    bridge = MqttBridge(MQTT_URL, client_id=f"test-spb-bridge-{uuid.uuid4().hex[:8]}", clean_session=True)
    thread = threading.Thread(target=bridge.run, daemon=True)
    thread.start()
    if not bridge.connected.wait(10):
        raise AssertionError(f"the bridge could not connect to the MQTT broker at {MQTT_URL}")
    yield bridge
    bridge.stop()
    thread.join(10)
    assert not thread.is_alive()


class EdgeNode:
    """An edge node on the real broker that builds every payload with Tahu's encoder, and hears its NCMDs."""

    def __init__(self, group: str):
        self.group, self.id = group, f"edge-{uuid.uuid4().hex[:8]}"  # unique: the broker is shared
        self.commands: queue.Queue = queue.Queue()
        url = urlparse(MQTT_URL)
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-{self.id}")
        self.client.on_message = lambda client, userdata, msg: self.commands.put(Payload.FromString(msg.payload))
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *args: subscribed.set()
        death = tahu.getNodeDeathPayload()  # the will: the broker publishes it if the node vanishes
        self.client.will_set(self.topic("NDEATH"), death.SerializeToString(), qos=1)
        self.death = death
        self.client.connect(url.hostname, url.port or 1883)
        self.client.loop_start()
        self.client.subscribe(self.topic("NCMD"), qos=0)
        assert subscribed.wait(5), "the edge node could not subscribe to its NCMD topic"

    def topic(self, kind: str, device: str | None = None) -> str:
        return f"spBv1.0/{self.group}/{kind}/{self.id}" + (f"/{device}" if device else "")

    def send(self, kind: str, payload, device: str | None = None) -> None:
        self.client.publish(self.topic(kind, device), payload.SerializeToString(), qos=1).wait_for_publish(5)

    def birth(self, devices: dict[str, list[tuple]]) -> None:
        """NBIRTH, then a DBIRTH per device: metrics (name, alias, datatype, value)."""
        node = tahu.getNodeBirthPayload()
        tahu.addMetric(node, REBIRTH_METRIC, None, DT.Boolean, False)
        self.send("NBIRTH", node)
        for device, metrics in devices.items():
            payload = tahu.getDeviceBirthPayload()
            for name, alias, datatype, value in metrics:
                tahu.addMetric(payload, name, alias, datatype, value)
            self.send("DBIRTH", payload, device)

    def data(self, device: str, metrics: list[tuple], *, skip_seq: int = 0) -> None:
        """DDATA by alias only (no names), as edge nodes send it: metrics (alias, datatype, value)."""
        for _ in range(skip_seq):
            tahu.getSeqNum()  # a message that never arrived
        payload = tahu.getDdataPayload()
        for alias, datatype, value in metrics:
            tahu.addMetric(payload, None, alias, datatype, value)
        self.send("DDATA", payload, device)

    def vanish(self) -> None:
        """Drop off the network without a DISCONNECT: the broker publishes the will."""
        self.client.loop_stop()
        self.client.socket().close()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def edge(people):
    node = EdgeNode(people["plant"].slug)
    yield node
    node.close()


CNC = [("temperature", 1, DT.Double, 20.5), ("spindle_offset", 2, DT.Int32, -3), ("status", 3, DT.String, "idle"),
       ("door_open", 4, DT.Boolean, False)]


def test_births_then_data_by_alias_are_stored_under_the_metric_names(twins, bridge, edge):
    edge.birth({"cnc-1": CNC})
    wait_for(lambda: Twin.objects.get(pk=twins["cnc"].pk).status == "idle", what="the DBIRTH's values")
    edge.data("cnc-1", [(1, DT.Double, 71.25), (2, DT.Int32, -12), (3, DT.String, "running"), (4, DT.Boolean, True)])
    wait_for(lambda: TelemetryPoint.objects.filter(name="temperature", value=71.25).exists(), what="the DDATA")
    cnc = Twin.objects.get(pk=twins["cnc"].pk)
    assert cnc.values == {"temperature": 71.25, "spindle_offset": -12.0, "status": "running", "door_open": 1.0}
    assert cnc.status == "running"
    assert TelemetryPoint.objects.filter(twin=cnc).count() == 8  # 4 at birth, 4 by alias
    assert bridge.sparkplug.rebirths_requested == 0 and edge.commands.empty()


def test_a_sequence_gap_asks_the_edge_node_for_a_rebirth(twins, bridge, edge):
    edge.birth({"cnc-1": CNC})
    edge.data("cnc-1", [(1, DT.Double, 30.0)])
    wait_for(lambda: TelemetryPoint.objects.filter(name="temperature", value=30.0).exists(), what="the first DDATA")
    assert edge.commands.empty() and bridge.sparkplug.rebirths_requested == 0
    edge.data("cnc-1", [(1, DT.Double, 31.0)], skip_seq=1)
    command = edge.commands.get(timeout=5)
    assert [(m.name, m.boolean_value) for m in command.metrics] == [(REBIRTH_METRIC, True)]
    assert bridge.sparkplug.rebirths_requested == 1
    # The data of the message after the gap is still good: it is stored.
    wait_for(lambda: TelemetryPoint.objects.filter(name="temperature", value=31.0).exists(), what="the DDATA after the gap")


def test_data_from_a_node_whose_birth_the_bridge_missed_asks_for_a_rebirth(twins, edge, people):
    tahu.getNodeBirthPayload()  # the edge node's session started before the bridge came up
    edge.data("cnc-1", [(1, DT.Double, 44.0)])
    bridge = MqttBridge(MQTT_URL, client_id=f"test-spb-late-{uuid.uuid4().hex[:8]}", clean_session=True)
    thread = threading.Thread(target=bridge.run, daemon=True)
    thread.start()
    try:
        assert bridge.connected.wait(10)
        edge.data("cnc-1", [(1, DT.Double, 45.0)])
        command = edge.commands.get(timeout=5)
        assert command.metrics[0].name == REBIRTH_METRIC and command.metrics[0].boolean_value
        edge.birth({"cnc-1": CNC})  # the rebirth: from now on its aliases mean something
        edge.data("cnc-1", [(1, DT.Double, 46.0)])
        wait_for(lambda: TelemetryPoint.objects.filter(name="temperature", value=46.0).exists(), what="data after the rebirth")
        assert not TelemetryPoint.objects.filter(value__in=[44.0, 45.0]).exists()
    finally:
        bridge.stop()
        thread.join(10)


@pytest.fixture
async def close_thread_connections():
    yield
    from django.db import connections

    await sync_to_async(connections.close_all)()


class RoomUpdates:
    """Every twin.changed update the factory's channel-layer group carries, in order."""

    def __init__(self, layer, channel):
        self.layer, self.channel, self.seen = layer, channel, []

    async def wait(self, key: str, status: str, timeout: float = 5.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for update in self.seen:
                if update["key"] == key and update["status"] == status:
                    return update
            message = await asyncio.wait_for(self.layer.receive(self.channel), max(0.01, deadline - time.monotonic()))
            frame = json.loads(message["text"])
            if frame["type"] == "twin.changed":
                self.seen.extend(frame["updates"])


async def test_death_sets_the_twins_offline_and_the_room_hears_it(twins, people, bridge, edge, close_thread_connections):
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(f"factory.{people['plant'].id}", channel)
    room = RoomUpdates(layer, channel)
    await asyncio.to_thread(edge.birth, {"cnc-1": CNC, "press-1": [("pressure", 10, DT.Float, 2.5)]})
    await room.wait("press-1", "unknown")  # born without a status metric: online, state not reported
    await room.wait("cnc-1", "idle")

    ddeath = tahu.getDdataPayload()
    await asyncio.to_thread(edge.send, "DDEATH", ddeath, "press-1")
    update = await room.wait("press-1", "offline")
    assert update["twin"] == twins["press"].id
    assert (await sync_to_async(Twin.objects.get)(pk=twins["cnc"].pk)).status == "idle"

    # The node vanishes without a word: the broker publishes its will, the NDEATH; every device alive goes offline.
    edge.vanish()
    await room.wait("cnc-1", "offline", timeout=20)
    assert (await sync_to_async(Twin.objects.get)(pk=twins["cnc"].pk)).status == "offline"


def _payload(kind: str, metrics=(), *, seq=None, timestamp=True) -> bytes:
    payload = Payload()
    if timestamp:
        payload.timestamp = int(time.time() * 1000)
    if seq is not None:
        payload.seq = seq
    for name, alias, datatype, value in metrics:
        tahu.addMetric(payload, name, alias, datatype, value)
    return payload.SerializeToString()


def test_a_stale_ndeath_of_an_earlier_session_is_ignored():
    sent = []
    host = SparkplugHost(lambda topic, payload: sent.append(topic))
    host.handle("spBv1.0/plant/NBIRTH/e1", _payload("NBIRTH", [("bdSeq", None, DT.Int64, 4)], seq=0))
    host.handle("spBv1.0/plant/DBIRTH/e1/cnc-1", _payload("DBIRTH", [("t", 1, DT.Double, 1.0)], seq=1))
    assert host.handle("spBv1.0/plant/NDEATH/e1", _payload("NDEATH", [("bdSeq", None, DT.Int64, 3)], timestamp=False)) == []
    items = host.handle("spBv1.0/plant/NDEATH/e1", _payload("NDEATH", [("bdSeq", None, DT.Int64, 4)], timestamp=False))
    assert [(slug, point["twin"], point["values"]) for slug, point, _ in items] == [("plant", "cnc-1", {"status": "offline"})]
    assert sent == []


def test_broken_sparkplug_messages_are_refused_with_a_reason_and_commands_ignored():
    host = SparkplugHost(lambda topic, payload: None)
    with pytest.raises(ValueError, match="not a Sparkplug B protobuf"):
        host.handle("spBv1.0/plant/NDATA/e1", b"\xff\xff\xff")
    with pytest.raises(ValueError, match="not a Sparkplug B message type"):
        host.handle("spBv1.0/plant/DDATA/e1", _payload("DDATA"))
    with pytest.raises(ValueError, match="topic is not"):
        host.handle("spBv1.0/plant/NDATA", _payload("NDATA"))
    assert host.handle("spBv1.0/plant/NCMD/e1", _payload("NCMD", [(REBIRTH_METRIC, None, DT.Boolean, True)])) == []
    assert host.handle("spBv1.0/STATE/scada-1", b'{"online": true}') == []
