"""`manage.py mqtt_bridge`: ingest every message on metaverse/{factory_slug}/{twin_key}/telemetry from MQTT_URL,
and every Sparkplug B BIRTH, DATA and DEATH on spBv1.0/# (twins/interfaces/sparkplug.py).

paho-mqtt 2.x, QoS 1 with a persistent session and manual acknowledgements: a message is acknowledged only
after its batch committed, so a crash loses nothing the broker delivered. Messages are batched (flushed at
500 messages, after 100 ms, or as soon as the inbox runs dry) into the one ingestion service. paho
reconnects by itself; a broken message is logged and skipped, never fatal.
"""
import json
import logging
import os
import queue
import signal
import socket
import threading
import time
from urllib.parse import unquote, urlparse

import paho.mqtt.client as mqtt
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from twins.interfaces import sparkplug
from twins.services.telemetry_bridge import BridgeIngester
from twins.twin_feed import feed

log = logging.getLogger("twins.mqtt_bridge")

TOPIC = "metaverse/+/+/telemetry"
TOPICS = [(TOPIC, 1), (sparkplug.TOPIC, 1)]
MAX_BATCH = 500
FLUSH_S = 0.1


def _reject_constant(name):
    raise ValueError(f"{name} is not a number")


def parse_message(topic: str, payload: bytes) -> tuple[str, dict]:
    """(factory_slug, point) of one message; ValueError says what is wrong with it."""
    parts = topic.split("/")
    if len(parts) != 4 or parts[0] != "metaverse" or parts[3] != "telemetry" or not parts[1] or not parts[2]:
        raise ValueError("topic is not metaverse/{factory}/{twin}/telemetry")
    try:
        body = json.loads(payload, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"payload is not JSON ({exc})") from None
    if not isinstance(body, dict) or not isinstance(body.get("values"), dict):
        raise ValueError('payload must be {"ts": optional, "values": {...}}')
    point = {"twin": parts[2], "values": body["values"]}
    if body.get("ts") is not None:
        point["ts"] = body["ts"]
    return parts[1], point


class MqttBridge:
    def __init__(self, url: str, *, client_id: str | None = None, clean_session: bool = False):
        parsed = urlparse(url)
        if parsed.scheme not in ("mqtt", "mqtts", "tcp", "ssl") or not parsed.hostname:
            raise ValueError(f"MQTT_URL must look like mqtt://host:1883, not {url!r}")
        self.host, self.tls = parsed.hostname, parsed.scheme in ("mqtts", "ssl")
        self.port = parsed.port or (8883 if self.tls else 1883)
        self.client_id = client_id or f"metaverse-bridge-{socket.gethostname()}"
        self.inbox: queue.Queue = queue.Queue()
        self.stopping = threading.Event()
        self.connected = threading.Event()
        self.ingester = BridgeIngester("mqtt")
        self.sparkplug = sparkplug.SparkplugHost(self._command)
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id, clean_session=clean_session)
        if parsed.username:
            self.client.username_pw_set(unquote(parsed.username), unquote(parsed.password or ""))
        if self.tls:
            self.client.tls_set()
        self.client.manual_ack_set(True)
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = lambda client, userdata, msg: self.inbox.put(msg)

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            log.error("MQTT connect to %s:%s refused: %s", self.host, self.port, reason_code)
            return
        client.subscribe(TOPICS)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        if any(code.is_failure for code in reason_codes):
            log.error("MQTT subscription to %s refused: %s", _topics(), reason_codes)
            return
        log.info("MQTT bridge connected to %s:%s, subscribed to %s", self.host, self.port, _topics())
        self.connected.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self.connected.clear()
        if not self.stopping.is_set():
            log.warning("MQTT connection lost (%s); reconnecting", reason_code)

    def _command(self, topic: str, payload: bytes) -> None:
        """Sparkplug B commands go out at QoS 0, never retained, as the specification asks."""
        self.client.publish(topic, payload, qos=0, retain=False)

    def _next_batch(self) -> list:
        try:
            batch = [self.inbox.get(timeout=0.2)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + FLUSH_S
        while len(batch) < MAX_BATCH:
            try:  # flush as soon as the inbox runs dry: the broker only lets a few unacked messages fly
                batch.append(self.inbox.get(timeout=min(0.005, max(0.0, deadline - time.monotonic()))))
            except queue.Empty:
                break
        return batch

    def process(self, batch: list) -> None:
        items = []
        for msg in batch:
            try:
                if msg.topic.startswith(sparkplug.NAMESPACE + "/"):
                    items.extend(self.sparkplug.handle(msg.topic, msg.payload))
                else:
                    slug, point = parse_message(msg.topic, msg.payload)
                    items.append((slug, point, f"message on {msg.topic}"))
            except ValueError as exc:
                log.warning("MQTT bridge: skipped broken message on %s: %s", msg.topic, exc)
                self.ingester.skipped += 1
        if items:
            self.ingester.ingest(items, should_stop=self.stopping.is_set)
        for msg in batch:
            if msg.qos > 0:
                self.client.ack(msg.mid, msg.qos)

    def run(self) -> None:
        self.client.connect_async(self.host, self.port, keepalive=30)
        self.client.loop_start()
        try:
            while not self.stopping.is_set():
                batch = self._next_batch()
                if batch:
                    self.process(batch)
        finally:
            self.client.disconnect()
            self.client.loop_stop()
            feed.wait_idle(2.0)
            connections.close_all()

    def stop(self) -> None:
        self.stopping.set()


def _topics() -> str:
    return ", ".join(topic for topic, _ in TOPICS)


class Command(BaseCommand):
    help = "Subscribe to MQTT_URL and ingest metaverse/{factory_slug}/{twin_key}/telemetry and Sparkplug B messages."

    def add_arguments(self, parser):
        parser.add_argument("--url", default=None, help="Overrides MQTT_URL.")
        parser.add_argument("--client-id", default=None, help="Stable id of the persistent MQTT session.")

    def handle(self, *args, url=None, client_id=None, **options):
        url = url or settings.MQTT_URL or os.environ.get("MQTT_URL", "")
        if not url:
            raise CommandError("Set MQTT_URL (e.g. mqtt://127.0.0.1:1883) or pass --url.")
        try:
            bridge = MqttBridge(url, client_id=client_id)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: bridge.stop())
        self.stdout.write(f"MQTT bridge: {bridge.host}:{bridge.port} topics {_topics()}")
        bridge.run()
        self.stdout.write(f"MQTT bridge stopped: {bridge.ingester.stored} points stored, {bridge.ingester.skipped} skipped.")
