"""Bulk writes of telemetry rows: `COPY` on PostgreSQL, one `executemany` on SQLite, never an INSERT per point."""
from django.db import connection

from ..models import TelemetryPoint
from .telemetry_validate import Reading

TABLE = TelemetryPoint._meta.db_table
COLUMNS = ("twin_id", "name", "ts", "value", "text", "anomaly")


def store_readings(readings: list[Reading]) -> int:
    """Insert the rows inside the caller's transaction; returns how many were written."""
    if not readings:
        return 0
    vendor = connection.vendor
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY {TABLE} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                write = copy.write_row
                for r in readings:
                    write((r.twin_id, r.name, r.ts, r.value, r.text, r.anomaly))
    elif vendor == "sqlite":
        # Django stores naive UTC as str(datetime); readings are always UTC (telemetry_validate.parse_ts).
        sql = f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join(['%s'] * len(COLUMNS))})"
        with connection.cursor() as cursor:
            cursor.executemany(sql, [(r.twin_id, r.name, r.ts.replace(tzinfo=None).isoformat(" "), r.value, r.text, r.anomaly) for r in readings])
    else:
        TelemetryPoint.objects.bulk_create(
            [TelemetryPoint(twin_id=r.twin_id, name=r.name, ts=r.ts, value=r.value, text=r.text, anomaly=r.anomaly) for r in readings],
            batch_size=2000,
        )
    return len(readings)
