"""Reads of the digital twin: alarms and rules a user may see, and bucketed history computed in the database.

History over raw points groups by `floor(epoch / bucket_s)` in SQL (the (twin, name, ts) index bounds the
scan); hours already rolled up into TelemetryRollup rows are read from there: always where the raw points
are gone (older than the retention window), and also for recent hours when `bucket_s` is a whole number of
hours, so that a month at hourly buckets reads ~720 rows instead of millions.
"""
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.models import QuerySet

from .errors import Invalid
from .models import Alarm, AlarmRule, TelemetryPoint, TelemetryRollup, Twin
from .selectors import factory_ids_for_user

MAX_BUCKETS = 10_000
MAX_ANOMALIES = 1_000
HOUR = 3600
POINTS = TelemetryPoint._meta.db_table
ROLLUPS = TelemetryRollup._meta.db_table


def alarm_rules_for_user(*, user) -> QuerySet[AlarmRule]:
    return AlarmRule.objects.filter(factory__in=factory_ids_for_user(user=user))


def alarms_for_user(*, user) -> QuerySet[Alarm]:
    return Alarm.objects.filter(twin__factory__in=factory_ids_for_user(user=user)).select_related("twin", "acked_by")


def epoch_bucket_sql(column: str) -> str:
    """SQL for the integer index of the `%s`-second bucket that `column` falls in (exact, no float rounding)."""
    if connection.vendor == "postgresql":
        return f"floor(extract(epoch from {column}) / %s)::bigint"
    return f"(CAST(strftime('%%s', {column}) AS INTEGER) / %s)"


def _db_ts(value: datetime):
    return connection.ops.adapt_datetimefield_value(value) if connection.vendor == "sqlite" else value


def floor_hour(value: datetime) -> datetime:
    return value.replace(minute=0, second=0, microsecond=0)


def _raw_buckets(twin_id, name, start, end, bucket_s) -> list[tuple]:
    sql = (
        f"SELECT {epoch_bucket_sql('ts')} AS b, MIN(value), MAX(value), SUM(value), COUNT(value) FROM {POINTS} "
        "WHERE twin_id = %s AND name = %s AND ts >= %s AND ts < %s AND value IS NOT NULL GROUP BY b"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [bucket_s, twin_id, name, _db_ts(start), _db_ts(end)])
        return cursor.fetchall()


def _rollup_buckets(twin_id, name, start, end, bucket_s) -> list[tuple]:
    sql = (
        f"SELECT {epoch_bucket_sql('bucket_start')} AS b, MIN(min), MAX(max), SUM(mean * count), SUM(count) FROM {ROLLUPS} "
        "WHERE twin_id = %s AND name = %s AND bucket_start >= %s AND bucket_start < %s AND bucket_s = %s GROUP BY b"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [bucket_s, twin_id, name, _db_ts(start), _db_ts(end), HOUR])
        return cursor.fetchall()


def _split(twin_id, name, start, end, bucket_s) -> datetime:
    """Where the raw points take over from the hourly roll-ups."""
    first_raw = TelemetryPoint.objects.filter(twin_id=twin_id, name=name).order_by("ts").values_list("ts", flat=True).first()
    split = floor_hour(first_raw) if first_raw else end
    if bucket_s % HOUR == 0:
        last_rollup = (TelemetryRollup.objects.filter(twin_id=twin_id, name=name, bucket_s=HOUR)
                       .order_by("-bucket_start").values_list("bucket_start", flat=True).first())
        if last_rollup is not None:
            split = max(split, last_rollup + timedelta(seconds=HOUR))
    return min(max(split, start), end)


def twin_history(*, twin: Twin, name: str, start: datetime, end: datetime, bucket_s: int) -> dict:
    """`{t, min, max, mean, count}` per bucket that holds data (t = bucket start, epoch ms), plus the
    anomalous readings `{t, value}` in the range."""
    if end <= start:
        raise Invalid("'to' must be after 'from'.", errors={"to": ["Must be after 'from'."]})
    if (end - start).total_seconds() / bucket_s > MAX_BUCKETS:
        raise Invalid(f"At most {MAX_BUCKETS} buckets per query; use a larger bucket_s.", errors={"bucket_s": ["Too small for this range."]})
    split = _split(twin.id, name, start, end, bucket_s)
    merged: dict[int, list] = {}
    parts = []
    if split > start:
        parts.append(_rollup_buckets(twin.id, name, start, split, bucket_s))
    if end > split:
        parts.append(_raw_buckets(twin.id, name, split, end, bucket_s))
    for rows in parts:
        for b, lo, hi, total, count in rows:
            if not count:
                continue
            cur = merged.get(b)
            if cur is None:
                merged[b] = [lo, hi, total, count]
            else:
                cur[0], cur[1], cur[2], cur[3] = min(cur[0], lo), max(cur[1], hi), cur[2] + total, cur[3] + count
    out = {"name": name, "bucket_s": bucket_s, "from": start.isoformat().replace("+00:00", "Z"),
           "to": end.isoformat().replace("+00:00", "Z"), "t": [], "min": [], "max": [], "mean": [], "count": []}
    for b in sorted(merged):
        lo, hi, total, count = merged[b]
        out["t"].append(int(b) * bucket_s * 1000)
        out["min"].append(lo)
        out["max"].append(hi)
        out["mean"].append(total / count)
        out["count"].append(int(count))
    anomalies = (TelemetryPoint.objects.filter(twin_id=twin.id, name=name, ts__gte=max(start, split), ts__lt=end, anomaly=True)
                 .order_by("ts").values_list("ts", "value")[:MAX_ANOMALIES])
    out["anomalies"] = [{"t": int(ts.timestamp() * 1000), "value": value} for ts, value in anomalies]
    return out


def parse_time_param(raw: str | None, *, field: str) -> datetime | None:
    """ISO-8601 (naive = UTC) or epoch milliseconds."""
    if raw in (None, ""):
        return None
    try:
        return datetime.fromtimestamp(float(raw) / 1000.0, tz=UTC)
    except (ValueError, OverflowError, OSError):
        pass
    try:
        text = raw.strip()
        if "T" in text:  # a '+' of the offset arrives as a space when the query string was not encoded
            text = text.replace(" ", "+")
        value = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(f"'{field}' must be ISO-8601 or epoch milliseconds.", errors={field: ["Not a timestamp."]}) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
