"""Plan against actual: beat evaluates the drift alarms every PLAN_DRIFT_EVERY_S (default 5 minutes)."""
from celery import shared_task
from django.conf import settings

from metaverse.celery import app

__all__ = ["plan_drift_task"]


@shared_task(name="twins.plan_drift", ignore_result=True)
def plan_drift_task() -> int:
    from ..services.plan_vs_actual import plan_drift_evaluate_all

    return plan_drift_evaluate_all()


app.conf.beat_schedule = {
    **(app.conf.beat_schedule or {}),
    "plan-drift": {"task": "twins.plan_drift", "schedule": float(getattr(settings, "PLAN_DRIFT_EVERY_S", 300))},
}
