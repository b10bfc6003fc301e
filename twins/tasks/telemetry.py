"""Telemetry tasks: the retention / roll-up job, scheduled on Celery beat every 10 minutes."""
from celery import shared_task

from metaverse.celery import app

ROLLUP_EVERY_S = 600

__all__ = ["telemetry_rollup_task"]


@shared_task(name="twins.telemetry_rollup", ignore_result=True)
def telemetry_rollup_task() -> dict:
    from ..services.telemetry_rollup import telemetry_rollup

    return telemetry_rollup()


app.conf.beat_schedule = {
    **(app.conf.beat_schedule or {}),
    "telemetry-rollup": {"task": "twins.telemetry_rollup", "schedule": ROLLUP_EVERY_S},
}
