"""What the MQTT and OPC UA bridges share: factories by slug, batches grouped per factory into
`telemetry_ingest` (bad points logged and skipped), and a retry when the database is briefly away."""
import logging
import time
from collections import defaultdict

from django.db import InterfaceError, OperationalError, close_old_connections

from ..errors import Conflict, ServiceError
from ..models import Factory
from .telemetry import telemetry_ingest

log = logging.getLogger(__name__)


class BridgeIngester:
    def __init__(self, source: str):
        self.source = source
        self._factories: dict[str, Factory | None] = {}
        self.stored = 0
        self.skipped = 0

    def factory(self, slug: str) -> Factory | None:
        if slug not in self._factories or self._factories[slug] is None:
            self._factories[slug] = Factory.objects.filter(slug=slug).first()
        return self._factories[slug]

    def ingest(self, items: list[tuple[str, dict, str]], *, should_stop=lambda: False) -> int:
        """Store `(factory_slug, point, origin)` items; a bad one is logged (with its origin) and skipped.
        Returns the points stored; retries while the database is unreachable."""
        by_factory = defaultdict(list)
        for slug, point, origin in items:
            by_factory[slug].append((point, origin))
        stored = 0
        for slug, entries in by_factory.items():
            conflicts = 0
            while True:
                try:
                    stored += self._ingest_factory(slug, entries)
                    break
                except Conflict:  # a twin was deleted mid-batch: once more, when its points are simply unknown
                    conflicts += 1
                    if conflicts > 3:
                        self.skipped += len(entries)
                        log.error("%s bridge: batch for '%s' dropped after %d conflicts", self.source, slug, conflicts)
                        break
                except (OperationalError, InterfaceError):
                    if should_stop():
                        raise
                    log.warning("%s bridge: database unavailable, retrying in 1 s", self.source, exc_info=True)
                    time.sleep(1.0)
                    close_old_connections()
        self.stored += stored
        return stored

    def _ingest_factory(self, slug: str, entries: list[tuple[dict, str]]) -> int:
        factory = self.factory(slug)
        if factory is None:
            self.skipped += len(entries)
            log.warning("%s bridge: no factory '%s'; skipped %d message(s), e.g. %s", self.source, slug, len(entries), entries[0][1])
            return 0
        try:
            result = telemetry_ingest(factory=factory, points=[p for p, _ in entries], source=self.source, skip_bad=True)
        except ServiceError as exc:  # the batch as a whole is unusable (e.g. too large): drop it, loudly
            self.skipped += len(entries)
            log.error("%s bridge: batch for '%s' rejected: %s", self.source, slug, exc.message)
            return 0
        for index, messages in result.skipped.items():
            log.warning("%s bridge: skipped %s: %s", self.source, entries[index][1], "; ".join(messages))
        self.skipped += len(result.skipped)
        return result.accepted
