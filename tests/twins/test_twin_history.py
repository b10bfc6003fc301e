"""GET /api/twins/{id}/history/: buckets computed in the database, roll-ups for old hours, retention."""
from datetime import UTC, datetime, timedelta

import pytest

from twins.models import TelemetryPoint, TelemetryRollup
from twins.services.telemetry import telemetry_ingest
from twins.services.telemetry_rollup import telemetry_rollup

from .conftest import ORIGIN, at

MS = int(ORIGIN.timestamp() * 1000)


def history(client, twin, **params):
    return client.get(f"/api/twins/{twin.id}/history/", params)


def test_minute_buckets_match_hand_computed_values(twins, post_points, client_for, people):
    post_points([
        {"twin": "cnc-1", "ts": at(-1), "values": {"temperature": 999}},  # before `from`
        {"twin": "cnc-1", "ts": at(0), "values": {"temperature": 10, "status": "running"}},
        {"twin": "cnc-1", "ts": at(30), "values": {"temperature": 20, "rpm": 5000}},
        {"twin": "cnc-1", "ts": at(59.999), "values": {"temperature": 30}},
        {"twin": "cnc-1", "ts": at(60), "values": {"temperature": 5}},
        {"twin": "cnc-1", "ts": at(119.5), "values": {"temperature": 7}},
        {"twin": "cnc-1", "ts": at(300), "values": {"temperature": 100.5}},
        {"twin": "cnc-1", "ts": at(600), "values": {"temperature": 999}},  # == `to`, excluded
        {"twin": "press-1", "ts": at(10), "values": {"temperature": 999}},
    ])
    response = history(client_for(people["victor"]), twins["cnc"], name="temperature", bucket_s=60, **{"from": at(0), "to": at(600)})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["t"] == [MS, MS + 60_000, MS + 300_000]
    assert body["min"] == [10, 5, 100.5]
    assert body["max"] == [30, 7, 100.5]
    assert body["mean"] == [20, 6, 100.5]
    assert body["count"] == [3, 2, 1]
    assert body["anomalies"] == []


def test_wider_buckets_and_epoch_ms_range(twins, post_points, client_for, people):
    post_points([{"twin": "cnc-1", "ts": at(s), "values": {"v": v}} for s, v in [(0, 1), (299, 3), (300, 10), (899, 20), (900, 4)]])
    body = history(client_for(people["alice"]), twins["cnc"], name="v", bucket_s=600, **{"from": MS, "to": MS + 1_200_000}).json()
    assert body["t"] == [MS, MS + 600_000]
    assert body["mean"] == [pytest.approx(14 / 3), 12]
    assert (body["min"], body["max"], body["count"]) == ([1, 4], [10, 20], [3, 2])


@pytest.mark.parametrize("params, field", [
    ({}, "name"),
    ({"name": "v", "bucket_s": 0}, "bucket_s"),
    ({"name": "v", "bucket_s": "x"}, "bucket_s"),
    ({"name": "v", "from": "soon"}, "from"),
    ({"name": "v", "from": at(60), "to": at(0)}, "to"),
    ({"name": "v", "bucket_s": 1, "from": at(0), "to": at(86400)}, "bucket_s"),
])
def test_bad_history_parameters_are_a_clear_400(twins, client_for, people, params, field):
    response = history(client_for(people["alice"]), twins["cnc"], **params)
    assert response.status_code == 400 and field in response.json(), response.content


def test_retention_rolls_old_points_into_hours_and_history_reads_them(twins, client_for, people):
    now = datetime.now(UTC)
    old = now.replace(minute=0, second=0, microsecond=0) - timedelta(days=40)
    plant = people["plant"]
    for minutes, value in [(0, 1.0), (20, 2.0), (59, 6.0), (60, 10.0), (61, 12.0)]:
        telemetry_ingest(factory=plant, points=[{"twin": "cnc-1", "ts": (old + timedelta(minutes=minutes)).isoformat(), "values": {"t": value}}])
    telemetry_ingest(factory=plant, points=[{"twin": "cnc-1", "ts": (old + timedelta(minutes=5)).isoformat(), "values": {"status": "down"}}])
    telemetry_ingest(factory=plant, points=[{"twin": "cnc-1", "ts": (now - timedelta(minutes=1)).isoformat(), "values": {"t": 50.0}}])

    report = telemetry_rollup(now=now, days=30)
    assert report["deleted"] == 6
    assert TelemetryPoint.objects.count() == 1
    first, second = TelemetryRollup.objects.filter(name="t").order_by("bucket_start")
    assert (first.bucket_start, first.count, first.min, first.max, first.mean) == (old, 3, 1.0, 6.0, 3.0)
    assert (second.count, second.min, second.max, second.mean) == (2, 10.0, 12.0, 11.0)
    assert telemetry_rollup(now=now, days=30)["deleted"] == 0  # idempotent
    assert TelemetryRollup.objects.filter(name="t").count() == 2

    client = client_for(people["victor"])
    old_ms = int(old.timestamp() * 1000)
    body = history(client, twins["cnc"], name="t", bucket_s=3600, **{"from": old.isoformat(), "to": now.isoformat()}).json()
    assert body["t"][:2] == [old_ms, old_ms + 3_600_000]
    assert body["mean"] == [3.0, 11.0, 50.0] and body["count"] == [3, 2, 1]
    # Roll-ups answer for old hours at any bucket width (with hour resolution).
    body = history(client, twins["cnc"], name="t", bucket_s=60, **{"from": old.isoformat(), "to": (old + timedelta(hours=3)).isoformat()}).json()
    assert body["t"] == [old_ms, old_ms + 3_600_000] and body["max"] == [6.0, 12.0]
    day = history(client, twins["cnc"], name="t", bucket_s=86400, **{"from": (old - timedelta(days=1)).isoformat(), "to": now.isoformat()}).json()
    assert day["count"][0] == 5 and day["mean"][0] == pytest.approx(31 / 5)


def test_recent_complete_hours_are_rolled_up_and_serve_hourly_history(twins, client_for, people):
    now = datetime.now(UTC)
    hour = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    points = [{"twin": "cnc-1", "ts": (hour + timedelta(minutes=m)).isoformat(), "values": {"t": float(m)}} for m in range(0, 120, 10)]
    telemetry_ingest(factory=people["plant"], points=points)
    telemetry_rollup(now=now, days=30)
    assert TelemetryPoint.objects.count() == 12  # recent hours are kept raw
    assert TelemetryRollup.objects.count() == 2
    TelemetryPoint.objects.filter(ts__lt=hour + timedelta(hours=1)).update(value=-1000)  # prove the roll-up is read
    body = history(client_for(people["alice"]), twins["cnc"], name="t", bucket_s=3600, **{"from": hour.isoformat(), "to": now.isoformat()}).json()
    assert body["mean"] == [25.0, 85.0] and body["min"] == [0.0, 60.0]


def test_the_beat_schedule_runs_the_rollup_task():
    from metaverse.celery import app
    from twins.tasks import telemetry_rollup_task

    assert app.conf.beat_schedule["telemetry-rollup"]["task"] == telemetry_rollup_task.name
