"""`twin.changed` coalescing: the latest state per twin, at most one frame per factory per tick (100 ms).

Per process: whichever process ingests (daphne, an MQTT/OPC UA bridge, the demo feed) holds the pending
updates in memory and a daemon thread sends them to the channel-layer group `factory.{id}` (message
`{"type": "room.event", "text": …}`), which the websocket consumers of every daphne process forward as is.
The first change after a quiet period goes out at once; later ones wait for the next tick, so a room gets
at most 10 frames a second from each ingesting process.
"""
import asyncio
import json
import logging
import threading
import time

log = logging.getLogger(__name__)

TICK_S = 0.1


class TwinFeed:
    def __init__(self, tick_s: float = TICK_S):
        self.tick_s = tick_s
        self._lock = threading.Lock()
        self._pending: dict[int, dict[int, dict]] = {}
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._thread: threading.Thread | None = None
        self._last_flush = 0.0
        self.frames_sent = 0

    def submit(self, factory_id: int, updates: list[dict]) -> None:
        """Queue twin updates (twin.changed entries); call after the transaction committed."""
        if not updates:
            return
        with self._lock:
            room = self._pending.setdefault(factory_id, {})
            for update in updates:
                room[update["twin"]] = update
            self._idle.clear()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="twin-feed", daemon=True)
                self._thread.start()
        self._wake.set()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until everything submitted so far has been sent (for commands that exit, and tests)."""
        return self._idle.wait(timeout)

    def _take(self) -> dict[int, dict[int, dict]]:
        with self._lock:
            pending, self._pending = self._pending, {}
            return pending

    def _run(self) -> None:
        from channels.layers import channel_layers
        from django.conf import settings

        from collaboration.events import factory_group

        loop = asyncio.new_event_loop()
        alias = getattr(settings, "DEFAULT_CHANNEL_LAYER", "default")
        layer, config = None, None
        while True:
            self._wake.wait()
            self._wake.clear()
            wait = self._last_flush + self.tick_s - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            pending = self._take()
            self._last_flush = time.monotonic()
            if config != repr(settings.CHANNEL_LAYERS.get(alias)):  # (re)built when the settings change, e.g. in tests
                config = repr(settings.CHANNEL_LAYERS.get(alias))
                # A private layer instance: its Redis connections belong to this thread's event loop only.
                layer = channel_layers.make_backend(alias)
            for factory_id, updates in pending.items():
                text = json.dumps({"type": "twin.changed", "updates": list(updates.values())}, separators=(",", ":"))
                try:
                    loop.run_until_complete(layer.group_send(factory_group(factory_id), {"type": "room.event", "text": text}))
                    self.frames_sent += 1
                except Exception:  # Redis away: the state is in the database; viewers catch up on the next change.
                    log.warning("twin.changed to factory %s failed", factory_id, exc_info=True)
            with self._lock:
                if not self._pending:
                    self._idle.set()


feed = TwinFeed()
