"""Thousands of random and hostile frames: error frames, no crash, the database unchanged, others unaffected."""
import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from hypothesis import HealthCheck, given, settings, strategies as st

from twins.models import Asset, Connection, Layout

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=50))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
types = st.sampled_from(["pose", "op", "lock", "unlock", "chat", "resync", "ping", "welcome", "", "POSE"])
kinds = st.sampled_from(["asset.update", "asset.create", "asset.delete", "connection.create", "connection.delete", "x"])
structured = st.fixed_dictionaries({"type": types}, optional={"kind": kinds, "id": values, "asset": values, "version": values,
                                                            "changes": values, "data": values, "p": values, "q": values,
                                                            "text": values, "seq": values, "connection": values})
frames = st.one_of(
    structured.map(lambda d: json.dumps(d, allow_nan=True)),
    values.map(lambda v: json.dumps(v, allow_nan=True)),
    st.text(max_size=200),
    st.binary(max_size=100).map(lambda b: b.decode("latin1")),
)


def fingerprint(layout_id):
    layout = Layout.objects.get(pk=layout_id)
    return (layout.revision, sorted(Asset.objects.filter(layout_id=layout_id).values_list("id", "x", "z", "version", "name")),
            sorted(Connection.objects.filter(layout_id=layout_id).values_list("id", "source_id", "target_id")))


async def test_random_frames_from_a_viewer_change_nothing(people, draft, connect):
    before = await database_sync_to_async(fingerprint)(draft.id)
    victor = await connect(people["victor"], draft)
    alice = await connect(people["alice"], draft)
    batch = []

    @settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(frames)
    def collect(frame):
        if frame:
            batch.append(frame)

    collect()
    sent = 0
    for frame in batch:
        await victor.send(frame)
        sent += 1
        if sent % 25 == 0:  # stay under the rate limit; check the socket still answers
            await victor.send({"type": "ping"})
            await victor.expect("pong", timeout=10)
            await asyncio.sleep(0.3)
    await victor.send({"type": "ping"})
    await victor.expect("pong", timeout=10)
    assert victor.close_code is None
    assert await database_sync_to_async(fingerprint)(draft.id) == before
    await alice.send({"type": "ping"})
    await alice.expect("pong")
    assert not [f for f in alice.seen if f["type"] == "applied"]
