"""POST /api/telemetry/: a valid batch is stored and moves the twins; any bad point rejects the batch."""
import json
from datetime import UTC, datetime, timedelta

import pytest

from twins.errors import Conflict, Invalid
from twins.models import TelemetryPoint, Twin
from twins.services.telemetry import telemetry_ingest
from twins.services.telemetry_validate import MAX_POINTS

from .conftest import ORIGIN, at


def test_batch_is_stored_and_moves_each_twins_live_state(twins, post_points):
    response = post_points([
        {"twin": "cnc-1", "ts": at(0), "values": {"temperature": 61.5, "spindle_rpm": 8000}},
        {"twin": "cnc-1", "ts": at(1), "values": {"temperature": 62.0, "status": "running"}},
        {"twin": "press-1", "ts": int((ORIGIN + timedelta(seconds=2)).timestamp() * 1000), "values": {"parts": 7}},
    ])
    assert response.status_code == 202, response.content
    assert response.json() == {"accepted": 3}
    assert TelemetryPoint.objects.count() == 5
    cnc = Twin.objects.get(pk=twins["cnc"].pk)
    assert cnc.values == {"temperature": 62.0, "spindle_rpm": 8000.0, "status": "running"}
    assert cnc.status == "running"
    assert cnc.updated_at == ORIGIN + timedelta(seconds=1)
    status_row = TelemetryPoint.objects.get(twin=cnc, name="status")
    assert (status_row.value, status_row.text) == (None, "running")
    press = Twin.objects.get(pk=twins["press"].pk)
    assert press.values == {"parts": 7.0} and press.updated_at == ORIGIN + timedelta(seconds=2)
    assert Twin.objects.get(pk=twins["foreign"].pk).values == {}


def test_a_point_without_ts_is_stamped_now(twins, post_points):
    before = datetime.now(UTC)
    assert post_points([{"twin": "cnc-1", "values": {"temperature": 50}}]).status_code == 202
    assert before <= TelemetryPoint.objects.get().ts <= datetime.now(UTC)


def test_an_older_point_is_history_but_does_not_roll_the_live_state_back(twins, post_points):
    post_points([{"twin": "cnc-1", "ts": at(10), "values": {"temperature": 70, "status": "down"}}])
    assert post_points([{"twin": "cnc-1", "ts": at(5), "values": {"temperature": 40, "status": "running"}}]).status_code == 202
    cnc = Twin.objects.get(pk=twins["cnc"].pk)
    assert (cnc.values["temperature"], cnc.status) == (70.0, "down")
    assert TelemetryPoint.objects.filter(twin=cnc, name="temperature").count() == 2


BAD_POINTS = {
    "unknown twin": {"twin": "no-such-machine", "values": {"t": 1}},
    "other factory's twin only": {"twin": "their-cnc", "values": {"t": 1}},
    "twin not a string": {"twin": 12, "values": {"t": 1}},
    "value is a list": {"twin": "press-1", "values": {"t": [1, 2]}},
    "value is a bool": {"twin": "press-1", "values": {"t": True}},
    "value is null": {"twin": "press-1", "values": {"t": None}},
    "huge integer": {"twin": "press-1", "values": {"t": 10 ** 400}},
    "values empty": {"twin": "press-1", "values": {}},
    "values missing": {"twin": "press-1"},
    "values not an object": {"twin": "press-1", "values": [1]},
    "point not an object": "cnc-1=4",
    "unknown field": {"twin": "press-1", "values": {"t": 1}, "unit": "C"},
    "bad value name": {"twin": "press-1", "values": {"a b": 1}},
    "status not a status word": {"twin": "press-1", "values": {"status": "exploded"}},
    "string too long": {"twin": "press-1", "values": {"note": "x" * 65}},
    "string with a NUL": {"twin": "press-1", "values": {"note": "a\x00b"}},
    "string with a newline": {"twin": "press-1", "values": {"note": "line\nbreak"}},
    "ts garbage": {"twin": "press-1", "ts": "yesterday", "values": {"t": 1}},
    "ts in the future": {"twin": "press-1", "ts": (datetime.now(UTC) + timedelta(days=2)).isoformat(), "values": {"t": 1}},
    "ts epoch ms in the future": {"twin": "press-1", "ts": (datetime.now(UTC) + timedelta(days=2)).timestamp() * 1000, "values": {"t": 1}},
    "ts in seconds not ms": {"twin": "press-1", "ts": 1_700_000_000, "values": {"t": 1}},
    "ts a bool": {"twin": "press-1", "ts": True, "values": {"t": 1}},
}


@pytest.mark.parametrize("bad", BAD_POINTS.values(), ids=BAD_POINTS.keys())
def test_a_bad_point_rejects_the_batch_naming_its_index(twins, post_points, bad):
    good = {"twin": "cnc-1", "ts": at(0), "values": {"temperature": 60, "status": "running"}}
    response = post_points([good, good, bad, good])
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["detail"].startswith("points[2]: ")
    assert list(body["points"]) == ["2"]
    assert TelemetryPoint.objects.count() == 0
    assert Twin.objects.get(pk=twins["cnc"].pk).values == {}


def test_every_bad_index_is_reported(twins, post_points):
    response = post_points([{"twin": "cnc-1", "values": {"t": 1}}, {"twin": "x", "values": {"t": 1}}, {"twin": "y", "values": {"t": 1}}])
    assert response.status_code == 400
    assert set(response.json()["points"]) == {"1", "2"}
    assert "2 bad points" in response.json()["detail"]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_nan_and_infinity_are_rejected_by_the_service(twins, value):
    with pytest.raises(Invalid) as caught:
        telemetry_ingest(factory=twins["cnc"].factory, points=[{"twin": "cnc-1", "values": {"temperature": value}}])
    assert caught.value.message.startswith("points[0]: values.temperature must be a finite number")
    assert TelemetryPoint.objects.count() == 0


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_literals_in_json_are_a_clear_400(twins, client_for, people, literal):
    body = '{"factory": %d, "points": [{"twin": "cnc-1", "values": {"temperature": %s}}]}' % (people["plant"].id, literal)
    response = client_for(people["alice"]).post("/api/telemetry/", body, content_type="application/json")
    assert response.status_code == 400 and "detail" in response.json()
    assert TelemetryPoint.objects.count() == 0


def test_malformed_json_is_a_clear_400(twins, client_for, people):
    response = client_for(people["alice"]).post("/api/telemetry/", '{"factory": 1, "points": [', content_type="application/json")
    assert response.status_code == 400 and "JSON parse error" in response.json()["detail"]
    assert TelemetryPoint.objects.count() == 0


@pytest.mark.parametrize("body", [[], {"points": []}, {"factory": "1", "points": []}, {"factory": True, "points": []}])
def test_a_body_without_a_factory_id_is_rejected(twins, client_for, people, body):
    response = client_for(people["alice"]).post("/api/telemetry/", json.dumps(body), content_type="application/json")
    assert response.status_code in (400, 404) and "detail" in response.json()


@pytest.mark.parametrize("points", [None, "cnc-1", {"twin": "cnc-1"}])
def test_points_must_be_a_list(twins, post_points, points):
    response = post_points(points)
    assert response.status_code == 400 and response.json()["detail"] == "points must be a list of telemetry points."


def test_an_oversized_batch_is_rejected_whole(twins, post_points):
    points = [{"twin": "cnc-1", "ts": at(i / 100), "values": {"t": i}} for i in range(MAX_POINTS + 1)]
    response = post_points(points)
    assert response.status_code == 400
    assert response.json()["detail"] == f"A batch holds at most {MAX_POINTS} points; this one has {MAX_POINTS + 1}. Split it."
    assert TelemetryPoint.objects.count() == 0


def test_awkward_but_valid_strings_are_stored_exactly(twins, post_points):
    # COPY's text format gives backslashes and `\N` a meaning: they must arrive as sent.
    notes = ["back\\slash", "\\N", "ünïcødé ✓", "quote ' \" and ; --", "tab-less  spaces"]
    points = [{"twin": "cnc-1", "ts": at(i), "values": {"note": note}} for i, note in enumerate(notes)]
    assert post_points(points).json() == {"accepted": len(notes)}
    stored = list(TelemetryPoint.objects.filter(name="note").order_by("ts").values_list("text", "value"))
    assert stored == [(note, None) for note in notes]


def test_a_full_size_batch_is_accepted(twins, post_points):
    points = [{"twin": "cnc-1", "ts": at(i / 100), "values": {"t": i}} for i in range(MAX_POINTS)]
    assert post_points(points).json() == {"accepted": MAX_POINTS}
    assert TelemetryPoint.objects.count() == MAX_POINTS
    assert Twin.objects.get(pk=twins["cnc"].pk).values == {"t": MAX_POINTS - 1.0}


def test_skip_bad_stores_the_good_points_and_reports_the_rest(twins):
    result = telemetry_ingest(factory=twins["cnc"].factory, skip_bad=True, source="mqtt",
                              points=[{"twin": "cnc-1", "values": {"t": 1}}, {"twin": "ghost", "values": {"t": 2}}])
    assert (result.accepted, list(result.skipped)) == (1, [1])
    assert TelemetryPoint.objects.count() == 1


def test_deleting_a_twin_deletes_its_points_without_a_database_foreign_key(twins, post_points):
    post_points([{"twin": "cnc-1", "ts": at(i), "values": {"t": i}} for i in range(3)]
                + [{"twin": "press-1", "ts": at(1), "values": {"t": 1}}])
    twins["cnc"].delete()  # what the admin does: the ORM's CASCADE, not the database's
    assert list(TelemetryPoint.objects.values_list("twin_id", flat=True)) == [twins["press"].id]


def test_a_twin_deleted_while_its_batch_is_stored_fails_the_whole_batch(twins, monkeypatch):
    from twins.services import telemetry

    real_store = telemetry.store_readings

    def store_then_lose_the_twin(readings):
        stored = real_store(readings)
        Twin.objects.filter(pk=twins["press"].pk).delete()  # stands in for a concurrent delete
        return stored

    monkeypatch.setattr(telemetry, "store_readings", store_then_lose_the_twin)
    points = [{"twin": "cnc-1", "ts": at(0), "values": {"t": 1}}, {"twin": "press-1", "ts": at(0), "values": {"t": 2}}]
    with pytest.raises(Conflict):
        telemetry_ingest(factory=twins["cnc"].factory, points=points)
    assert TelemetryPoint.objects.count() == 0
    assert Twin.objects.get(pk=twins["cnc"].pk).values == {}
