"""The run life cycle through the services, in this process: idempotent batches, one finish, readable failures."""
import pytest

from tests.builders import make_layout
from twins.models import SimulationRun
from twins.services import simulations as svc
from twins.simulation import runner
from twins.simulation_model import model_from_dict

PARAMS = {"horizon_s": 5_000, "warmup_s": 500, "replications": 5, "seed": 3}


def new_run(people, **params):
    layout = make_layout(factory=people["plant"], assets=2, line=True)
    return svc.simulation_create(layout=layout, params={**PARAMS, **params}, by=people["alice"])


@pytest.mark.django_db
def test_redelivered_tasks_never_produce_a_second_result(people):
    run = new_run(people)
    batches = svc.simulation_start(run_id=run.id, task_id="first")
    assert sorted(r for b in batches for r in b) == list(range(5))
    for batch in batches:
        svc.simulation_run_batch(run_id=run.id, replications=batch)
    run.refresh_from_db()
    assert run.status == "succeeded" and run.attempts == 1
    p = run.params
    assert run.results == runner.simulate(model_from_dict(p["model"]), horizon_s=p["horizon_s"], warmup_s=p["warmup_s"],
                                          replications=p["replications"], seed=p["seed"])
    finished_at, results = run.finished_at, run.results
    # A redelivered start and redelivered batches are no-ops once the run has finished.
    assert svc.simulation_start(run_id=run.id, task_id="again") is None
    for batch in batches:
        svc.simulation_run_batch(run_id=run.id, replications=batch)
    run.refresh_from_db()
    assert (run.status, run.finished_at, run.results, run.attempts) == ("succeeded", finished_at, results, 1)


@pytest.mark.django_db
def test_a_batch_run_twice_mid_run_counts_its_replications_once(people):
    run = new_run(people)
    batches = svc.simulation_start(run_id=run.id)
    for _ in range(2):
        svc.simulation_run_batch(run_id=run.id, replications=batches[0])
    assert SimulationRun.objects.get(pk=run.id).status == "running"
    assert SimulationRun.objects.get(pk=run.id).progress == pytest.approx(len(batches[0]) / 5)
    assert svc.simulation_start(run_id=run.id) == batches  # a retried start claims it again
    for batch in batches[1:]:
        svc.simulation_run_batch(run_id=run.id, replications=batch)
    run.refresh_from_db()
    assert run.status == "succeeded" and run.results["replications"] == 5 and run.attempts == 2


@pytest.mark.django_db
def test_an_engine_failure_stores_a_readable_error(people):
    run = new_run(people)
    svc.simulation_start(run_id=run.id)
    params = run.params
    m1 = next(s for s in params["model"]["stations"] if s["name"] == "M1")
    m1["cycle_time_s"] = -5.0  # a snapshot the engine refuses
    SimulationRun.objects.filter(pk=run.id).update(params=params)
    svc.simulation_run_batch(run_id=run.id, replications=[0])
    run.refresh_from_db()
    assert run.status == "failed" and run.results is None and run.finished_at
    assert "'M1'" in run.error and "cycle_time_s" in run.error


@pytest.mark.django_db
def test_a_cancelled_run_is_not_started_and_its_batches_do_nothing(people):
    run = new_run(people)
    svc.simulation_cancel(run=run, by=people["bob"])
    assert svc.simulation_start(run_id=run.id) is None
    svc.simulation_run_batch(run_id=run.id, replications=[0, 1])
    run.refresh_from_db()
    assert run.status == "cancelled" and run.results is None and run.attempts == 0


def test_batches_cover_every_replication_once():
    for n in (1, 2, 7, 8, 9, 30, 200):
        batches = svc.plan_batches(n)
        assert sorted(r for b in batches for r in b) == list(range(n)) and len(batches) <= svc.BATCHES_MAX
