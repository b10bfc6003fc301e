"""Alarm rules with hysteresis, raised and cleared by ingestion, acknowledged by engineers; anomaly flags."""
import pytest

from collaboration.models import AuditEntry
from twins.models import Alarm, AlarmRule, TelemetryPoint
from twins.services.telemetry import telemetry_ingest

from .conftest import at


@pytest.fixture
def hot_rule(twins):
    return AlarmRule.objects.create(factory=twins["cnc"].factory, twin=twins["cnc"], name="temperature", op=">", threshold=80, hysteresis=5, severity="critical")


def feed(twin, values, name="temperature", start=0):
    return telemetry_ingest(factory=twin.factory, points=[{"twin": twin.key, "ts": at(start + i), "values": {name: v}} for i, v in enumerate(values)])


def test_alarm_raises_above_threshold_and_clears_only_past_the_hysteresis(twins, hot_rule):
    feed(twins["cnc"], [75, 80])
    assert not Alarm.objects.exists()
    feed(twins["cnc"], [82], start=2)
    alarm = Alarm.objects.get()
    assert (alarm.active, alarm.severity, alarm.value, alarm.message) == (True, "critical", 82, "CNC-1: temperature 82 > 80")
    feed(twins["cnc"], [79, 76, 85], start=3)  # inside the hysteresis band: stays the same alarm
    assert Alarm.objects.count() == 1 and Alarm.objects.get().active
    feed(twins["cnc"], [75], start=6)
    alarm.refresh_from_db()
    assert not alarm.active and alarm.cleared_at.isoformat() == at(6)
    feed(twins["cnc"], [74, 90, 60, 81], start=7)  # one batch: raise, clear, raise again
    assert list(Alarm.objects.order_by("id").values_list("active", flat=True)) == [False, False, True]


def test_below_rule_uses_hysteresis_upwards(twins):
    AlarmRule.objects.create(factory=twins["press"].factory, twin=twins["press"], name="pressure", op="<", threshold=2, hysteresis=0.5)
    feed(twins["press"], [2.0, 1.9, 2.3], name="pressure")
    assert Alarm.objects.get().active
    feed(twins["press"], [2.5], name="pressure", start=3)
    assert not Alarm.objects.get().active


def test_disabled_rules_and_other_values_raise_nothing(twins, hot_rule):
    hot_rule.enabled = False
    hot_rule.save()
    feed(twins["cnc"], [100])
    feed(twins["cnc"], [100], name="oil_temperature", start=1)
    assert not Alarm.objects.exists()


def test_ack_records_who_and_when(twins, hot_rule, client_for, people):
    feed(twins["cnc"], [90])
    alarm = Alarm.objects.get()
    assert client_for(people["victor"]).post(f"/api/alarms/{alarm.id}/ack/").status_code == 403
    assert client_for(people["mallory"]).post(f"/api/alarms/{alarm.id}/ack/").status_code == 404
    response = client_for(people["alice"]).post(f"/api/alarms/{alarm.id}/ack/")
    assert response.status_code == 200
    body = response.json()
    assert body["acked_by"] == "alice" and body["acked_at"] and body["active"] is True
    client_for(people["bob"]).post(f"/api/alarms/{alarm.id}/ack/")
    alarm.refresh_from_db()
    assert alarm.acked_by == people["alice"]
    assert AuditEntry.objects.filter(action="alarm.ack", object_id=str(alarm.id)).count() == 1


def test_alarm_list_filters_active_and_factory(twins, hot_rule, client_for, people):
    feed(twins["cnc"], [90, 70, 95])
    client = client_for(people["victor"])
    everything = client.get("/api/alarms/", {"factory": people["plant"].id}).json()
    active = client.get("/api/alarms/", {"factory": people["plant"].id, "active": 1}).json()
    assert everything["count"] == 2 and active["count"] == 1
    assert active["results"][0]["active"] is True and active["results"][0]["twin"] == twins["cnc"].id
    assert set(active["results"][0]) >= {"id", "twin", "severity", "message", "active", "acked_by", "acked_at", "raised_at"}
    assert client_for(people["mallory"]).get("/api/alarms/").json()["count"] == 0


def test_a_reading_far_from_recent_behaviour_is_flagged_as_anomaly(twins, client_for, people):
    steady = [50 + (i % 3 - 1) * 0.5 for i in range(30)]
    feed(twins["cnc"], steady)
    feed(twins["cnc"], [80, 50.2], start=30)
    flagged = list(TelemetryPoint.objects.filter(anomaly=True).values_list("value", flat=True))
    assert flagged == [80.0]
    body = client_for(people["victor"]).get(f"/api/twins/{twins['cnc'].id}/history/", {"name": "temperature", "from": at(0), "to": at(60)}).json()
    assert [a["value"] for a in body["anomalies"]] == [80.0]


def test_a_slow_ramp_is_not_an_anomaly(twins):
    feed(twins["cnc"], [float(i) for i in range(60)], name="parts")
    assert not TelemetryPoint.objects.filter(anomaly=True).exists()
