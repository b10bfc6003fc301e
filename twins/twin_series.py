"""Raw telemetry series, as the §9 fits and counts need them: every reading of one value in a window (the
(twin, name, ts) index bounds the scan) and the last reading before it. Raw points older than the retention
window are gone (only hourly roll-ups remain), so fits over such a window find no data and say so."""
from datetime import datetime

from .models import TelemetryPoint


def series_values(*, twin_id: int, name: str, start: datetime, end: datetime) -> list[tuple[datetime, float]]:
    """Numeric readings in [start, end), oldest first."""
    return list(TelemetryPoint.objects.filter(twin_id=twin_id, name=name, ts__gte=start, ts__lt=end, value__isnull=False)
                .order_by("ts", "id").values_list("ts", "value"))


def series_numbers(*, twin_id: int, name: str, start: datetime, end: datetime) -> list[float]:
    """Just the numeric values in [start, end) (a fit needs no timestamps: half the rows' cost)."""
    return list(TelemetryPoint.objects.filter(twin_id=twin_id, name=name, ts__gte=start, ts__lt=end, value__isnull=False)
                .values_list("value", flat=True))


def series_texts(*, twin_id: int, name: str, start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    """Text readings (a `status` word) in [start, end), oldest first."""
    return list(TelemetryPoint.objects.filter(twin_id=twin_id, name=name, ts__gte=start, ts__lt=end, value__isnull=True)
                .order_by("ts", "id").values_list("ts", "text"))


def last_before(*, twin_id: int, name: str, before: datetime, text: bool = False):
    """The last (ts, value) — or (ts, text) — strictly before `before`, or None."""
    qs = TelemetryPoint.objects.filter(twin_id=twin_id, name=name, ts__lt=before, value__isnull=text)
    return qs.order_by("-ts", "-id").values_list("ts", "text" if text else "value").first()
