"""The plant as its twins report it now (CONTRACT.md §9), as the starting state of a forecast: parts waiting
in front of each station (the twin's `queue` value) and stations in repair (status `down`)."""
from __future__ import annotations

import math

from ..models import Asset, Layout, Twin


def live_initial_state(layout: Layout) -> dict:
    """{asset id: {"queue", "down"}} for the layout's assets bound to a twin that reports either."""
    bound = dict(Asset.objects.filter(layout=layout).exclude(twin_key="").values_list("twin_key", "id"))
    state = {}
    for twin in Twin.objects.filter(factory_id=layout.factory_id, key__in=list(bound)):
        raw = (twin.values or {}).get("queue")
        queue = 0
        if isinstance(raw, (int, float)) and not isinstance(raw, bool) and math.isfinite(raw):
            queue = max(0, min(100_000, int(round(raw))))
        down = twin.status == Twin.Status.DOWN
        if queue or down:
            state[str(bound[twin.key])] = {"queue": queue, "down": down}
    return state


FORECAST_PARAMS = {"horizon_s": 8 * 3600.0, "warmup_s": 0.0, "replications": 10, "initial_state": "live"}


def forecast_refresh() -> list[int]:
    """Celery beat: for each factory that asks for it (`forecast_every_s`), a live forecast of its baseline
    when the latest one is older than that; the plant is the author (no user), the audit log says so."""
    from datetime import timedelta

    from django.utils import timezone

    from ..models import Factory, SimulationRun
    from .simulations import _create

    made = []
    for factory in Factory.objects.filter(forecast_every_s__isnull=False, baseline_layout__isnull=False).select_related("baseline_layout"):
        since = timezone.now() - timedelta(seconds=factory.forecast_every_s)
        recent = SimulationRun.objects.filter(layout=factory.baseline_layout, params__initial_state="live",
                                              created_at__gte=since).exists()
        if recent:
            continue
        try:
            made.append(_create(layout=factory.baseline_layout, params={**FORECAST_PARAMS, "seed": 0}, by=None).id)
        except Exception:  # a baseline that cannot be simulated right now: try again next time
            import logging

            logging.getLogger(__name__).warning("forecast of factory %s failed", factory.id, exc_info=True)
    return made
