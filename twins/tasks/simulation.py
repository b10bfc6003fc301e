"""Simulation tasks: thin interfaces over twins.services.simulations (fetch by id, call the service).

`simulation_run_task` claims the run and fans its replication batches out as a Celery group of
`simulation_batch_task`; the batches store their replications idempotently and the last one combines
them. Both tasks are `acks_late` with `reject_on_worker_lost`, so a killed worker's batch is redelivered,
and redelivery is harmless: finished replications are skipped and a run succeeds only once.
"""
from celery import group, shared_task

from ..services import simulations as svc

__all__ = ["simulation_batch_task", "simulation_run_task"]


@shared_task(name="twins.simulation.run", bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def simulation_run_task(self, run_id: int) -> None:
    batches = svc.simulation_start(run_id=run_id, task_id=self.request.id or "")
    if batches is None or svc.was_dispatched(run_id):
        return
    # The batches go to the queue this run came from (a dedicated simulation queue, if there is one).
    queue = (self.request.delivery_info or {}).get("routing_key")
    group(simulation_batch_task.s(run_id, reps) for reps in batches).apply_async(**({"queue": queue} if queue else {}))
    svc.mark_dispatched(run_id)


@shared_task(name="twins.simulation.batch", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def simulation_batch_task(run_id: int, replications: list[int]) -> None:
    svc.simulation_run_batch(run_id=run_id, replications=replications)
