"""`manage.py demo_feed`: keep the demo plant alive. Every second each machine of the demo plant reports its
status, temperature, power and part counter through the one ingestion service; now and then a machine
overheats (a temperature alarm fires), goes down for a while, cools off and the alarm clears.

Alarm rules for the demo (temperature > 85 °C, hysteresis 3) are created once, idempotently, by the admin.
"""
import logging
import random
import signal
import time
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import InterfaceError, OperationalError, close_old_connections

from twins.models import AlarmRule, Factory, Twin
from twins.services.alarms import alarm_rule_create
from twins.services.telemetry import telemetry_ingest
from twins.twin_feed import feed

log = logging.getLogger("twins.demo_feed")

FACTORY_SLUG = "demo-plant"
HOT_C = 85.0
BASE_C = {"cnc": 58.0, "press": 52.0, "robot": 41.0, "conveyor": 32.0, "station": 36.0}
CYCLE_S = {"cnc": 32.0, "press": 20.0, "robot": 24.0, "conveyor": 6.0, "station": 30.0}
POWER_KW = {"cnc": 11.0, "press": 15.0, "robot": 4.5, "conveyor": 1.2, "station": 2.0}


def kind_of(key: str) -> str:
    for kind in ("cnc", "press", "robot", "conveyor"):
        if kind in key:
            return kind
    return "station"


@dataclass
class Machine:
    key: str
    kind: str
    status: str = "running"
    temperature: float = 40.0
    parts: int = 0
    hold_s: float = 0.0  # seconds left in a non-running state
    overheating: bool = False

    def step(self, rng: random.Random, dt: float) -> dict:
        base = BASE_C[self.kind]
        if self.status == "running":
            if rng.random() < 0.004 * dt and self.kind in ("cnc", "press"):
                self.overheating = True
            elif rng.random() < 0.0015 * dt:
                self.status, self.hold_s = "down", rng.uniform(20, 60)  # a jam or a tool change
            elif rng.random() < 0.02 * dt:
                self.status, self.hold_s = rng.choice(["idle", "starved", "blocked"]), rng.uniform(3, 15)
            elif rng.random() < dt / CYCLE_S[self.kind]:
                self.parts += 1
        else:
            self.hold_s -= dt
            if self.hold_s <= 0 and (self.status != "down" or self.temperature < base + 10):
                self.status = "running"
        if self.overheating and self.temperature > HOT_C + 6:
            self.overheating = False
            self.status, self.hold_s = "down", rng.uniform(30, 60)
        target = HOT_C + 10 if self.overheating else base + (4 if self.status == "running" else -6 if self.status == "down" else 0)
        rate = 0.08 if self.overheating else 0.04
        self.temperature += rate * (target - self.temperature) * dt + rng.gauss(0, 0.25) * dt ** 0.5
        power = POWER_KW[self.kind] * (1.0 if self.status == "running" else 0.15 if self.status != "down" else 0.0)
        return {
            "status": self.status,
            "temperature": round(self.temperature, 2),
            "power_kw": round(max(0.0, power + rng.gauss(0, 0.05 * POWER_KW[self.kind])), 3),
            "parts": self.parts,
        }


def ensure_demo_rules(factory: Factory, twins: list[Twin]) -> int:
    """Temperature alarm rules on the demo machines, created once by the admin (audited like any rule)."""
    admin = get_user_model().objects.filter(is_staff=True).order_by("id").first()
    if admin is None:
        return 0
    created = 0
    for twin in twins:
        if AlarmRule.objects.filter(twin=twin, name="temperature").exists():
            continue
        severity = "critical" if kind_of(twin.key) in ("cnc", "press") else "warning"
        alarm_rule_create(factory=factory, by=admin, data={
            "twin": twin.id, "name": "temperature", "op": ">", "threshold": HOT_C, "hysteresis": 3.0, "severity": severity})
        created += 1
    return created


class Command(BaseCommand):
    help = "Generate live telemetry for the demo plant (statuses, temperatures, counters, alarms)."

    def add_arguments(self, parser):
        parser.add_argument("--factory", default=FACTORY_SLUG)
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between reports.")
        parser.add_argument("--ticks", type=int, default=0, help="Stop after this many reports (0 = run until stopped).")
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args, factory, interval, ticks, seed, **options):
        self.running = True
        signal.signal(signal.SIGTERM, lambda *_: setattr(self, "running", False))
        plant = self._wait_for_factory(factory)
        if plant is None:
            return
        twins = list(Twin.objects.filter(factory=plant).order_by("key"))
        rules = ensure_demo_rules(plant, twins)
        self.stdout.write(f"demo feed: {len(twins)} twins in {plant.slug}, {rules} alarm rule(s) added, every {interval:g} s")
        rng = random.Random(seed)
        machines = [Machine(key=t.key, kind=kind_of(t.key), temperature=BASE_C[kind_of(t.key)] + rng.uniform(-3, 3)) for t in twins]
        done = 0
        try:
            while self.running and (not ticks or done < ticks):
                started = time.monotonic()
                points = [{"twin": m.key, "values": m.step(rng, max(interval, 0.1))} for m in machines]
                try:
                    telemetry_ingest(factory=plant, points=points, source="demo")
                except (OperationalError, InterfaceError):
                    log.warning("demo feed: database unavailable; skipping this report", exc_info=True)
                    close_old_connections()
                done += 1
                time.sleep(max(0.0, interval - (time.monotonic() - started)))
        except KeyboardInterrupt:
            pass
        feed.wait_idle(2.0)

    def _wait_for_factory(self, slug: str) -> Factory | None:
        warned = False
        while self.running:
            try:
                factory = Factory.objects.filter(slug=slug).first()
            except (OperationalError, InterfaceError):
                factory = None
            if factory is not None and Twin.objects.filter(factory=factory).exists():
                return factory
            if not warned:
                self.stderr.write(f"demo feed: waiting for factory '{slug}' and its twins (run manage.py seed_demo)")
                warned = True
            try:
                time.sleep(5)
            except KeyboardInterrupt:
                return None
        return None
