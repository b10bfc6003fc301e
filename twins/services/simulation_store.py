"""Where a run's work lives between its tasks: finished replications in the database, and a marker that
says the run's messages are in the broker.

The replications are durable, so no Redis fault loses finished work. The marker lives in the broker's own
Redis (same server, same database as the queued messages), so whatever loses the messages — a restart
without persistence, FLUSHALL, FLUSHDB — loses the marker with them: its absence is how the watchdog
knows a run's work must be sent again.
"""
from __future__ import annotations

import logging
from functools import lru_cache

import redis
from django.conf import settings

from metaverse.celery import app

from ..models import SimulationReplication, SimulationRun

log = logging.getLogger(__name__)

MARK_TTL_S = 7 * 24 * 3600  # far beyond any wait in a queue; should it lapse, the watchdog merely resends
START, BATCHES = "start", "batches"  # what was sent: the run's start task, or its replication batches


def replications_done(run_id: int) -> set[int]:
    return set(SimulationReplication.objects.filter(run_id=run_id).values_list("index", flat=True))


def replications_save(*, run_id: int, reps: list[dict]) -> int:
    """Store finished replications once each (a redelivered batch is a no-op); the number stored so far.
    Under the run's row lock: a cancel or finish (an update of that row, then the deletion of its
    replications) either comes first, and nothing is stored, or waits for this insert and then deletes it."""
    from django.db import transaction

    with transaction.atomic():
        if SimulationRun.objects.select_for_update().filter(pk=run_id, status=SimulationRun.Status.RUNNING).exists():
            SimulationReplication.objects.bulk_create(
                [SimulationReplication(run_id=run_id, index=rep["replication"], data=rep) for rep in reps], ignore_conflicts=True)
    return SimulationReplication.objects.filter(run_id=run_id).count()


def replications_load(run_id: int) -> list[dict]:
    return list(SimulationReplication.objects.filter(run_id=run_id).order_by("index").values_list("data", flat=True))


def replications_delete(run_id: int) -> None:
    SimulationReplication.objects.filter(run_id=run_id).delete()


def sent_mark(run_id: int, what: str, *, only_if_absent: bool = False) -> bool:
    """Record that `what` is being sent for this run; with only_if_absent, False if a mark was there."""
    return bool(_broker().set(_key(run_id), what, ex=MARK_TTL_S, nx=only_if_absent))


def sent_what(run_id: int) -> str | None:
    value = _broker().get(_key(run_id))
    return value.decode() if value else None


def sent_clear(run_id: int) -> None:
    try:
        _broker().delete(_key(run_id))
    except redis.RedisError:
        log.warning("could not clear the dispatch mark of run %s", run_id, exc_info=True)


def _key(run_id: int) -> str:
    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"].get("prefix", "asgi")
    return f"{prefix}:mv:sim:{run_id}:sent"


def _broker() -> redis.Redis:
    url = app.conf.broker_url or settings.REDIS_URL
    return _client(url if url.startswith(("redis://", "rediss://", "unix://")) else settings.REDIS_URL)


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2, health_check_interval=30)
