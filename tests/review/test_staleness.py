"""A simulation run is stale only when a change that can alter its results came after it: Layout.content_revision.
Renames, comments and review transitions bump `revision` (every change does) but leave the run current."""
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from twins.models import Asset, Connection, Layout
from twins.services.common import is_content_kind
from twins.services.simulations import simulation_create, simulation_run_batch, simulation_start

ROOT = Path(__file__).resolve().parents[2]
PARAMS = {"horizon_s": 2 * 3600.0, "warmup_s": 300.0, "replications": 2, "seed": 3}
# Every kind the services record, and whether it is content. A new kind must be added here on purpose.
KINDS = {
    "layout.create": True, "layout.update": False,
    "asset.create": True, "asset.update": True, "asset.delete": True,
    "connection.create": True, "connection.update": True, "connection.delete": True,
}


def run(layout, by):
    """A real run of the engine, executed in this process (what the Celery tasks do)."""
    created = simulation_create(layout=layout, params=PARAMS, by=by)
    for batch in simulation_start(run_id=created.id):
        simulation_run_batch(run_id=created.id, replications=batch)
    created.refresh_from_db()
    assert created.status == "succeeded", created.error
    return created


def staleness(client, layout) -> tuple[bool, bool]:
    """`stale` of the layout's latest run as the scenario list and the comparison report it."""
    rows = client.get(f"/api/scenarios/?factory={layout.factory_id}").json()["results"]
    listed = next(r for r in rows if r["id"] == layout.id)["latest_simulation"]["stale"]
    compared = client.get(f"/api/compare/?layout={layout.id}&against={layout.id}").json()["runs"]["layout"]["stale"]
    return listed, compared


# --- the rule ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "content"), sorted(KINDS.items()))
def test_only_layout_metadata_kinds_leave_runs_current(kind, content):
    assert is_content_kind(kind) is content


def test_an_unknown_kind_counts_as_content():
    assert is_content_kind("asset.bulk_update") is True


def test_every_kind_the_services_record_is_classified():
    sources = "".join(p.read_text() for p in (ROOT / "twins" / "services").glob("*.py"))
    recorded = set(re.findall(r'record_change\([^)]*?kind="([a-z_.]+)"', sources, flags=re.DOTALL))
    assert recorded == set(KINDS), f"classify the new kind(s) in KINDS and is_content_kind: {recorded ^ set(KINDS)}"


def test_the_editor_mirrors_the_rule_exactly():
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed to check frontend/src/editor/contentKinds.js (the frontend build needs it too).")
    kinds = [*KINDS, "asset.bulk_update", "comment.create", ""]
    module = (ROOT / "frontend" / "src" / "editor" / "contentKinds.js").as_uri()
    script = f"import {{ isContentKind }} from {json.dumps(module)};\n" \
             f"console.log(JSON.stringify({json.dumps(kinds)}.map((k) => isContentKind(k))));"
    out = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60, check=True)
    assert dict(zip(kinds, json.loads(out.stdout))) == {k: is_content_kind(k) for k in kinds}


# --- the field --------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_content_revision_is_in_the_rest_layout_and_the_scene(people, draft, client_for):
    alice = client_for(people["alice"])
    m1 = Asset.objects.get(layout=draft, name="M1")
    edit = alice.patch(f"/api/assets/{m1.id}/", {"params": {"cycle_time_s": 12.0}, "version": m1.version}, format="json")
    assert edit.status_code == 200
    assert alice.patch(f"/api/layouts/{draft.id}/", {"name": "Renamed line"}, format="json").status_code == 200
    layout = alice.get(f"/api/layouts/{draft.id}/").json()
    scene = alice.get(f"/api/layouts/{draft.id}/scene/").json()
    assert (layout["revision"], layout["content_revision"]) == (2, 1)
    assert (scene["seq"], scene["layout"]["content_revision"]) == (2, 1)
    listed = next(r for r in alice.get("/api/layouts/", {"factory": people["plant"].id}).json()["results"] if r["id"] == draft.id)
    assert listed["content_revision"] == 1


@pytest.mark.django_db
def test_a_branch_starts_with_its_content(people, draft, client_for):
    branch = client_for(people["alice"]).post(f"/api/layouts/{draft.id}/branch/", {"name": "Copy"}, format="json").json()
    assert branch["content_revision"] == Layout.objects.get(pk=branch["id"]).revision == 1


@pytest.mark.django_db
def test_the_applied_events_carry_what_a_client_needs_to_track_the_content_revision(people, draft, client_for, room, django_capture_on_commit_callbacks):
    """Like Zulip's verify_action: the scene before + the rule applied to each `applied` event = the scene after."""
    alice = client_for(people["alice"])
    before = alice.get(f"/api/layouts/{draft.id}/scene/").json()
    listener = room(draft.id)
    m2 = Asset.objects.get(layout=draft, name="M2")
    link = Connection.objects.filter(layout=draft).first()
    with django_capture_on_commit_callbacks(execute=True):
        alice.patch(f"/api/layouts/{draft.id}/", {"description": "two shifts"}, format="json")
        alice.patch(f"/api/assets/{m2.id}/", {"x": 30.0, "version": m2.version}, format="json")
        alice.patch(f"/api/connections/{link.id}/", {"buffer_capacity": 9}, format="json")
        alice.patch(f"/api/layouts/{draft.id}/", {"name": "Renamed"}, format="json")
        alice.post(f"/api/layouts/{draft.id}/submit/", format="json")
    layout, seq = dict(before["layout"]), before["seq"]
    for _ in range(5):
        event = listener.next_event()
        seq = event["seq"]
        if event["kind"].startswith("layout."):
            layout.update(event["object"])
        if is_content_kind(event["kind"]):
            layout["content_revision"] = seq
    after = alice.get(f"/api/layouts/{draft.id}/scene/").json()
    assert seq == after["seq"] == before["seq"] + 5
    assert layout["content_revision"] == after["layout"]["content_revision"] == before["seq"] + 3
    assert layout["status"] == after["layout"]["status"] == "in_review"


# --- staleness as the review reports it -------------------------------------------------------------------

@pytest.mark.django_db
def test_a_rename_a_comment_and_submitting_leave_the_run_current(people, draft, client_for):
    alice = client_for(people["alice"])
    ran = run(draft, people["alice"])
    assert alice.patch(f"/api/layouts/{draft.id}/", {"name": "Line B", "description": "for review"}, format="json").status_code == 200
    assert alice.post("/api/comments/", {"layout": draft.id, "text": "ready"}, format="json").status_code == 201
    assert alice.post(f"/api/layouts/{draft.id}/submit/", format="json").status_code == 200
    draft.refresh_from_db()
    assert draft.revision > ran.layout_revision == draft.content_revision
    assert staleness(client_for(people["maggie"]), draft) == (False, False)


@pytest.mark.django_db
def test_approving_and_archiving_the_old_baseline_leave_both_runs_current(people, draft, client_for):
    maggie = client_for(people["maggie"])
    old = client_for(people["alice"]).post(f"/api/layouts/{draft.id}/branch/", {"name": "Old baseline"}, format="json").json()
    old = Layout.objects.get(pk=old["id"])
    assert client_for(people["alice"]).post(f"/api/layouts/{old.id}/submit/", format="json").status_code == 200
    assert maggie.post(f"/api/layouts/{old.id}/approve/", format="json").status_code == 200
    run(old, people["alice"])
    run(draft, people["alice"])
    assert client_for(people["alice"]).post(f"/api/layouts/{draft.id}/submit/", format="json").status_code == 200
    assert maggie.post(f"/api/layouts/{draft.id}/approve/", format="json").status_code == 200
    old.refresh_from_db()
    assert old.status == "archived"
    assert staleness(maggie, draft) == (False, False)
    assert staleness(maggie, old) == (False, False)


def _edit_param(alice, layout):
    m1 = Asset.objects.get(layout=layout, name="M1")
    return alice.patch(f"/api/assets/{m1.id}/", {"params": {"cycle_time_s": 14.0}, "version": m1.version}, format="json")


def _move(alice, layout):
    m1 = Asset.objects.get(layout=layout, name="M1")
    return alice.patch(f"/api/assets/{m1.id}/", {"x": 6.5, "version": m1.version}, format="json")


def _add_asset(alice, layout):
    m1 = Asset.objects.get(layout=layout, name="M1")
    return alice.post("/api/assets/", {"layout": layout.id, "asset_type": m1.asset_type_id, "x": 2.0, "z": 8.0}, format="json")


def _delete_asset(alice, layout):
    extra = Asset.objects.create(layout=layout, asset_type=Asset.objects.get(layout=layout, name="M1").asset_type, name="Spare", x=9, z=9)
    return alice.delete(f"/api/assets/{extra.id}/", {"version": extra.version}, format="json")


def _add_connection(alice, layout):
    m1, m3 = Asset.objects.get(layout=layout, name="M1"), Asset.objects.get(layout=layout, name="M3")
    return alice.post("/api/connections/", {"layout": layout.id, "source": m1.id, "target": m3.id, "weight": 0.5}, format="json")


def _update_connection(alice, layout):
    link = Connection.objects.filter(layout=layout).first()
    return alice.patch(f"/api/connections/{link.id}/", {"buffer_capacity": 2}, format="json")


def _delete_connection(alice, layout):
    m1, m3 = Asset.objects.get(layout=layout, name="M1"), Asset.objects.get(layout=layout, name="M3")
    extra = Connection.objects.create(layout=layout, source=m1, target=m3)
    return alice.delete(f"/api/connections/{extra.id}/")


@pytest.mark.django_db
@pytest.mark.parametrize("change", [_edit_param, _move, _add_asset, _delete_asset, _add_connection, _update_connection, _delete_connection])
def test_a_change_the_simulation_reads_makes_the_run_stale(people, draft, client_for, change):
    alice = client_for(people["alice"])
    run(draft, people["alice"])
    assert change(alice, draft).status_code in (200, 201, 204)
    draft.refresh_from_db()
    assert draft.content_revision == draft.revision
    assert staleness(client_for(people["maggie"]), draft) == (True, True)


@pytest.mark.django_db
def test_a_run_made_after_the_last_content_change_is_current_again(people, draft, client_for):
    alice = client_for(people["alice"])
    run(draft, people["alice"])
    assert _edit_param(alice, draft).status_code == 200
    assert staleness(alice, draft) == (True, True)
    run(draft, people["alice"])
    assert alice.patch(f"/api/layouts/{draft.id}/", {"name": "Renamed"}, format="json").status_code == 200
    assert staleness(alice, draft) == (False, False)


# --- the migration ----------------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_the_migration_starts_existing_layouts_at_their_revision():
    """Old history does not say which changes were content: every run older than the last change stays stale."""
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate([("twins", "0002_telemetry_point_lean_twin_key")])
    try:
        apps = executor.loader.project_state([("twins", "0002_telemetry_point_lean_twin_key")]).apps
        Factory, OldLayout = apps.get_model("twins", "Factory"), apps.get_model("twins", "Layout")
        factory = Factory.objects.create(name="Old plant", slug="old-plant")
        pk = OldLayout.objects.create(factory=factory, name="Old", revision=7).pk
        OldLayout.objects.create(factory=factory, name="New", revision=0)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)
    assert Layout.objects.get(pk=pk).content_revision == 7
    assert Layout.objects.get(name="New").content_revision == 0
