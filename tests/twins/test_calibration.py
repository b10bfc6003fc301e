"""Calibration (CONTRACT §9) on synthetic histories with a known truth, ingested through the real telemetry service."""
import asyncio
import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from collaboration import events
from collaboration.models import AuditEntry
from tests.builders import make_layout
from twins.models import Asset, Layout, Twin
from twins.services.telemetry import telemetry_ingest

# Well inside the retention window and entirely in the past (ingestion refuses points from the future).
ORIGIN = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=20)
WINDOW = {"from": ORIGIN.isoformat(), "to": (ORIGIN + timedelta(days=19)).isoformat()}


def ingest(twin: Twin, rows: list[tuple[float, str, object]]) -> None:
    """(seconds after ORIGIN, name, value) rows, in batches the way a device or bridge sends them."""
    points = [{"twin": twin.key, "ts": (ORIGIN + timedelta(seconds=s)).isoformat(), "values": {name: value}} for s, name, value in rows]
    for i in range(0, len(points), 5000):
        telemetry_ingest(factory=twin.factory, points=points[i:i + 5000])


def cycle_rows(samples, start: float = 0.0) -> list:
    """One `cycle_time_s` point at the end of each cycle."""
    ends = start + np.cumsum(samples)
    return [(float(t), "cycle_time_s", float(x)) for t, x in zip(ends, samples)]


def failure_rows(rng, *, failures: int, mtbf: float, mttr: float, start: float = 0.0) -> list:
    """running → (idle) → running → down, `failures` times: exponential operating time to failure (split by
    an idle spell, which the failure clock does not count) and exponential repairs; running at the end."""
    rows, t = [], start
    for _ in range(failures):
        up = rng.exponential(mtbf)
        first = up * rng.uniform(0.2, 0.8)
        rows += [(t, "status", "running"), (t + first, "status", "idle")]
        t += first + rng.exponential(1800.0)
        rows.append((t, "status", "running"))
        t += up - first
        rows.append((t, "status", "down"))
        t += rng.exponential(mttr)
    rows.append((t, "status", "running"))
    return rows


@pytest.fixture
def station(people):
    return Twin.objects.create(factory=people["plant"], key="cnc-7", name="CNC-7")


def calibration(client, twin, window=WINDOW):
    response = client.get(f"/api/twins/{twin.id}/calibration/", window)
    assert response.status_code == 200, response.content
    return response.json()


def test_gamma_cycle_times_and_exponential_failures_are_recovered(station, client_for, people):
    rng = np.random.default_rng(20260)
    ingest(station, cycle_rows(rng.gamma(4.0, 7.5, size=2000)))  # mean 30 s, CV 0.5
    ingest(station, failure_rows(rng, failures=200, mtbf=3600.0, mttr=300.0, start=70_000.0))
    body = calibration(client_for(people["victor"]), station)  # viewers may read
    cycle = body["cycle_time_s"]
    assert cycle["n"] == 2000 and cycle["distribution"] == "gamma"
    assert abs(cycle["mean"] - 30.0) / 30.0 < 0.05 and abs(cycle["cv"] - 0.5) / 0.5 < 0.05
    assert cycle["ks_p"] > 0.05  # the right shape is not rejected
    assert sum(cycle["histogram"]["counts"]) == 2000 and len(cycle["histogram"]["fitted"]) == len(cycle["histogram"]["counts"])
    assert body["mttr_s"]["n"] == 200 and body["mtbf_s"]["n"] == 199  # failures between the first and the last repair
    assert abs(body["mtbf_s"]["mean"] - 3600.0) / 3600.0 < 0.15
    assert abs(body["mttr_s"]["mean"] - 300.0) / 300.0 < 0.15
    assert body["detail"] is None and body["window"]["from"].startswith(ORIGIN.strftime("%Y-%m-%dT%H"))


def test_idle_time_between_failures_is_not_operating_time(station, client_for, people):
    rows = [(0, "status", "running"), (100, "status", "down"), (150, "status", "running"), (400, "status", "idle"),
            (900, "status", "running"), (1000, "status", "down"), (1030, "status", "blocked"), (1100, "status", "running"),
            (1600, "status", "down"), (1700, "status", "running")]
    ingest(station, rows)
    body = calibration(client_for(people["alice"]), station)
    # Running between the end of the first repair (150) and the end of the last (1700): 250 + 100 + 500 s, 2 failures.
    assert body["mtbf_s"] == {"mean": 425.0, "n": 2}
    assert body["mttr_s"] == {"mean": (50 + 30 + 100) / 3, "n": 3}


def test_exponential_cycle_times_are_tested_against_the_exponential(station, client_for, people):
    ingest(station, cycle_rows(np.random.default_rng(5).exponential(30.0, size=1000)))
    cycle = calibration(client_for(people["alice"]), station)["cycle_time_s"]
    assert cycle["distribution"] == "exponential" and cycle["ks_p"] > 0.05


def test_ks_p_value_is_low_for_data_of_another_shape(station, client_for, people):
    uniform = np.random.default_rng(11).uniform(30 - 26, 30 + 26, size=2000)  # mean 30, CV 0.5 as well
    ingest(station, cycle_rows(uniform))
    cycle = calibration(client_for(people["alice"]), station)["cycle_time_s"]
    assert abs(cycle["cv"] - 0.5) < 0.03
    assert cycle["ks_p"] < 1e-3


def test_too_little_data_gives_null_with_a_reason(station, client_for, people):
    ingest(station, cycle_rows([30.0, 31.0, 29.0, 30.5]) + [(200, "status", "running"), (300, "status", "down"), (330, "status", "running")])
    body = calibration(client_for(people["alice"]), station)
    assert body["cycle_time_s"] is None and body["mtbf_s"] is None and body["mttr_s"] is None
    assert "4 cycle time(s)" in body["detail"]["cycle_time_s"] and "at least 5" in body["detail"]["cycle_time_s"]
    assert "at least 2" in body["detail"]["mtbf_s"] and "at least 2" in body["detail"]["mttr_s"]
    empty = calibration(client_for(people["alice"]), station, {"from": ORIGIN.isoformat(), "to": (ORIGIN + timedelta(seconds=10)).isoformat()})
    assert empty["cycle_time_s"] is None and "0 cycle time(s)" in empty["detail"]["cycle_time_s"]


def test_calibration_is_404_for_non_members_and_rejects_a_bad_window(station, client_for, people):
    assert client_for(people["mallory"]).get(f"/api/twins/{station.id}/calibration/").status_code == 404
    client = client_for(people["alice"])
    bad = client.get(f"/api/twins/{station.id}/calibration/", {"from": WINDOW["to"], "to": WINDOW["from"]})
    assert bad.status_code == 400 and "after" in bad.json()["detail"]
    assert client.get(f"/api/twins/{station.id}/calibration/", {"from": "yesterday"}).status_code == 400
    assert client.get(f"/api/twins/{'9' * 30}/calibration/").status_code == 404


# --- calibrating a draft -----------------------------------------------------------------------------------

class RoomListener:
    def __init__(self, layout_id: int):
        self.layer = get_channel_layer()
        self.channel = async_to_sync(self.layer.new_channel)()
        async_to_sync(self.layer.group_add)(events.layout_group(layout_id), self.channel)

    def next_event(self, timeout: float = 5.0) -> dict:
        async def receive():
            return await asyncio.wait_for(self.layer.receive(self.channel), timeout)

        return json.loads(async_to_sync(receive)()["text"])


@pytest.fixture
def bound_draft(people, draft):
    """The draft line with M1 (cycles and failures), M2 (cycles only) and M3 (four cycles) bound to twins."""
    plant = people["plant"]
    rng = np.random.default_rng(3)
    twins = {}
    for name, key in (("M1", "m1"), ("M2", "m2"), ("M3", "m3")):
        Asset.objects.filter(layout=draft, name=name).update(twin_key=key)
        twins[name] = Twin.objects.create(factory=plant, key=key, name=name)
    ingest(twins["M1"], cycle_rows(rng.gamma(4.0, 10.0, size=300)) + failure_rows(rng, failures=20, mtbf=1800.0, mttr=120.0))
    ingest(twins["M2"], cycle_rows(rng.gamma(25.0, 0.5, size=100)))
    ingest(twins["M3"], cycle_rows([9.0, 11.0, 10.0, 10.0]))
    Asset.objects.filter(layout=draft, name="M2").update(params={"capacity": 2})
    return draft


def test_calibrate_changes_only_stations_with_enough_data_as_one_change(bound_draft, client_for, people, django_capture_on_commit_callbacks):
    draft = bound_draft
    m1, m2, m3 = (Asset.objects.get(layout=draft, name=n) for n in ("M1", "M2", "M3"))
    revision, audit_before = draft.revision, AuditEntry.objects.count()
    listener = RoomListener(draft.id)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(people["alice"]).post(f"/api/layouts/{draft.id}/calibrate/", {**WINDOW, "assets": None}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    changed = {c["asset"]: c for c in body["changed"]}
    assert set(changed) == {m1.id, m2.id}
    assert changed[m1.id]["before"] == {"cycle_time_s": 10.0, "cycle_cv": 0.0, "mtbf_s": None, "mttr_s": None}
    after = changed[m1.id]["after"]
    assert abs(after["cycle_time_s"] - 40.0) < 4 and abs(after["cycle_cv"] - 0.5) < 0.1 and after["mtbf_s"] > 0 and after["mttr_s"] > 0
    assert changed[m1.id]["observations"] == {"cycles": 300, "failures": 19}
    assert set(changed[m2.id]["after"]) == set(changed[m2.id]["before"]) and changed[m2.id]["after"]["mtbf_s"] is None
    assert {s["asset"] for s in body["skipped"]} == {m3.id} and "at least 5" in body["skipped"][0]["detail"]
    # Stored: M2 keeps its other params; M3 and the source and sink are untouched.
    m1.refresh_from_db(), m2.refresh_from_db(), m3.refresh_from_db()
    assert m1.params == {k: after[k] for k in ("cycle_time_s", "cycle_cv", "mtbf_s", "mttr_s")} and m1.version == 2
    assert m2.params["capacity"] == 2 and m2.params["cycle_time_s"] == changed[m2.id]["after"]["cycle_time_s"]
    assert m3.params == {} and m3.version == 1
    # One revision, one audit entry, one `applied` event carrying both new states.
    draft.refresh_from_db()
    assert draft.revision == revision + 1
    assert AuditEntry.objects.count() == audit_before + 1
    entry = AuditEntry.objects.latest("seq")
    assert entry.action == "assets.update" and entry.data["calibration"]["from"].startswith(WINDOW["from"][:13])
    event = listener.next_event()
    assert (event["type"], event["kind"], event["seq"], event["by"]) == ("applied", "assets.update", draft.revision, people["alice"].id)
    assert {a["id"]: a["version"] for a in event["object"]["assets"]} == {m1.id: 2, m2.id: 2}
    scene = client_for(people["alice"]).get(f"/api/layouts/{draft.id}/scene/").json()
    assert [a for a in scene["assets"] if a["id"] in (m1.id, m2.id)] == event["object"]["assets"]


def test_calibrate_only_the_listed_assets(bound_draft, client_for, people):
    m1, m2 = (Asset.objects.get(layout=bound_draft, name=n) for n in ("M1", "M2"))
    body = client_for(people["alice"]).post(f"/api/layouts/{bound_draft.id}/calibrate/", {**WINDOW, "assets": [m2.id]}, format="json").json()
    assert [c["asset"] for c in body["changed"]] == [m2.id] and body["skipped"] == []
    m1.refresh_from_db()
    assert m1.params == {}


def test_calibrate_a_layout_that_is_not_a_draft_is_409_and_changes_nothing(bound_draft, client_for, people):
    for status in (Layout.Status.IN_REVIEW, Layout.Status.APPROVED):
        Layout.objects.filter(pk=bound_draft.pk).update(status=status)
        response = client_for(people["alice"]).post(f"/api/layouts/{bound_draft.id}/calibrate/", WINDOW, format="json")
        assert response.status_code == 409, response.content
        assert "draft" in response.json()["detail"]
    assert not Asset.objects.filter(layout=bound_draft).exclude(version=1).exists()
    assert Layout.objects.get(pk=bound_draft.pk).revision == bound_draft.revision


def test_calibrate_needs_an_engineer_of_the_factory_and_good_input(bound_draft, client_for, people):
    url = f"/api/layouts/{bound_draft.id}/calibrate/"
    assert client_for(people["victor"]).post(url, WINDOW, format="json").status_code == 403
    assert client_for(people["mallory"]).post(url, WINDOW, format="json").status_code == 404
    alice = client_for(people["alice"])
    other = make_layout(factory=people["plant"], assets=1)
    foreign = Asset.objects.filter(layout=other).first()
    for body in ({**WINDOW, "assets": [foreign.id]}, {**WINDOW, "assets": "all"}, {**WINDOW, "assets": [True]}, {**WINDOW, "assets": [2**70]},
                 {**WINDOW, "extra": 1}, {"from": {"a": 1}}, [1, 2]):
        response = alice.post(url, body, format="json")
        assert response.status_code == 400, (body, response.content)
    assert not Asset.objects.filter(layout=bound_draft).exclude(version=1).exists()
