"""One object of every kind in the `plant` of tests/conftest.py, made through the API as its owner, so that
schema-driven tests and fuzzers find real ids (a fresh test database numbers them from 1)."""
from functools import cache

import pytest

from tests.builders import make_asset_type
from twins.models import Asset, Connection


@pytest.fixture
def plant_with_everything(people, client_for, draft):
    """{resource: id} for every resource with an `{id}` path; None for one of which the plant has none."""
    olivia = client_for(people["olivia"])
    plant = people["plant"]
    twin = olivia.post("/api/twins/", {"factory": plant.id, "key": "press-01", "name": "Press"}, format="json").json()
    rule = olivia.post("/api/alarm-rules/", {"factory": plant.id, "twin": twin["id"], "name": "temperature", "op": ">", "threshold": 10},
                       format="json").json()
    assert olivia.post("/api/telemetry/", {"factory": plant.id, "points": [{"twin": "press-01", "values": {"temperature": 50}}]},
                       format="json").status_code == 202
    alarm = olivia.get("/api/alarms/", {"factory": plant.id}).json()["results"][0]
    comment = olivia.post("/api/comments/", {"layout": draft.id, "text": "Look here"}, format="json").json()
    run = olivia.post("/api/simulations/", {"layout": draft.id, "horizon_s": 600, "replications": 1}, format="json").json()
    ids = {
        "factories": plant.id, "asset-types": make_asset_type("machine").id, "layouts": draft.id,
        "assets": Asset.objects.filter(layout=draft).first().id, "connections": Connection.objects.filter(layout=draft).first().id,
        "twins": twin["id"], "alarm-rules": rule["id"], "alarms": alarm["id"], "comments": comment["id"], "simulations": run["id"],
    }
    for resource in _resources_with_ids():  # a resource added later: the first one its list shows, if any
        if resource not in ids:
            listed = olivia.get(f"/api/{resource}/").json()
            ids[resource] = listed["results"][0]["id"] if listed.get("results") else None
    return ids


@cache
def _resources_with_ids() -> frozenset:
    from drf_spectacular.generators import SchemaGenerator

    return frozenset(path.split("/")[2] for path in SchemaGenerator().get_schema(request=None, public=True)["paths"] if "{id}" in path)
