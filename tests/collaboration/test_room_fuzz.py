"""Random and hostile frames from every role, and hostile ops from an engineer — the role whose ops reach
validation (a viewer's are refused before): an answer to each, the socket open, the database changed only
by what was applied (other layouts never), and the others in the room unaffected.

Hypothesis draws the frames; they are replayed on one socket afterwards (the room runs on the test's event
loop). The slice is sized for CI (about a minute in all); `bench/fuzz.py` runs the long version."""
import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.builders import make_layout
from twins.models import Asset, AssetType, Connection, Layout
from twins.services.assets import EDITABLE_FIELDS
from twins.services.connections import FIELDS as CONNECTION_FIELDS

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROLES = ["victor", "alice", "maggie", "olivia"]  # viewer, engineer, manager, owner
FRAMES_PER_ROLE = 400
HOSTILE_OPS = 300
PARAMS = ["cycle_time_s", "cycle_cv", "mtbf_s", "mttr_s", "capacity", "interarrival_s", "scrap_rate", "setup_time_s",
          "mix", "cycle_time_by_type", "output_type", "operator", "length_m", "speed_mps", "spacing_m", "evil", "__proto__"]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=50))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
types = st.one_of(st.sampled_from(["pose", "op", "lock", "unlock", "chat", "summon", "resync", "ping", "welcome", "", "POSE"]), values)
kinds = st.sampled_from(["asset.update", "asset.create", "asset.delete", "connection.create", "connection.delete", "x"])
structured = st.fixed_dictionaries({"type": types}, optional={"kind": kinds, "id": values, "asset": values, "version": values,
                                                            "changes": values, "data": values, "p": values, "q": values,
                                                            "text": values, "seq": values, "connection": values,
                                                            "position": values, "target": values})
frames = st.one_of(
    structured.map(lambda d: json.dumps(d, allow_nan=True)),
    values.map(lambda v: json.dumps(v, allow_nan=True)),
    st.text(max_size=200),
    st.binary(max_size=100).map(lambda b: b.decode("latin1")),
)

# What JSON can spell but Python reads as infinity, an integer beyond 64 bits or a string that is not text
# (a lone UTF-16 surrogate); placed by marker.
RAW = {"__inf__": "1e400", "__ninf__": "-1e400", "__big__": "1" + "0" * 30, "__nan__": "NaN", "__surrogate__": '"a\\ud800"'}
hostile_value = st.one_of(
    st.sampled_from(list(RAW)),
    st.sampled_from([10_000.5, -1e308, 1e308, 2**63, -2**63, 0.0, -0.0, 5e-324, True, None, "", "12", "x" * 8_000, "\u202e\x00", [], {}]),
    st.floats(-20_000, 20_000, allow_nan=False),
    values,
)


def hostile_ops(ids: dict):
    """Ops a malicious engineer would send: other layouts' ids, stale versions, bad numbers and types,
    huge strings, unknown fields and params. `"current"`/`"stale"` versions are filled in when sent."""
    own = ids["assets"]
    others = ids["foreign_assets"] + ids["sibling_assets"]
    asset_ref = st.one_of(st.sampled_from(own), st.sampled_from(others), st.sampled_from([1, 2**62, 999_999]))
    version = st.one_of(st.sampled_from(["current", "current", "stale"]), st.integers(-2**70, 2**70), hostile_value)
    fields = st.sampled_from(sorted(EDITABLE_FIELDS | {"layout", "id", "version", "uid", "created_by", "revision", "evil"}))
    params = st.dictionaries(st.sampled_from(PARAMS), hostile_value, max_size=3)
    field_value = st.one_of(hostile_value, st.sampled_from(ids["asset_types"]), params)
    changes = st.dictionaries(fields, field_value, max_size=4)
    connection_data = st.dictionaries(st.sampled_from(sorted(CONNECTION_FIELDS | {"part_types", "quantity", "layout", "uid", "evil"})),
                                      st.one_of(hostile_value, st.sampled_from(own + others)), max_size=4)
    connection_ref = st.one_of(st.sampled_from(ids["connections"] + ids["foreign_connections"]), st.integers(1, 2**62))
    return st.one_of(
        st.fixed_dictionaries({"kind": st.just("asset.update"), "asset": asset_ref, "version": version, "changes": changes}),
        st.fixed_dictionaries({"kind": st.just("asset.create"), "data": changes}),
        st.fixed_dictionaries({"kind": st.just("asset.delete"), "asset": asset_ref, "version": st.sampled_from(["stale"]) | st.integers(-3, 3)}),
        st.fixed_dictionaries({"kind": st.just("connection.create"), "data": connection_data}),
        st.fixed_dictionaries({"kind": st.just("connection.delete"), "connection": connection_ref}),
    )


def draw(strategy, count: int) -> list:
    drawn = []

    @settings(max_examples=count, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(strategy)
    def collect(example):
        drawn.append(example)

    collect()
    return drawn


def fingerprint(layout_id):
    """The layout's revision and every field of its assets and connections."""
    def rows(model):
        return sorted(json.dumps(row, sort_keys=True, default=str) for row in model.objects.filter(layout_id=layout_id).values())

    return Layout.objects.get(pk=layout_id).revision, rows(Asset), rows(Connection)


def version_of(asset_id):
    return Asset.objects.filter(pk=asset_id).values_list("version", flat=True).first()


async def pong(socket) -> None:
    await socket.send({"type": "ping"})
    await socket.expect("pong", timeout=10)


@pytest.fixture
def other_layouts(people, draft):
    """A sibling layout in the same factory and a layout of another factory: no op in `draft`'s room may touch them."""
    return [make_layout(factory=people["plant"], assets=2, line=True, name="Sibling"),
            make_layout(factory=people["other"], assets=2, line=True, name="Foreign")]


@pytest.mark.parametrize("role", ROLES)
async def test_random_frames_from_every_role_get_answers_and_change_only_what_was_applied(people, draft, other_layouts, connect, role):
    user = people[role]
    before = await database_sync_to_async(fingerprint)(draft.id)
    others_before = [await database_sync_to_async(fingerprint)(layout.id) for layout in other_layouts]
    fuzzer = await connect(user, draft)
    bystander = await connect(people["bob"], draft)
    for sent, frame in enumerate(draw(frames, FRAMES_PER_ROLE), 1):
        if frame:
            await fuzzer.send(frame)
        if sent % 25 == 0:  # stay under the rate limit; the socket still answers
            await pong(fuzzer)
            await asyncio.sleep(0.3)
    await pong(fuzzer)
    assert fuzzer.close_code is None
    applied = [f for f in fuzzer.seen if f["type"] == "applied" and f["by"] == user.id]
    after = await database_sync_to_async(fingerprint)(draft.id)
    assert after[0] == before[0] + len(applied)  # one revision per applied change, no change unannounced
    if not applied:
        assert after == before
    assert [await database_sync_to_async(fingerprint)(layout.id) for layout in other_layouts] == others_before
    await pong(bystander)
    assert [f["seq"] for f in bystander.seen if f["type"] == "applied"] == [f["seq"] for f in applied]


def _ids(draft, other_layouts) -> dict:
    sibling, foreign = other_layouts
    return {
        "assets": list(Asset.objects.filter(layout=draft).values_list("id", flat=True)),
        "sibling_assets": list(Asset.objects.filter(layout=sibling).values_list("id", flat=True)),
        "foreign_assets": list(Asset.objects.filter(layout=foreign).values_list("id", flat=True)),
        "connections": list(Connection.objects.filter(layout=draft).values_list("id", flat=True)),
        "foreign_connections": list(Connection.objects.filter(layout__in=other_layouts).values_list("id", flat=True)),
        "asset_types": list(AssetType.objects.values_list("id", flat=True)),
    }


def encode(op: dict, op_id: str) -> str:
    text = json.dumps({"type": "op", "id": op_id, **op})
    for marker, raw in RAW.items():
        text = text.replace(f'"{marker}"', raw)
    return text


async def answer(socket, op_id: str) -> dict:
    """The frame that answers this op: its `applied` or `rejected`, or the `error` of a frame that is not a valid op."""
    while True:
        frame = await socket.recv(10)
        if (frame["type"] in ("applied", "rejected") and frame.get("id") == op_id) or frame["type"] in ("error", "__close__"):
            return frame


async def test_hostile_ops_from_an_engineer_are_applied_or_refused_and_refused_ones_change_nothing(people, draft, other_layouts, connect):
    alice = people["alice"]
    ids = await database_sync_to_async(_ids)(draft, other_layouts)
    others_before = [await database_sync_to_async(fingerprint)(layout.id) for layout in other_layouts]
    engineer = await connect(alice, draft)
    bystander = await connect(people["bob"], draft)
    outcomes = {"applied": 0, "rejected": 0, "error": 0}
    for n, op in enumerate(draw(hostile_ops(ids), HOSTILE_OPS)):
        if op.get("version") in ("current", "stale"):
            current = await database_sync_to_async(version_of)(op["asset"]) or 1
            op = {**op, "version": current if op["version"] == "current" else current - 1}
        before = await database_sync_to_async(fingerprint)(draft.id)
        text = encode(op, f"h{n}")
        await engineer.send(text)
        frame = await answer(engineer, f"h{n}")
        after = await database_sync_to_async(fingerprint)(draft.id)
        assert frame["type"] != "__close__", text[:300]
        outcomes[frame["type"]] += 1
        if frame["type"] == "applied":
            assert after[0] == before[0] + 1 and frame["seq"] == after[0] and frame["by"] == alice.id, text[:300]
            obj = frame["object"]
            if op["kind"].startswith("asset.") and not obj.get("deleted"):
                assert all(abs(obj[f]) <= 10_000 for f in ("x", "z")) and 0 <= obj["rotation_deg"] < 360, text[:300]
                assert obj["id"] not in ids["sibling_assets"] + ids["foreign_assets"]
        else:
            assert after == before, f"{frame} yet the layout changed: {text[:300]}"
        if n % 40 == 39:
            await asyncio.sleep(0.5)  # stay under the rate limit
    await pong(engineer)
    assert engineer.close_code is None
    assert outcomes["rejected"] >= HOSTILE_OPS // 4 and outcomes["error"] >= 1, outcomes  # the ops reached validation
    assert [await database_sync_to_async(fingerprint)(layout.id) for layout in other_layouts] == others_before
    await pong(bystander)
    mine = [f["seq"] for f in engineer.seen if f["type"] == "applied" and f["by"] == alice.id]
    assert [f["seq"] for f in bystander.seen if f["type"] == "applied"] == mine
