"""Plan against actual (CONTRACT §9): sink counters per bucket against a real run's band, and the drift alarm."""
import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from collaboration import events
from collaboration.models import AuditEntry
from tests.builders import make_asset_type, make_layout
from tests.simulation_jobs.helpers import in_process
from twins.models import Alarm, Asset, SimulationRun, Twin
from twins.services.plan_vs_actual import plan_drift_evaluate, plan_drift_evaluate_all
from twins.services.simulations import simulation_create, simulation_finish
from twins.services.telemetry import telemetry_ingest
from twins.tasks.plan import plan_drift_task

HOUR = 3600
# Bucket k is [ORIGIN + k h, ORIGIN + (k+1) h); everything lies in the past.
ORIGIN = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=30)


def at(seconds: float) -> datetime:
    return ORIGIN + timedelta(seconds=seconds)


def counter_rows(twin: Twin, rates: list[float], *, start_value: int = 0, reset_at: float | None = None) -> int:
    """A `cycles` counter that completes rates[k] parts evenly in hour k (a reading per part), restarting
    from 0 at `reset_at` seconds; returns the readings sent."""
    points, value, t0 = [], start_value, 0.0
    for k, rate in enumerate(rates):
        for i in range(int(rate)):
            t = t0 + k * HOUR + (i + 0.5) * HOUR / rate
            if reset_at is not None and t >= reset_at:
                value, reset_at = 0, None
            value += 1
            points.append({"twin": twin.key, "ts": at(t).isoformat(), "values": {"cycles": value}})
    for i in range(0, len(points), 5000):
        telemetry_ingest(factory=twin.factory, points=points[i:i + 5000])
    return len(points)


@pytest.fixture
def line(people):
    """source → M1 (30 s, exponential) → sink, the sink bound to the twin `out`."""
    layout = make_layout(factory=people["plant"], assets=1, line=True, name="Plant line")
    Asset.objects.filter(layout=layout, name="M1").update(params={"cycle_time_s": 30.0, "cycle_cv": 1.0})
    Asset.objects.filter(layout=layout, name="Sink").update(twin_key="out")
    Twin.objects.create(factory=people["plant"], key="out", name="Line output")
    return layout


@pytest.fixture
def planned(line, people):
    """A real run of the line, simulated in this process and stored the way the worker stores it."""
    run = simulation_create(layout=line, params={"horizon_s": 8 * HOUR, "warmup_s": 1800, "replications": 5, "seed": 3}, by=people["alice"])
    SimulationRun.objects.filter(pk=run.pk).update(status=SimulationRun.Status.RUNNING)
    assert simulation_finish(run_id=run.id, results=in_process(run))
    run.refresh_from_db()
    return run


def series(client, layout, start, end, bucket_s=HOUR):
    response = client.get(f"/api/layouts/{layout.id}/plan-vs-actual/", {"from": start.isoformat(), "to": end.isoformat(), "bucket_s": bucket_s})
    assert response.status_code == 200, response.content
    return response.json()


def test_actual_output_counts_counter_increases_across_a_reset(line, client_for, people):
    twin = Twin.objects.get(key="out")
    counter_rows(twin, [100, 100, 100, 100, 100], start_value=5_000, reset_at=2.5 * HOUR)
    second = Asset.objects.create(layout=line, asset_type=make_asset_type("sink"), name="Sink 2", twin_key="out-2", x=20, z=4)
    counter_rows(Twin.objects.create(factory=line.factory, key="out-2", name="Second output"), [0, 0, 40, 40, 40])
    body = series(client_for(people["victor"]), line, at(HOUR), at(6 * HOUR))
    assert body["t"] == [int(at(k * HOUR).timestamp() * 1000) for k in range(1, 6)]
    # Hour 1 starts from the last reading before the window; the reset in hour 2 does not lose (or invent) parts;
    # the second sink's first reading (hour 2) only sets its reference; hour 5 has no readings at all.
    assert body["actual"] == [100, 100 + 39, 100 + 40, 100 + 40, None]
    assert {s["asset"] for s in body["sinks"]} == {Asset.objects.get(layout=line, name="Sink").id, second.id}
    assert body["planned"] is None and body["run"] is None and "no succeeded simulation run" in body["detail"]


def test_planned_band_comes_from_the_latest_run(line, planned, client_for, people):
    # A later forecast (a run from the live state) describes the coming hours, not the plan.
    SimulationRun.objects.create(layout=line, layout_revision=planned.layout_revision, status=SimulationRun.Status.SUCCEEDED,
                                 params={**planned.params, "initial_state": "live"}, finished_at=planned.finished_at + timedelta(minutes=1),
                                 results={**planned.results, "throughput_per_hour": {"mean": 10.0, "ci95": 1.0}})
    body = series(client_for(people["alice"]), line, at(0), at(4 * HOUR) + timedelta(minutes=30))
    per_hour = planned.results["throughput_per_hour"]["mean"]
    assert body["run"] == planned.id and 100 < per_hour < 125
    mean, lo, hi = body["planned"]["mean"], body["planned"]["lo"], body["planned"]["hi"]
    assert mean[:4] == pytest.approx([per_hour] * 4) and mean[4] == pytest.approx(per_hour / 2)  # the half hour the window covers
    assert all(lo[k] < mean[k] < hi[k] for k in range(5))
    # A one-hour count of an exponential machine varies by about sqrt(120) ≈ 11 parts: the band is of that order.
    assert 10 < hi[0] - mean[0] < 40
    assert body["complete"] == [True, True, True, True, False]


def test_a_feed_that_matches_the_plan_raises_no_alarm(line, planned):
    rate = round(planned.results["throughput_per_hour"]["mean"])
    counter_rows(Twin.objects.get(key="out"), [rate] * 8)
    for hour in range(1, 10):
        assert plan_drift_evaluate(layout=line, now=at(hour * HOUR + 60)) == []
    assert not Alarm.objects.exists()


class FactoryListener:
    def __init__(self, factory_id: int):
        self.layer = get_channel_layer()
        self.channel = async_to_sync(self.layer.new_channel)()
        async_to_sync(self.layer.group_add)(events.factory_group(factory_id), self.channel)

    def next_event(self, timeout: float = 5.0) -> dict:
        async def receive():
            return await asyncio.wait_for(self.layer.receive(self.channel), timeout)

        return json.loads(async_to_sync(receive)()["text"])


def test_half_rate_raises_one_drift_alarm_after_three_buckets_and_clears_on_recovery(
        line, planned, client_for, people, django_capture_on_commit_callbacks):
    rate = round(planned.results["throughput_per_hour"]["mean"])
    counter_rows(Twin.objects.get(key="out"), [rate, rate, rate // 2, rate // 2, rate // 2, rate // 2, rate, rate])
    listener = FactoryListener(line.factory_id)
    assert plan_drift_evaluate(layout=line, now=at(4 * HOUR + 60)) == []  # two buckets out of the band: not yet
    with django_capture_on_commit_callbacks(execute=True):
        raised = plan_drift_evaluate(layout=line, now=at(5 * HOUR + 60))
    assert len(raised) == 1
    alarm = Alarm.objects.get()
    assert (alarm.kind, alarm.layout_id, alarm.active, alarm.rule_id) == ("drift", line.id, True, None)
    assert alarm.raised_at == at(5 * HOUR) and alarm.twin.key == "out" and alarm.value == rate // 2
    frame = listener.next_event()
    assert frame["type"] == "alarm" and frame["alarm"]["id"] == alarm.id and frame["alarm"]["kind"] == "drift" and frame["alarm"]["active"]
    assert plan_drift_evaluate(layout=line, now=at(5 * HOUR + 600)) == []  # evaluated again: the same alarm
    assert plan_drift_evaluate(layout=line, now=at(6 * HOUR + 60)) == []  # still below plan
    # Listed and acknowledged like every other alarm; the chart says it is active.
    listed = client_for(people["victor"]).get("/api/alarms/", {"factory": line.factory_id, "active": 1}).json()
    assert [(a["id"], a["kind"], a["layout"]) for a in listed["results"]] == [(alarm.id, "drift", line.id)]
    assert client_for(people["alice"]).post(f"/api/alarms/{alarm.id}/ack/").json()["acked_by"] == "alice"
    assert AuditEntry.objects.filter(action="alarm.ack", object_id=str(alarm.id)).count() == 1
    assert series(client_for(people["victor"]), line, at(0), at(6 * HOUR))["alarm"]["id"] == alarm.id
    # Back at the plan's rate in hour 6: cleared at the end of that hour, and no new alarm after it.
    assert [a.id for a in plan_drift_evaluate(layout=line, now=at(7 * HOUR + 60))] == [alarm.id]
    alarm.refresh_from_db()
    assert not alarm.active and alarm.cleared_at == at(7 * HOUR)
    assert plan_drift_evaluate(layout=line, now=at(9 * HOUR + 60)) == [] and Alarm.objects.count() == 1


def test_beat_watches_the_baselines(line, planned):
    counter_rows(Twin.objects.get(key="out"), [10, 10, 10, 10])
    assert plan_drift_evaluate_all(now=at(4 * HOUR + 60)) == 0  # a draft is nobody's baseline
    line.factory.baseline_layout = line
    line.factory.save()
    assert plan_drift_evaluate_all(now=at(4 * HOUR + 60)) == 1
    assert plan_drift_task() == 0  # now: the same buckets, already judged
    assert Alarm.objects.get().kind == "drift"


def test_plan_vs_actual_tenancy_and_bad_input(line, client_for, people):
    url = f"/api/layouts/{line.id}/plan-vs-actual/"
    assert client_for(people["mallory"]).get(url).status_code == 404
    client = client_for(people["victor"])
    assert client.get(url).status_code == 200
    for params in ({"bucket_s": 10}, {"bucket_s": "x"}, {"bucket_s": 10**15},
                   {"from": "0001-01-01T00:00:00", "to": "0001-01-02T00:00:00", "bucket_s": 300 * 86400}, {"from": at(HOUR).isoformat(), "to": at(0).isoformat()},
                   {"from": at(0).isoformat(), "to": at(30 * 24 * HOUR).isoformat(), "bucket_s": 60}):
        response = client.get(url, params)
        assert response.status_code == 400, (params, response.content)
