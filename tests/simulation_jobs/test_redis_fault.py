"""A Redis restart (or FLUSHALL) in the middle of a run (RELIABILITY.md, "Faults"): real workers and a real
Celery beat on a Redis of the test's own that is killed and started again empty (or flushed). The batches
waiting in the broker are gone; the replications already finished are in the database; the watchdog
sends what is missing, and the run ends exactly once with the results it would have had anyway."""
import time

import pytest
import redis

from twins.models import SimulationReplication, SimulationRun

from .conftest import GroupListener, new_queue
from .helpers import create, finished, general_line, in_process, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
REPS = 8


def stored(run_id) -> int:
    return SimulationReplication.objects.filter(run_id=run_id).count()


@pytest.mark.parametrize("fault", ["restart", "flushall"])
def test_a_run_survives_redis_losing_everything_and_ends_exactly_once(fault, people, client_for, start_worker, settings,
                                                                      private_redis, producer_on):
    producer_on(private_redis.url)
    queue = settings.SIMULATION_QUEUE = new_queue(fault)
    workers = [start_worker(queue, "keeper", redis_url=private_redis.url, watchdog_s=1),
               start_worker(queue, "helper", redis_url=private_redis.url)]
    for worker in workers:
        worker.wait_ready()
    layout = general_line(people["plant"])
    run_id = create(client_for(people["alice"]), layout, replications=REPS, horizon_s=3_000_000, warmup_s=1_000)
    wait_for(lambda: stored(run_id) >= 2, 90, "two replications", workers)
    assert SimulationRun.objects.get(pk=run_id).status == "running"

    if fault == "restart":  # `systemctl restart redis` without persistence: connections drop, everything is gone
        private_redis.kill()
        time.sleep(1.0)
        private_redis.start()
    else:
        redis.Redis.from_url(private_redis.url).flushall()
    kept = stored(run_id)
    assert kept >= 2  # finished work outlives Redis

    with GroupListener(f"layout.{layout.id}", redis_url=private_redis.url) as room:
        run = wait_for(lambda: finished(run_id), 120, "the run to finish after the fault", workers)
        wait_for(lambda: any(e["status"] == "succeeded" for e in room.sim(run_id)), 10, "the final sim.progress", workers)
        time.sleep(2.0)  # a second finish would show up here
        assert [e["status"] for e in room.sim(run_id)].count("succeeded") == 1
    assert run.status == "succeeded", run.error
    assert SimulationRun.objects.get(pk=run_id).finished_at == run.finished_at
    assert run.results == in_process(run)  # every replication counted exactly once
    assert stored(run_id) == 0
    logs = "".join(w.text() for w in workers)
    assert "were lost; sending replications" in logs, "the watchdog should have resent the missing batches"
