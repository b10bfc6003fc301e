"""The MQTT bridge against the real broker at $MQTT_URL (default mqtt://127.0.0.1:1883)."""
import json
import os
import threading
import time
import uuid
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
import pytest

from twins.management.commands.mqtt_bridge import MqttBridge
from twins.models import TelemetryPoint, Twin

pytestmark = pytest.mark.django_db(transaction=True)

MQTT_URL = os.environ.get("MQTT_URL", "mqtt://127.0.0.1:1883")


def wait_for(predicate, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def bridge():
    bridge = MqttBridge(MQTT_URL, client_id=f"test-bridge-{uuid.uuid4().hex[:8]}", clean_session=True)
    thread = threading.Thread(target=bridge.run, daemon=True)
    thread.start()
    if not bridge.connected.wait(10):
        raise AssertionError(f"the bridge could not connect to the MQTT broker at {MQTT_URL}")
    yield bridge
    bridge.stop()
    thread.join(10)
    assert not thread.is_alive()


@pytest.fixture
def publisher():
    url = urlparse(MQTT_URL)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-pub-{uuid.uuid4().hex[:8]}")
    client.connect(url.hostname, url.port or 1883)
    client.loop_start()

    def publish(topic, payload):
        info = client.publish(topic, payload if isinstance(payload, (bytes, str)) else json.dumps(payload), qos=1)
        info.wait_for_publish(5)

    yield publish
    client.disconnect()
    client.loop_stop()


def test_messages_are_stored_and_broken_ones_skipped(twins, people, bridge, publisher):
    slug = people["plant"].slug
    publisher(f"metaverse/{slug}/cnc-1/telemetry", {"values": {"temperature": 55.5, "status": "running"}})
    publisher(f"metaverse/{slug}/cnc-1/telemetry", b"{not json")
    publisher(f"metaverse/{slug}/cnc-1/telemetry", {"values": {"temperature": "NaN" * 30}})
    publisher(f"metaverse/{slug}/cnc-1/telemetry", b'{"values": {"temperature": NaN}}')
    publisher(f"metaverse/{slug}/cnc-1/telemetry", [1, 2])
    publisher(f"metaverse/{slug}/ghost/telemetry", {"values": {"t": 1}})
    publisher("metaverse/no-such-factory/cnc-1/telemetry", {"values": {"t": 1}})
    publisher(f"metaverse/{slug}/press-1/telemetry", {"ts": int(time.time() * 1000) - 1000, "values": {"parts": 3}})
    wait_for(lambda: TelemetryPoint.objects.count() >= 3, what="3 stored readings")
    time.sleep(0.3)
    assert sorted(TelemetryPoint.objects.values_list("name", flat=True)) == ["parts", "status", "temperature"]
    assert Twin.objects.get(pk=twins["cnc"].pk).status == "running"
    assert Twin.objects.get(pk=twins["press"].pk).values == {"parts": 3.0}
    assert bridge.ingester.skipped >= 6 and bridge.ingester.stored == 2


def test_a_burst_is_batched_and_all_of_it_is_stored(twins, people, bridge, publisher):
    for i in range(300):
        publisher(f"metaverse/{people['plant'].slug}/cnc-1/telemetry", {"values": {"n": i}})
    wait_for(lambda: TelemetryPoint.objects.count() == 300, what="300 readings")
    assert Twin.objects.get(pk=twins["cnc"].pk).values == {"n": 299.0}


def test_the_bridge_reconnects_after_the_broker_drops_it(twins, people, bridge, publisher):
    # The broker drops a client when another connects with the same client id: a real disconnect.
    url = urlparse(MQTT_URL)
    impostor = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=bridge.client_id, clean_session=True)
    impostor.connect(url.hostname, url.port or 1883)
    impostor.loop_start()
    wait_for(lambda: not bridge.connected.is_set(), what="the bridge to be dropped")
    impostor.disconnect()
    impostor.loop_stop()
    wait_for(bridge.connected.is_set, timeout=15, what="the bridge to reconnect")
    publisher(f"metaverse/{people['plant'].slug}/cnc-1/telemetry", {"values": {"after": 1}})
    wait_for(lambda: TelemetryPoint.objects.filter(name="after").exists(), what="a reading after the reconnect")


def run_bridge(client_id):
    bridge = MqttBridge(MQTT_URL, client_id=client_id)  # a persistent session, as in production
    thread = threading.Thread(target=bridge.run, daemon=True)
    thread.start()
    if not bridge.connected.wait(10):
        raise AssertionError(f"the bridge could not connect to the MQTT broker at {MQTT_URL}")
    return bridge, thread


def test_messages_sent_while_the_bridge_is_down_arrive_when_it_is_back(twins, people, publisher):
    client_id = f"test-persistent-{uuid.uuid4().hex[:8]}"
    bridge, thread = run_bridge(client_id)
    bridge.stop()
    thread.join(10)
    name = f"offline-{uuid.uuid4().hex[:8]}"  # the broker is shared: only this test's messages count
    for i in range(5):  # QoS 1 into the bridge's stored session
        publisher(f"metaverse/{people['plant'].slug}/cnc-1/telemetry", {"values": {name: i}})
    assert not TelemetryPoint.objects.filter(name=name).exists()
    bridge, thread = run_bridge(client_id)
    try:
        wait_for(lambda: TelemetryPoint.objects.filter(name=name).count() == 5, what="the 5 queued readings")
    finally:
        bridge.stop()
        thread.join(10)
        cleaner = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
        url = urlparse(MQTT_URL)
        cleaner.connect(url.hostname, url.port or 1883)  # drop the session on the broker
        cleaner.disconnect()
