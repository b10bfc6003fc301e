"""Telemetry points from any path (REST, MQTT, OPC UA, demo feed) checked the same way, all at once.

A point is `{"twin": KEY, "ts": ISO-8601 | epoch ms | absent, "values": {NAME: number | string}}`.
Every problem is reported against the point's index so that a client can find the culprit in its batch.
"""
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..errors import Invalid
from ..models import Twin

MAX_POINTS = 10_000
MAX_VALUES_PER_POINT = 200
MAX_TEXT = 64
FUTURE_SLACK = timedelta(minutes=5)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
STATUS_WORDS = frozenset(Twin.Status.values)
NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:/-]{0,63}$")
REPORTED_ERRORS = 100
FIELDS = frozenset({"twin", "ts", "values"})


@dataclass(slots=True)
class Reading:
    """One stored row: a single named value of a twin at a time."""

    twin_id: int
    name: str
    ts: datetime
    value: float | None
    text: str
    anomaly: bool = False


class BadPoints(Invalid):
    """Some points of a batch are bad; `bad` maps every bad index to its messages."""

    def __init__(self, bad: dict[int, list[str]]):
        first = min(bad)
        shown = {str(i): bad[i] for i in sorted(bad)[:REPORTED_ERRORS]}
        more = f" ({len(bad)} bad points in all)" if len(bad) > 1 else ""
        super().__init__(f"points[{first}]: {bad[first][0]}{more}", errors={"points": shown})
        self.bad = bad


def parse_ts(raw, *, now: datetime) -> datetime:
    if isinstance(raw, str):  # the common case first: this runs once per point
        try:
            ts = datetime.fromisoformat(raw.strip())
        except ValueError:
            raise ValueError(f"ts {raw[:40]!r} is not an ISO-8601 timestamp.") from None
        ts = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
    elif raw is None:
        return now
    elif isinstance(raw, bool):
        raise ValueError("ts must be an ISO-8601 string or epoch milliseconds.")
    elif isinstance(raw, (int, float)):
        if not math.isfinite(raw):
            raise ValueError("ts must be finite.")
        try:
            ts = datetime.fromtimestamp(raw / 1000.0, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError("ts is out of range.") from None
    else:
        raise ValueError("ts must be an ISO-8601 string or epoch milliseconds.")
    if ts > now + FUTURE_SLACK:
        raise ValueError("ts is more than 5 minutes in the future.")
    if ts < EARLIEST:
        raise ValueError("ts is before the year 2000 (epoch seconds sent as milliseconds?).")
    return ts


def _value(name, raw) -> tuple[float | None, str]:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ValueError(f"value name {str(name)[:40]!r} must be 1-64 letters, digits or _ . : / -.")
    if isinstance(raw, bool) or raw is None:
        raise ValueError(f"values.{name} must be a number or a string.")
    if isinstance(raw, (int, float)):
        try:
            number = float(raw)
        except OverflowError:
            raise ValueError(f"values.{name} is too large.") from None
        if not math.isfinite(number):
            raise ValueError(f"values.{name} must be a finite number (no NaN or Infinity).")
        return number, ""
    if isinstance(raw, str):
        if len(raw) > MAX_TEXT:
            raise ValueError(f"values.{name} is longer than {MAX_TEXT} characters.")
        if not raw.isprintable():
            raise ValueError(f"values.{name} must not hold control characters.")
        if name == "status" and raw not in STATUS_WORDS:
            raise ValueError(f"values.status must be one of {', '.join(sorted(STATUS_WORDS))}.")
        return None, raw
    raise ValueError(f"values.{name} must be a number or a string.")


def _point(point, twins_by_key: dict[str, Twin], now: datetime, names: set[str]) -> list[Reading]:
    """The readings of one point, or ValueError with the first thing wrong with it."""
    if type(point) is not dict:
        raise ValueError("each point must be an object {twin, ts, values}.")
    if not point.keys() <= FIELDS:
        extra = set(point) - FIELDS
        raise ValueError(f"unknown field(s) {', '.join(sorted(map(str, extra)))}.")
    key = point.get("twin")
    if type(key) is not str:
        raise ValueError("twin must be a twin key (a string).")
    twin = twins_by_key.get(key)
    if twin is None:
        raise ValueError(f"no twin with key {key[:80]!r} in this factory.")
    ts = parse_ts(point.get("ts"), now=now)
    values = point.get("values")
    if type(values) is not dict or not values:
        raise ValueError("values must be a non-empty object {name: number or string}.")
    if len(values) > MAX_VALUES_PER_POINT:
        raise ValueError(f"a point holds at most {MAX_VALUES_PER_POINT} values.")
    twin_id = twin.id
    row = []
    for name, raw in values.items():
        if type(raw) is float and name in names and raw - raw == 0.0:  # a finite float under a known-good name
            row.append(Reading(twin_id, name, ts, raw, ""))
        else:
            row.append(Reading(twin_id, name, ts, *_value(name, raw)))
            names.add(name)
    return row


def parse_points(points, *, twins_by_key: dict[str, Twin], now: datetime) -> tuple[list[Reading], dict[int, list[str]]]:
    """Readings of the good points and the messages of the bad ones, by index."""
    readings: list[Reading] = []
    bad: dict[int, list[str]] = {}
    names: set[str] = set()  # value names already checked against NAME_RE in this batch
    extend = readings.extend
    for index, point in enumerate(points):
        try:
            extend(_point(point, twins_by_key, now, names))
        except ValueError as exc:
            bad[index] = [str(exc)]
    return readings, bad


def check_batch(points) -> None:
    if not isinstance(points, list):
        raise Invalid("points must be a list of telemetry points.", errors={"points": ["Must be a list."]})
    if len(points) > MAX_POINTS:
        raise Invalid(f"A batch holds at most {MAX_POINTS} points; this one has {len(points)}. Split it.",
                      errors={"points": [f"At most {MAX_POINTS} points."]})


def point_keys(points) -> set[str]:
    return {p["twin"] for p in points if isinstance(p, dict) and isinstance(p.get("twin"), str)}
