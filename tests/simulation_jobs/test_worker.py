"""Simulation runs on real Celery workers over a real Redis: results, progress in the room (also from inside
one long replication), determinism, cancel, and a kill -9'd worker whose run a second worker finishes
exactly once."""
import re
import time

import pytest

from tests.builders import make_layout
from twins.models import Asset, SimulationReplication, SimulationRun

from .conftest import GroupListener, new_queue
from .helpers import URL, create, finished, general_line, in_process, wait_for

BATCH_LOG = re.compile(r"Task twins\.simulation\.batch\[([0-9a-f-]+)\] (received|succeeded)")
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_run_succeeds_on_two_workers_with_contract_results_and_live_progress(people, client_for, worker_pair, settings):
    queue, workers = worker_pair
    settings.SIMULATION_QUEUE = queue
    layout = general_line(people["plant"])
    with GroupListener(f"layout.{layout.id}") as room:
        run_id = create(client_for(people["alice"]), layout, replications=12)
        run = wait_for(lambda: finished(run_id), 90, "the run to finish", workers)
        wait_for(lambda: any(e["status"] == "succeeded" for e in room.sim(run_id)), 5, "the final sim.progress", workers)
    assert run.status == "succeeded", run.error
    assert run.progress == 1.0 and run.attempts == 1 and run.started_at and run.finished_at
    res = run.results
    for key in ("mean", "ci95"):
        assert isinstance(res["throughput_per_hour"][key], float) and isinstance(res["wip"][key], float)
    assert {"mean", "ci95", "p95"} <= set(res["lead_time_s"])
    assert res["throughput_per_hour"]["mean"] > 0 and res["throughput_per_hour"]["ci95"] > 0
    names = {a.id: a.name for a in Asset.objects.filter(layout=layout)}
    assert [s["asset"] for s in res["stations"]] == sorted(names) and all(s["name"] == names[s["asset"]] for s in res["stations"])
    for station in res["stations"]:
        assert {"throughput_per_hour", "mean_queue", "utilization"} <= set(station)
        assert sum(station["utilization"].values()) == pytest.approx(1.0, abs=1e-9)
    assert res["bottleneck"] in names
    assert len(res["timeseries"]["t"]) == len(res["timeseries"]["throughput_per_hour"]) == len(res["timeseries"]["wip"])
    assert res["replications"] == 12
    # Fanned out over both workers, the combined answer is exactly the one-process answer.
    assert all("twins.simulation.batch" in w.text() for w in workers), "both workers should have run batches"
    assert res == in_process(run)
    # The room saw the run queued, running with growing progress, and its end once; a few frames a second at most.
    events = room.timed(run_id)
    statuses = [e["status"] for _, e in events]
    assert statuses[0] == "queued" and "running" in statuses and statuses[-1] == "succeeded"
    assert statuses.count("succeeded") == 1
    running = [e["progress"] for _, e in events if e["status"] == "running"]
    assert any(0 < p < 1 for p in running)
    times = [t for t, e in events if e["status"] == "running" and e["progress"] > 0]
    assert len(times) <= 4 * (times[-1] - times[0]) + 3


def test_a_single_long_replication_on_a_worker_reports_growing_progress_from_inside_it(people, client_for, worker_pair, settings):
    queue, workers = worker_pair
    settings.SIMULATION_QUEUE = queue
    layout = general_line(people["plant"])
    with GroupListener(f"layout.{layout.id}") as room:
        run_id = create(client_for(people["alice"]), layout, replications=1, horizon_s=7_000_000, warmup_s=1_000)
        run = wait_for(lambda: finished(run_id), 90, "the run to finish", workers)
        wait_for(lambda: any(e["status"] == "succeeded" for e in room.sim(run_id)), 5, "the final sim.progress", workers)
    assert run.status == "succeeded", run.error
    inside = [e["progress"] for e in room.sim(run_id) if e["status"] == "running" and 0 < e["progress"] < 1]
    assert len(inside) >= 3 and inside == sorted(set(inside)), inside


def test_same_seed_gives_identical_results_and_another_seed_does_not(people, client_for, worker_pair, settings):
    queue, workers = worker_pair
    settings.SIMULATION_QUEUE = queue
    layout = general_line(people["plant"])
    alice = client_for(people["alice"])
    ids = [create(alice, layout, seed=5, replications=4), create(alice, layout, seed=5, replications=4),
           create(alice, layout, seed=6, replications=4)]
    runs = [wait_for(lambda i=i: finished(i), 90, f"run {i}", workers) for i in ids]
    assert [r.status for r in runs] == ["succeeded"] * 3
    assert runs[0].results == runs[1].results
    assert runs[0].results["throughput_per_hour"] != runs[2].results["throughput_per_hour"]


def test_cancel_stops_a_running_run_within_seconds(people, client_for, worker_pair, settings, broker):
    queue, workers = worker_pair
    settings.SIMULATION_QUEUE = queue
    layout = general_line(people["plant"])
    alice = client_for(people["alice"])
    with GroupListener(f"layout.{layout.id}") as room:
        run_id = create(alice, layout, replications=100, horizon_s=60_000)
        wait_for(lambda: SimulationRun.objects.get(pk=run_id).progress > 0, 60, "progress", workers)
        response = alice.post(f"{URL}{run_id}/cancel/")
        assert response.status_code == 200 and response.json()["status"] == "cancelled"
        cancelled_at = time.monotonic()
        wait_for(lambda: any(e["status"] == "cancelled" for e in room.sim(run_id)), 5, "the cancelled event")
        # The cancel dropped the replications stored so far; the workers stop and keep nothing more ...
        time.sleep(2.0)
        assert not SimulationReplication.objects.filter(run_id=run_id).exists()
        # ... and no more progress is published.
        late = [e for t, e in room.timed(run_id) if t > cancelled_at + 2.0]
        assert late == []
    run = SimulationRun.objects.get(pk=run_id)
    assert run.status == "cancelled" and run.results is None and run.progress < 0.5
    # The workers are free again: the cancelled run's remaining batches drain at once.
    small = create(alice, layout, replications=2)
    assert wait_for(lambda: finished(small), 30, "a run after the cancel", workers).status == "succeeded"


def test_killed_worker_run_is_retried_by_a_second_worker_and_finishes_exactly_once(people, client_for, start_worker, settings):
    queue = settings.SIMULATION_QUEUE = new_queue("kill")
    first = start_worker(queue, "doomed", visibility_timeout=3).wait_ready()
    layout = general_line(people["plant"])
    with GroupListener(f"layout.{layout.id}") as room:
        run_id = create(client_for(people["alice"]), layout, replications=8, horizon_s=60_000)
        wait_for(lambda: SimulationRun.objects.get(pk=run_id).progress >= 2 / 8, 60, "two replications", [first])
        received = len(BATCH_LOG.findall(first.text()))
        # Kill it just after it takes the next batch, so that the batch is in its hands (unacknowledged).
        wait_for(lambda: len(BATCH_LOG.findall(first.text())) > received and BATCH_LOG.findall(first.text())[-1][1] == "received",
                 30, "the next batch", [first])
        first.kill9()
        lost = BATCH_LOG.findall(first.text())
        done = {task for task, what in lost if what == "succeeded"}
        in_hand = [task for task, what in lost if what == "received" and task not in done]
        assert SimulationRun.objects.get(pk=run_id).status == "running"
        second = start_worker(queue, "rescuer", visibility_timeout=3).wait_ready()
        run = wait_for(lambda: finished(run_id), 90, "the run to finish on the second worker", [first, second])
        wait_for(lambda: any(e["status"] == "succeeded" for e in room.sim(run_id)), 5, "the final sim.progress", [second])
        time.sleep(1.0)  # a duplicate finish would show up here
    assert run.status == "succeeded", run.error
    assert in_hand and all(f"twins.simulation.batch[{task}]" in second.text() for task in in_hand), "redelivered"
    assert [e["status"] for e in room.sim(run_id)].count("succeeded") == 1
    assert run.results == in_process(run)  # every replication exactly once
    assert SimulationRun.objects.get(pk=run_id).finished_at == run.finished_at


def test_a_run_rolled_back_with_its_transaction_is_never_enqueued(people, broker, settings):
    from django.db import transaction

    from twins.services.simulations import simulation_create

    layout = make_layout(factory=people["plant"], assets=2, line=True)
    params = {"horizon_s": 1000, "warmup_s": 0, "replications": 1, "seed": 1}
    with pytest.raises(RuntimeError), transaction.atomic():
        simulation_create(layout=layout, params=params, by=people["alice"])
        raise RuntimeError("the request failed after creating the run")
    assert broker.llen(settings.SIMULATION_QUEUE) == 0 and not SimulationRun.objects.exists()
    with transaction.atomic():
        simulation_create(layout=layout, params=params, by=people["alice"])
        assert broker.llen(settings.SIMULATION_QUEUE) == 0  # not before the commit ...
    assert broker.llen(settings.SIMULATION_QUEUE) == 1  # ... and once after it
