"""Simulation tasks: thin interfaces over twins.services.simulations (fetch by id, call the service).

`simulation_run_task` claims the run and fans its replication batches out as a Celery group of
`simulation_batch_task`; the batches store their replications idempotently and the last one combines
them. Both tasks are `acks_late` with `reject_on_worker_lost`, so a killed worker's batch is redelivered,
and redelivery is harmless: finished replications are skipped and a run succeeds only once. Messages that
a Redis restart loses are sent again by `simulation_watchdog_task`, on Celery beat.
"""
from celery import shared_task
from django.conf import settings

from metaverse.celery import app

from ..services import simulations as svc
from ..services.forecast import forecast_refresh
from ..services.simulation_watchdog import simulation_watchdog

__all__ = ["forecast_refresh_task", "simulation_batch_task", "simulation_run_task", "simulation_watchdog_task"]


@shared_task(name="twins.simulation.run", bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def simulation_run_task(self, run_id: int) -> None:
    batches = svc.simulation_start(run_id=run_id, task_id=self.request.id or "")
    if batches is None or svc.was_dispatched(run_id):
        return
    svc.simulation_dispatch(run_id=run_id, batches=batches)


@shared_task(name="twins.simulation.batch", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def simulation_batch_task(run_id: int, replications: list[int]) -> None:
    svc.simulation_run_batch(run_id=run_id, replications=replications)


@shared_task(name="twins.simulation.watchdog", ignore_result=True, expires=60)
def simulation_watchdog_task() -> list[int]:
    return simulation_watchdog()


@shared_task(name="twins.simulation.forecast", ignore_result=True, expires=60)
def forecast_refresh_task() -> list[int]:
    return forecast_refresh()


app.conf.beat_schedule = {
    **(app.conf.beat_schedule or {}),
    "simulation-watchdog": {"task": "twins.simulation.watchdog", "schedule": settings.SIMULATION_WATCHDOG_S,
                            "options": {"queue": settings.SIMULATION_QUEUE} if settings.SIMULATION_QUEUE else {}},
    # Cheap when no factory asks for forecasts (one query); each factory sets its own pace.
    "forecast-refresh": {"task": "twins.simulation.forecast", "schedule": 60.0,
                         "options": {"queue": settings.SIMULATION_QUEUE} if settings.SIMULATION_QUEUE else {}},
}
