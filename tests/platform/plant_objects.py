"""One object of every kind in a plant, made through the API as its owner, so that schema-driven tests and
fuzzers find real ids (a fresh database numbers them from 1): the `plant_with_everything` fixture of
tests/platform/conftest.py, and bench/fuzz.py against a real server."""
from functools import cache

from tests.builders import make_asset_type
from twins.models import Asset, Connection


def make_everything(post, get, *, plant, draft) -> dict:
    """{resource: id} for every resource with an `{id}` path (None for one the plant has none of), made with
    `post(path, body) -> JSON` and `get(path, params) -> JSON` as the plant's owner."""
    twin = post("/api/twins/", {"factory": plant.id, "key": "press-01", "name": "Press"})
    rule = post("/api/alarm-rules/", {"factory": plant.id, "twin": twin["id"], "name": "temperature", "op": ">", "threshold": 10})
    assert post("/api/telemetry/", {"factory": plant.id, "points": [{"twin": "press-01", "values": {"temperature": 50}}]}) == {"accepted": 1}
    ids = {
        "factories": plant.id, "asset-types": make_asset_type("machine").id, "layouts": draft.id,
        "assets": Asset.objects.filter(layout=draft).first().id, "connections": Connection.objects.filter(layout=draft).first().id,
        "twins": twin["id"], "alarm-rules": rule["id"], "alarms": get("/api/alarms/", {"factory": plant.id})["results"][0]["id"],
        "comments": post("/api/comments/", {"layout": draft.id, "text": "Look here"})["id"],
        "simulations": post("/api/simulations/", {"layout": draft.id, "horizon_s": 600, "replications": 1})["id"],
    }
    for resource in resources_with_ids():  # a resource added later: the first one its list shows, if any
        if resource not in ids:
            listed = get(f"/api/{resource}/", {})
            ids[resource] = listed["results"][0]["id"] if listed.get("results") else None
    return ids


@cache
def resources_with_ids() -> frozenset:
    from drf_spectacular.generators import SchemaGenerator

    return frozenset(path.split("/")[2] for path in SchemaGenerator().get_schema(request=None, public=True)["paths"] if "{id}" in path)
