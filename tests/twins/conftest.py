"""Twins of the `plant` factory and a helper that posts telemetry the way a device does."""
from datetime import UTC, datetime, timedelta

import pytest

from twins.models import Twin


@pytest.fixture
def twins(people):
    plant = people["plant"]
    return {
        "cnc": Twin.objects.create(factory=plant, key="cnc-1", name="CNC-1"),
        "press": Twin.objects.create(factory=plant, key="press-1", name="Press-1"),
        "foreign": Twin.objects.create(factory=people["other"], key="cnc-1", name="Their CNC"),
    }


@pytest.fixture
def post_points(client_for, people):
    def post(points, *, user=None, factory=None):
        client = client_for(user or people["alice"])
        return client.post("/api/telemetry/", {"factory": factory or people["plant"].id, "points": points}, format="json")

    return post


def at(seconds: float) -> str:
    """An ISO timestamp `seconds` after a fixed, recent origin (whole hour, UTC)."""
    return (ORIGIN + timedelta(seconds=seconds)).isoformat()


ORIGIN = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)


@pytest.fixture(autouse=True)
def _fresh_anomaly_state():
    """Twin ids can repeat between tests (SQLite reuses them after a rollback): start each test's EWMA clean."""
    from collaboration import redis_state

    client = redis_state.client()
    for key in client.scan_iter(f"{redis_state._prefix()}:mv:ewma:*"):
        client.delete(key)
    yield
