"""The watchdog (RELIABILITY.md, "Faults"): a run whose messages a Redis restart or flush took away is sent
again — only what is missing, once — and finishes with the same results as if nothing had happened.

In this process, on the test broker: "the flush" deletes exactly what FLUSHALL would take from this run
(its queue and its dispatch mark) without touching anyone else's keys on the shared Redis.
"""
import base64
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.builders import make_layout
from twins.models import SimulationReplication, SimulationRun
from twins.services import simulation_store
from twins.services import simulations as svc
from twins.services.simulation_watchdog import simulation_watchdog
from twins.simulation import runner
from twins.simulation_model import model_from_dict
from twins.tasks.simulation import simulation_watchdog_task

from .conftest import broker_url
from .helpers import in_process

pytestmark = pytest.mark.django_db(transaction=True)
PARAMS = {"horizon_s": 5_000, "warmup_s": 500, "replications": 5, "seed": 3}


def queued(broker, queue) -> list[tuple[str, list]]:
    """The (task name, args) of the messages waiting on a queue, oldest first."""
    out = []
    for raw in reversed(broker.lrange(queue, 0, -1)):  # kombu LPUSHes and BRPOPs
        message = json.loads(raw)
        args = json.loads(base64.b64decode(message["body"]))[0]
        out.append((message["headers"]["task"], args))
    return out


def flush(broker, queue, run_id) -> None:
    broker.delete(queue, simulation_store._key(run_id))


def age(run, seconds=60) -> None:
    SimulationRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(seconds=seconds))


def new_run(people):
    layout = make_layout(factory=people["plant"], assets=2, line=True)
    return svc.simulation_create(layout=layout, params=PARAMS, by=people["alice"])


def test_lost_batches_are_sent_again_without_the_finished_replications_and_the_run_ends_once(people, broker, sim_queue):
    run = new_run(people)
    batches = svc.simulation_start(run_id=run.id)
    svc.simulation_dispatch(run_id=run.id, batches=batches)
    assert [args for _, args in queued(broker, sim_queue)] == [[run.id]] + [[run.id, b] for b in batches]
    svc.simulation_run_batch(run_id=run.id, replications=batches[0])  # one batch done before the fault
    flush(broker, sim_queue, run.id)
    age(run)
    assert SimulationReplication.objects.filter(run=run).count() == len(batches[0])  # kept through the flush

    assert simulation_watchdog() == [run.id]
    assert simulation_watchdog() == []  # sent once: the mark is back with the messages
    resent = queued(broker, sim_queue)
    assert {task for task, _ in resent} == {"twins.simulation.batch"}
    missing = sorted(r for _, (_, reps) in resent for r in reps)
    assert missing == [r for r in range(5) if r not in batches[0]]

    for _, (run_id, reps) in resent:
        svc.simulation_run_batch(run_id=run_id, replications=reps)
    run.refresh_from_db()
    assert run.status == "succeeded" and run.attempts == 1
    assert run.results == in_process(run)
    assert not SimulationReplication.objects.filter(run=run).exists()
    assert simulation_watchdog() == []


def test_a_queued_run_whose_start_was_lost_is_started_again(people, broker, sim_queue):
    run = new_run(people)
    flush(broker, sim_queue, run.id)
    age(run)
    assert simulation_watchdog_task.apply().get() == [run.id]  # the beat task, run in this process
    assert queued(broker, sim_queue) == [("twins.simulation.run", [run.id])]


def test_a_run_with_every_replication_stored_but_not_combined_is_combined(people, broker, sim_queue):
    run = new_run(people)
    svc.simulation_start(run_id=run.id)
    reps = runner.run_replications(model_from_dict(run.params["model"]), horizon_s=5_000, warmup_s=500, seed=3,
                                   replications=list(range(5)))
    simulation_store.replications_save(run_id=run.id, reps=reps)  # a worker died between the last store and the end
    flush(broker, sim_queue, run.id)
    age(run)
    assert simulation_watchdog() == [run.id]
    [(_, (run_id, replications))] = queued(broker, sim_queue)
    assert replications == []
    svc.simulation_run_batch(run_id=run_id, replications=replications)
    run.refresh_from_db()
    assert run.status == "succeeded" and run.results == in_process(run)


def test_runs_whose_messages_are_still_there_young_runs_and_ended_runs_are_left_alone(people, broker, sim_queue):
    waiting = new_run(people)  # its start message and mark are in the broker: it is just waiting for a worker
    age(waiting, 3600)
    young = new_run(people)  # its mark is gone, but it may still be on its way
    flush(broker, sim_queue, young.id)
    ended = new_run(people)
    age(ended)
    svc.simulation_cancel(run=ended, by=people["alice"])
    before = broker.llen(sim_queue)
    assert simulation_watchdog() == []
    assert broker.llen(sim_queue) == before


def test_a_batch_that_ends_while_the_others_were_lost_sends_them_again_at_once(people, broker, sim_queue):
    run = new_run(people)
    batches = svc.simulation_start(run_id=run.id)
    svc.simulation_dispatch(run_id=run.id, batches=batches)
    age(run)
    flush(broker, sim_queue, run.id)  # batch 0 was in a worker's hands when Redis lost the rest
    svc.simulation_run_batch(run_id=run.id, replications=batches[0])
    assert sorted(r for _, (_, reps) in queued(broker, sim_queue) for r in reps) == [r for b in batches[1:] for r in b]


def test_an_enqueue_that_fails_leaves_the_run_queued_for_the_watchdog(people, producer_on, broker, sim_queue):
    producer_on("redis://127.0.0.1:1/0")  # nobody listens there: the broker is away when the run is created
    run = new_run(people)  # no exception after the commit: the request that created it answers 201
    assert SimulationRun.objects.get(pk=run.pk).status == "queued"
    producer_on(broker_url())  # back
    age(run)
    assert simulation_watchdog() == [run.id]
    assert queued(broker, sim_queue) == [("twins.simulation.run", [run.id])]
