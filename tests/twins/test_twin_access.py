"""Role matrix of the twin endpoints (CONTRACT.md §2): members read, engineers write telemetry and twins,
owners manage alarm rules (audited); other factories' objects answer 404 and never show up in lists."""
import pytest

from collaboration.models import AuditEntry
from twins.models import Alarm, AlarmRule

ROLES = ["victor", "alice", "maggie", "olivia", "staff", "mallory"]


def expect(allowed: set[str], ok: int):
    return {who: (ok if who in allowed else 404 if who == "mallory" else 403) for who in ROLES}


@pytest.fixture
def rule(twins):
    return AlarmRule.objects.create(factory=twins["cnc"].factory, twin=twins["cnc"], name="temperature", op=">", threshold=80)


@pytest.mark.parametrize("who, code", expect({"alice", "maggie", "olivia", "staff"}, 202).items())
def test_post_telemetry(twins, post_points, people, who, code):
    assert post_points([{"twin": "cnc-1", "values": {"t": 1}}], user=people[who]).status_code == code


@pytest.mark.parametrize("who, code", expect({"alice", "maggie", "olivia", "staff"}, 201).items())
def test_create_twin(twins, client_for, people, who, code):
    response = client_for(people[who]).post("/api/twins/", {"factory": people["plant"].id, "key": f"new-{who}", "name": "New"}, format="json")
    assert response.status_code == code, response.content


def test_duplicate_twin_key_is_a_conflict(twins, client_for, people):
    response = client_for(people["alice"]).post("/api/twins/", {"factory": people["plant"].id, "key": "cnc-1", "name": "Again"}, format="json")
    assert response.status_code == 409 and response.json()["current"]["id"] == twins["cnc"].id


@pytest.mark.parametrize("who", ROLES)
def test_reading_twins_history_rules_and_alarms(twins, rule, client_for, people, who):
    client = client_for(people[who])
    cnc = twins["cnc"]
    code = 404 if who == "mallory" else 200
    assert client.get(f"/api/twins/{cnc.id}/").status_code == code
    assert client.get(f"/api/twins/{cnc.id}/history/", {"name": "t"}).status_code == code
    assert client.get(f"/api/alarm-rules/{rule.id}/").status_code == code
    listed = {t["id"] for t in client.get("/api/twins/").json()["results"]}
    if who == "mallory":
        assert listed == {twins["foreign"].id}
        assert client.get("/api/alarm-rules/").json()["count"] == 0
    else:
        assert {cnc.id, twins["press"].id} <= listed
        assert client.get("/api/alarm-rules/", {"factory": people["plant"].id}).json()["results"][0]["id"] == rule.id


def test_twin_list_filters_by_factory(twins, client_for, people):
    body = client_for(people["staff"]).get("/api/twins/", {"factory": people["plant"].id}).json()
    assert [t["key"] for t in body["results"]] == ["cnc-1", "press-1"]
    assert set(body["results"][0]) == {"id", "factory", "key", "name", "status", "values", "updated_at"}


@pytest.mark.parametrize("who, code", expect({"olivia", "staff"}, 201).items())
def test_create_alarm_rule_is_for_owners_and_audited(twins, client_for, people, who, code):
    body = {"factory": people["plant"].id, "twin": twins["cnc"].id, "name": "temperature", "op": ">", "threshold": 90, "severity": "critical"}
    response = client_for(people[who]).post("/api/alarm-rules/", body, format="json")
    assert response.status_code == code, response.content
    if code == 201:
        assert response.json() == {**body, "id": response.json()["id"], "hysteresis": 0.0, "enabled": True}
        assert AuditEntry.objects.filter(action="alarm_rule.create", object_id=str(response.json()["id"]), actor=who).exists()
    else:
        assert not AlarmRule.objects.exists()


@pytest.mark.parametrize("who, code", expect({"olivia", "staff"}, 200).items())
def test_update_alarm_rule_is_for_owners_and_audited(rule, client_for, people, who, code):
    response = client_for(people[who]).patch(f"/api/alarm-rules/{rule.id}/", {"threshold": 95, "hysteresis": 2}, format="json")
    assert response.status_code == code
    rule.refresh_from_db()
    assert rule.threshold == (95 if code == 200 else 80)
    assert AuditEntry.objects.filter(action="alarm_rule.update").exists() == (code == 200)


@pytest.mark.parametrize("who, code", expect({"olivia", "staff"}, 204).items())
def test_delete_alarm_rule_is_for_owners_and_audited(rule, client_for, people, who, code):
    assert client_for(people[who]).delete(f"/api/alarm-rules/{rule.id}/").status_code == code
    assert AlarmRule.objects.filter(pk=rule.pk).exists() == (code != 204)
    assert AuditEntry.objects.filter(action="alarm_rule.delete").exists() == (code == 204)


@pytest.mark.parametrize("body, field", [
    ({"op": ">=", "threshold": 1}, "op"),
    ({"op": ">", "threshold": "hot"}, "threshold"),
    ({"op": ">", "threshold": 1, "hysteresis": -1}, "hysteresis"),
    ({"op": ">", "threshold": 1, "severity": "apocalyptic"}, "severity"),
    ({"op": ">"}, "threshold"),
    ({"op": ">", "threshold": 1, "colour": "red"}, "colour"),
])
def test_bad_alarm_rules_are_rejected(twins, client_for, people, body, field):
    body = {"factory": people["plant"].id, "twin": twins["cnc"].id, "name": "temperature", **body}
    response = client_for(people["olivia"]).post("/api/alarm-rules/", body, format="json")
    assert response.status_code == 400 and field in response.json(), response.content
    assert not AlarmRule.objects.exists()


def test_a_rule_cannot_watch_another_factorys_twin(twins, client_for, people):
    body = {"factory": people["plant"].id, "twin": twins["foreign"].id, "name": "t", "op": ">", "threshold": 1}
    response = client_for(people["olivia"]).post("/api/alarm-rules/", body, format="json")
    assert response.status_code == 400 and "twin" in response.json()


def test_anonymous_gets_nothing(twins, client_for):
    client = client_for(None)
    assert client.get("/api/twins/").status_code in (401, 403)
    assert client.post("/api/telemetry/", {"factory": 1, "points": []}, format="json").status_code in (401, 403)
    assert client.get("/api/alarms/").status_code in (401, 403)


def test_token_authenticated_device_posts_telemetry(twins, people):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=people['alice']).key}")
    response = client.post("/api/telemetry/", {"factory": people["plant"].id, "points": [{"twin": "cnc-1", "values": {"t": 1}}]}, format="json")
    assert response.status_code == 202
    assert not Alarm.objects.exists()
