"""Anomaly flags: an exponentially weighted mean and variance per twin value, a reading flagged when it lies
more than K standard deviations from the recent mean.

The state lives in Redis (one hash per twin, a field per value name: "n mean var") so that every ingesting
process (daphne, the MQTT and OPC UA bridges, the demo feed) shares it and it survives restarts. Two
processes writing the same series at the same instant may lose one update of the state: harmless for a
statistical flag. When Redis is away, readings are stored unflagged and the state is left alone.
"""
import logging
import math
import time
from collections import defaultdict

from collaboration import redis_state

from .telemetry_validate import Reading

log = logging.getLogger(__name__)

ALPHA = 0.1  # weight of the newest reading: a memory of about 20 readings
K = 4.0  # how many standard deviations make an anomaly
WARMUP = 10  # readings seen before anything is flagged
STATE_TTL_S = 7 * 24 * 3600
_redis_down_until = 0.0


def _key(twin_id: int) -> str:
    return f"{redis_state._prefix()}:mv:ewma:{twin_id}"


def ewma_step(state: tuple[int, float, float] | None, x: float) -> tuple[bool, tuple[int, float, float]]:
    """Flag `x` against the state, then fold it in; returns (anomaly, new state)."""
    if state is None:
        return False, (1, x, 0.0)
    n, mean, var = state
    diff = x - mean
    std = max(math.sqrt(var), 1e-9 + 1e-3 * abs(mean))
    anomaly = n >= WARMUP and abs(diff) > K * std
    incr = ALPHA * diff
    return anomaly, (n + 1, mean + incr, (1 - ALPHA) * (var + diff * incr))


def flag_anomalies(readings: list[Reading]) -> int:
    """Set `anomaly` on numeric readings (taken in timestamp order); returns how many were flagged."""
    global _redis_down_until
    series: dict[int, dict[str, list[Reading]]] = defaultdict(lambda: defaultdict(list))
    for r in readings:
        if r.value is not None:
            series[r.twin_id][r.name].append(r)
    if not series or time.monotonic() < _redis_down_until:
        return 0
    twin_ids = list(series)
    try:
        client = redis_state.client()
        pipe = client.pipeline(transaction=False)
        for twin_id in twin_ids:
            pipe.hmget(_key(twin_id), list(series[twin_id]))
        stored = pipe.execute()
    except Exception:
        _redis_down_until = time.monotonic() + 10
        log.warning("anomaly state unavailable; readings stored unflagged", exc_info=True)
        return 0
    flagged = 0
    pipe = client.pipeline(transaction=False)
    for twin_id, raw_states in zip(twin_ids, stored):
        updates = {}
        for (name, rows), raw in zip(series[twin_id].items(), raw_states):
            state = None
            if raw:
                n, mean, var = raw.split()
                state = (int(n), float(mean), float(var))
            for r in sorted(rows, key=lambda r: r.ts):
                r.anomaly, state = ewma_step(state, r.value)
                flagged += r.anomaly
            updates[name] = f"{state[0]} {state[1]!r} {state[2]!r}"
        pipe.hset(_key(twin_id), mapping=updates)
        pipe.expire(_key(twin_id), STATE_TTL_S)
    try:
        pipe.execute()
    except Exception:
        _redis_down_until = time.monotonic() + 10
        log.warning("anomaly state not saved", exc_info=True)
    return flagged
