"""Retention: raw points older than TELEMETRY_RETENTION_DAYS (default 30) become hourly TelemetryRollup rows
and are deleted; complete recent hours are rolled up too (kept raw) so that coarse history reads roll-ups.

Idempotent: an hour is recomputed from whatever raw points it still has and upserted, one day per transaction.
"""
import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from ..models import TelemetryPoint, TelemetryRollup
from ..twin_selectors import HOUR, POINTS, _db_ts, epoch_bucket_sql, floor_hour

log = logging.getLogger(__name__)


def retention_days() -> int:
    return int(getattr(settings, "TELEMETRY_RETENTION_DAYS", 30))


def _rollup_range(start: datetime, end: datetime) -> int:
    """Upsert the hourly roll-ups of numeric raw points in [start, end); returns the rows written."""
    sql = (
        f"SELECT twin_id, name, {epoch_bucket_sql('ts')} AS b, COUNT(value), MIN(value), MAX(value), AVG(value) FROM {POINTS} "
        "WHERE ts >= %s AND ts < %s AND value IS NOT NULL GROUP BY twin_id, name, b"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [HOUR, _db_ts(start), _db_ts(end)])
        rows = cursor.fetchall()
    rollups = [
        TelemetryRollup(twin_id=twin_id, name=name, bucket_start=datetime.fromtimestamp(int(b) * HOUR, tz=UTC), bucket_s=HOUR,
                        count=count, min=lo, max=hi, mean=mean)
        for twin_id, name, b, count, lo, hi, mean in rows
    ]
    TelemetryRollup.objects.bulk_create(
        rollups, batch_size=1000, update_conflicts=True,
        unique_fields=["twin", "name", "bucket_start", "bucket_s"], update_fields=["count", "min", "max", "mean"],
    )
    return len(rollups)


def telemetry_rollup(*, now: datetime | None = None, days: int | None = None, recent_hours: int = 3) -> dict:
    """Roll up and delete raw points older than the retention window; roll up (keep) the last complete hours."""
    now = now or timezone.now()
    cutoff = floor_hour(now - timedelta(days=retention_days() if days is None else days))
    rolled = deleted = 0
    oldest = TelemetryPoint.objects.filter(ts__lt=cutoff).order_by("ts").values_list("ts", flat=True).first()
    day = floor_hour(oldest) if oldest else cutoff
    while day < cutoff:
        stop = min(day + timedelta(days=1), cutoff)
        with transaction.atomic():
            rolled += _rollup_range(day, stop)
            deleted += TelemetryPoint.objects.filter(ts__gte=day, ts__lt=stop)._raw_delete(TelemetryPoint.objects.db)
        day = stop
    # Recent complete hours: from where the last run stopped (or a few hours back, to catch late points).
    this_hour = floor_hour(now)
    last = TelemetryRollup.objects.filter(bucket_s=HOUR).order_by("-bucket_start").values_list("bucket_start", flat=True).first()
    start = cutoff if last is None else max(cutoff, min(last + timedelta(hours=1), this_hour - timedelta(hours=recent_hours)))
    while start < this_hour:
        stop = min(start + timedelta(days=1), this_hour)
        with transaction.atomic():
            rolled += _rollup_range(start, stop)
        start = stop
    if deleted:
        log.info("telemetry retention: %d raw points before %s rolled up into hours and deleted", deleted, cutoff)
    return {"rolled_up": rolled, "deleted": deleted, "cutoff": cutoff.isoformat()}
