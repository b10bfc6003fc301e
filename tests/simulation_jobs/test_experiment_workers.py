"""Experiments on real Celery workers: the points fan out over both workers with identical results to a
run in this process, the room hears `exp.progress`, and a worker killed mid-experiment leaves it to finish
exactly once on another."""
import time

import pytest

from tests.builders import make_layout
from twins.models import Asset, Connection, Experiment

from .conftest import GroupListener, new_queue
from .helpers import in_process, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
URL = "/api/experiments/"


def line(factory):
    layout = make_layout(factory=factory, assets=2, line=True, name="Two machines")
    Asset.objects.filter(layout=layout, name="Source").update(params={"interarrival_s": None})
    Asset.objects.filter(layout=layout, name="M1").update(params={"cycle_time_s": 10.0, "cycle_cv": 1.0})
    Asset.objects.filter(layout=layout, name="M2").update(params={"cycle_time_s": 12.0, "cycle_cv": 1.0, "capacity": 2})
    return layout


def start(client, layout, values, **extra):
    conn = Connection.objects.get(layout=layout, source__name="M1")
    body = {"layout": layout.id, "factors": [{"connection": conn.id, "field": "buffer_capacity", "values": values}],
            "horizon_s": 40_000, "warmup_s": 1_000, "replications": 4, "seed": 9, **extra}
    r = client.post(URL, body, format="json")
    assert r.status_code == 201, r.content
    return r.json()["id"]


def ended(exp_id):
    exp = Experiment.objects.get(pk=exp_id)
    return exp if exp.is_finished else None


def exp_events(room, exp_id):
    return [e for _, e in room.events if e.get("type") == "exp.progress" and e.get("id") == exp_id]


def test_points_fan_out_over_two_workers_with_live_progress(people, client_for, worker_pair, settings):
    queue, workers = worker_pair
    settings.SIMULATION_QUEUE = queue
    layout = line(people["plant"])
    with GroupListener(f"layout.{layout.id}") as room:
        exp_id = start(client_for(people["alice"]), layout, [0, 1, 2, 4])
        exp = wait_for(lambda: ended(exp_id), 120, "the experiment to finish", workers)
        wait_for(lambda: any(e["status"] == "succeeded" for e in exp_events(room, exp_id)), 5, "the final exp.progress", workers)
    assert exp.status == "succeeded", exp.error
    assert all("twins.simulation.batch" in w.text() for w in workers), "both workers should have run points"
    for point in exp.points.select_related("run"):
        assert point.run.results == in_process(point.run)
    events = exp_events(room, exp_id)
    assert [e["status"] for e in events].count("succeeded") == 1
    assert any(0 < e["progress"] < 1 for e in events)
    assert events[-1]["done"] == events[-1]["total"] == 4
    assert not [e for _, e in room.events if e.get("type") == "sim.progress"], "points report as the experiment"


def test_a_worker_killed_mid_experiment_leaves_it_to_finish_exactly_once(people, client_for, start_worker, settings):
    queue = settings.SIMULATION_QUEUE = new_queue("expkill")
    first = start_worker(queue, "doomed", visibility_timeout=3).wait_ready()
    layout = line(people["plant"])
    with GroupListener(f"layout.{layout.id}") as room:
        exp_id = start(client_for(people["alice"]), layout, [0, 1, 2], horizon_s=120_000)
        wait_for(lambda: Experiment.objects.get(pk=exp_id).points.filter(run__status="succeeded").exists(), 120,
                 "a first point", [first])
        first.kill9()
        assert Experiment.objects.get(pk=exp_id).status in ("queued", "running")
        second = start_worker(queue, "rescuer", visibility_timeout=3).wait_ready()
        exp = wait_for(lambda: ended(exp_id), 180, "the experiment to finish on the second worker", [first, second])
        time.sleep(1.0)  # a duplicate finish would show up here
    assert exp.status == "succeeded", exp.error
    assert [e["status"] for e in exp_events(room, exp_id)].count("succeeded") == 1
    assert Experiment.objects.get(pk=exp_id).finished_at == exp.finished_at
    for point in exp.points.select_related("run"):
        assert point.run.status == "succeeded" and point.run.results == in_process(point.run)
