"""An engineer's journeys in the 3D workspace, each on its own branch of the demo plant: select and tune,
move with the gizmo and undo/redo it, add from the palette, wire two stations, delete. Every edit is checked
where it matters: through the REST API, after the page saved it."""
import pytest

from tests.e2e.conftest import shot
from tests.e2e.test_workspace_support import (
    asset_named, branch_demo, click_asset, focus_on, idle, open_layout, poll, rest, scene_counts, screen_of,
    select_by_click, selection,
)

pytestmark = pytest.mark.e2e


def test_clicking_an_asset_selects_it_and_a_parameter_typed_in_the_inspector_is_saved(stack, open_as):
    page = open_as("alice")
    draft = branch_demo(page, stack, "Tune the press")
    open_layout(page, draft)
    press = asset_named(page, "Press-1")

    select_by_click(page, press["id"])
    page.get_by_test_id("inspector-title").filter(has_text="Press-1").wait_for()
    field = page.locator("[data-testid='inspector'] input[name='cycle_time_s']")
    field.fill("27.5")
    field.press("Enter")
    idle(page)

    saved = rest(page).json(f"/api/assets/{press['id']}/")
    assert saved["params"]["cycle_time_s"] == 27.5
    assert saved["version"] > press["version"]
    # Invalid input is refused on the spot and never sent.
    field.fill("-3")
    assert page.get_by_test_id("error-cycle_time_s").inner_text().strip()
    field.press("Escape")
    idle(page)
    assert rest(page).json(f"/api/assets/{press['id']}/")["params"]["cycle_time_s"] == 27.5
    shot(page, "workspace-select-and-tune")
    assert not page.console_errors, page.console_errors


def _drag(page, start, end, steps=12):
    page.mouse.move(start["x"], start["y"])
    page.wait_for_timeout(100)
    page.mouse.down()
    for i in range(1, steps + 1):
        page.mouse.move(start["x"] + (end["x"] - start["x"]) * i / steps, start["y"] + (end["y"] - start["y"]) * i / steps)
        page.wait_for_timeout(30)
    page.mouse.up()


def test_a_gizmo_drag_is_one_undo_step_and_the_redone_position_survives_a_reload(stack, open_as):
    page = open_as("alice")
    draft = branch_demo(page, stack, "Move the inspection")
    open_layout(page, draft)
    station = asset_named(page, "Inspection A")
    start = (station["x"], station["z"])

    select_by_click(page, station["id"])
    page.get_by_test_id("gizmo-translate").click()
    handle = poll(page, lambda: page.evaluate("window.metaverse.gizmoHandleScreenPosition('x')"), what="the gizmo's x handle")
    # Drag the x arrow 3 m to the right (projected through the camera), in many small pointer moves.
    target = page.evaluate("([x, z]) => window.metaverse.worldToScreen(x, 0, z)", [start[0] + 3, start[1]])
    origin = page.evaluate("([x, z]) => window.metaverse.worldToScreen(x, 0, z)", [start[0], start[1]])
    _drag(page, handle, {"x": handle["x"] + target["x"] - origin["x"], "y": handle["y"] + target["y"] - origin["y"]})
    idle(page)

    moved = rest(page).json(f"/api/assets/{station['id']}/")
    assert moved["z"] == start[1], "an x-arrow drag must not move along z"
    assert moved["x"] > start[0] + 1, moved
    assert (moved["x"] * 2) == int(moved["x"] * 2), f"translation snaps to the 0.5 m grid: {moved['x']}"
    history = page.evaluate("window.metaverse.editor.history.undos.length")
    assert history == 1, "the whole drag is one undo step"

    page.keyboard.press("Control+z")
    idle(page)
    back = rest(page).json(f"/api/assets/{station['id']}/")
    assert (back["x"], back["z"]) == start
    page.keyboard.press("Control+Shift+z")
    idle(page)
    redone = rest(page).json(f"/api/assets/{station['id']}/")
    assert (redone["x"], redone["z"]) == (moved["x"], moved["z"])

    open_layout(page, draft)  # a fresh load of the page: everything now comes from the server
    after = asset_named(page, "Inspection A")
    assert (after["x"], after["z"]) == (moved["x"], moved["z"])
    select_by_click(page, after["id"])
    assert page.locator("[data-testid='inspector'] input[name='x']").input_value() == f"{moved['x']:g}"
    shot(page, "workspace-move-undo-redo-reload")
    assert not page.console_errors, page.console_errors


def test_dragging_a_catalogue_item_onto_the_floor_adds_that_asset_where_it_was_dropped(stack, open_as):
    page = open_as("alice")
    draft = branch_demo(page, stack, "Add a press")
    open_layout(page, draft)
    before = scene_counts(page)
    item = page.get_by_test_id("palette-Hydraulic Press")
    box = item.bounding_box()
    drop = page.evaluate("window.metaverse.worldToScreen(30, 0, 20)")  # the empty aisle between the lines

    _drag(page, {"x": box["x"] + box["width"] / 2, "y": box["y"] + box["height"] / 2}, drop, steps=20)
    idle(page)

    poll(page, lambda: scene_counts(page)["assets"] == before["assets"] + 1, what="the new asset in the scene")
    new_id = selection(page)[0]
    created = rest(page).json(f"/api/assets/{new_id}/")
    assert created["layout"] == draft
    types = {t["id"]: t["name"] for t in rest(page).json("/api/asset-types/")["results"]}
    assert types[created["asset_type"]] == "Hydraulic Press"
    assert abs(created["x"] - 30) <= 0.5 and abs(created["z"] - 20) <= 0.5, created
    assert rest(page).json(f"/api/assets/?layout={draft}")["count"] == before["assets"] + 1
    page.get_by_test_id("inspector-title").filter(has_text=created["name"]).wait_for()
    shot(page, "workspace-add-from-palette")
    assert not page.console_errors, page.console_errors


def test_connect_mode_wires_source_to_target_and_the_new_conveyor_buffer_can_be_set(stack, open_as):
    page = open_as("alice")
    draft = branch_demo(page, stack, "Wire a bypass")
    open_layout(page, draft)
    source, target = asset_named(page, "Buffer A2"), asset_named(page, "Inspection A")
    before = scene_counts(page)

    page.get_by_test_id("connect").click()
    page.get_by_test_id("mode-hint").filter(has_text="click the source").wait_for()
    focus_on(page, [source["id"], target["id"]])
    click_asset(page, source["id"])
    page.get_by_test_id("mode-hint").filter(has_text="Buffer A2").wait_for()
    click_asset(page, target["id"])
    idle(page)

    poll(page, lambda: scene_counts(page)["connections"] == before["connections"] + 1, what="the new connection")
    made = [c for c in rest(page).json(f"/api/connections/?layout={draft}")["results"] if c["source"] == source["id"] and c["target"] == target["id"]]
    assert len(made) == 1, made
    # The new connection is selected: its buffer is edited right there.
    page.get_by_test_id("inspector-title").filter(has_text="Connection").wait_for()
    field = page.locator("[data-testid='inspector'] input[name='buffer_capacity']")
    field.fill("7")
    field.press("Enter")
    idle(page)
    assert rest(page).json(f"/api/connections/{made[0]['id']}/")["buffer_capacity"] == 7
    page.keyboard.press("Escape")
    shot(page, "workspace-connect")
    assert not page.console_errors, page.console_errors


def test_deleting_an_asset_removes_it_and_its_connections_and_undo_brings_it_back(stack, open_as):
    page = open_as("alice")
    draft = branch_demo(page, stack, "Drop a buffer")
    open_layout(page, draft)
    victim = asset_named(page, "Buffer A3")
    links = [c for c in rest(page).json(f"/api/connections/?layout={draft}")["results"] if victim["id"] in (c["source"], c["target"])]
    assert links, "Buffer A3 sits between two stations"
    before = scene_counts(page)

    select_by_click(page, victim["id"])
    page.get_by_test_id("delete").click()
    idle(page)

    assert rest(page).get(f"/api/assets/{victim['id']}/").status == 404
    remaining = {c["id"] for c in rest(page).json(f"/api/connections/?layout={draft}")["results"]}
    assert not remaining & {c["id"] for c in links}
    assert scene_counts(page) == {"assets": before["assets"] - 1, "connections": before["connections"] - len(links)}
    shot(page, "workspace-delete")

    page.keyboard.press("Control+z")
    idle(page)
    restored = asset_named(page, "Buffer A3")
    server = rest(page).json(f"/api/assets/{restored['id']}/")
    assert (server["name"], server["x"], server["z"], server["asset_type"]) == ("Buffer A3", victim["x"], victim["z"], victim["asset_type"])
    assert server["uid"] == victim["uid"], "undo brings back the same asset (its uid), not a look-alike"
    diff = rest(page).json(f"/api/layouts/{draft}/diff/?against={stack.layout_id()}")
    assert not diff["added"] and not diff["removed"], "against the baseline, delete + undo leaves no trace"
    assert scene_counts(page) == before, "undo recreates the asset and its connections"
    relinked = [c for c in rest(page).json(f"/api/connections/?layout={draft}")["results"] if restored["id"] in (c["source"], c["target"])]
    assert len(relinked) == len(links)
    assert not page.console_errors, page.console_errors
