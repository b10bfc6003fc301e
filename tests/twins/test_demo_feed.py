"""The demo feed keeps the demo plant's twins alive through the ingestion service."""
from django.core.management import call_command

from twins.demo import seed_demo
from twins.management.commands.demo_feed import Machine
from twins.models import AlarmRule, TelemetryPoint, Twin


def test_demo_feed_reports_every_machine_and_adds_its_rules_once(db):
    factory = seed_demo()["factory"]
    call_command("demo_feed", ticks=3, interval=0, seed=1)
    call_command("demo_feed", ticks=2, interval=0, seed=2)
    twins = Twin.objects.filter(factory=factory)
    assert {"cnc-1", "press-1", "deburr-robot", "weld-robot", "assembly-1"} <= set(twins.values_list("key", flat=True))
    assert TelemetryPoint.objects.filter(twin__factory=factory, name="temperature").count() == 5 * twins.count()
    assert all(t.status != "unknown" and {"temperature", "parts", "power_kw", "status"} <= set(t.values) for t in twins)
    assert AlarmRule.objects.filter(factory=factory, name="temperature").count() == twins.count()


def test_an_overheating_machine_goes_down_and_recovers():
    import random

    rng = random.Random(7)
    machine = Machine(key="cnc-1", kind="cnc", temperature=58.0, overheating=True)
    seen = [machine.step(rng, 1.0) for _ in range(400)]
    temperatures = [s["temperature"] for s in seen]
    first_down = next(i for i, s in enumerate(seen) if s["status"] == "down")
    assert max(temperatures[:first_down + 1]) > 85
    assert any(s["status"] == "running" for s in seen[first_down:]) and temperatures[-1] < 82
