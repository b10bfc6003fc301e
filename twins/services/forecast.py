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
