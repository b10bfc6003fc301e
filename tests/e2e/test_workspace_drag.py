"""Editing as a planner expects it (issue 16): a selected machine is dragged by its body over the floor,
onto the grid and turned with R in 15° steps, as one undo step; the room sees it in its inspector (the
layout's revision and every field) as it lands; a box selection moves together; connect mode is never
blocked by the source's gizmo handles."""
import pytest

from tests.e2e.conftest import shot
from tests.e2e.test_workspace_support import (
    asset_named, branch_demo, focus_on, idle, open_live_layout, poll, rest, screen_of, select_by_click, selection,
)

pytestmark = pytest.mark.e2e


def drag(page, start, end, steps=10, during=None):
    page.mouse.move(start["x"], start["y"])
    page.wait_for_timeout(80)
    page.mouse.down()
    for i in range(1, steps + 1):
        page.mouse.move(start["x"] + (end["x"] - start["x"]) * i / steps, start["y"] + (end["y"] - start["y"]) * i / steps)
        page.wait_for_timeout(25)
        if during and i == steps // 2:
            during()
    page.mouse.up()


BODY_POINT = """([id, dx, dz]) => {
  const m = window.metaverse, a = m.editor.getAsset(id), t = m.editor.typeOf(a);
  // Low on the front-left of the body, away from the gizmo that sits on top of the asset.
  const at = (ox, oz) => m.worldToScreen(a.x - t.width_m * 0.3 + ox, 0.25, a.z + t.depth_m * 0.5 - 0.02 + oz);
  return [at(0, 0), at(dx, dz)];
}"""


def screen_offset(page, asset, dx, dz):
    """Where to press on `asset`'s body, and where the pointer goes to move it by (dx, dz) metres."""
    here, there = page.evaluate(BODY_POINT, [asset["id"], dx, dz])
    assert 0 < here["x"] < page.viewport_size["width"] and 0 < here["y"] < page.viewport_size["height"], here
    return here, there


def test_a_selected_machine_dragged_by_its_body_lands_on_the_grid_turned_and_the_room_sees_it(stack, open_as):
    alice, bob = open_as("alice"), open_as("bob")
    draft = branch_demo(alice, stack, "Drag by the body")
    open_live_layout(alice, draft)
    open_live_layout(bob, draft)
    station = asset_named(alice, "Inspection A")
    revision = rest(bob).json(f"/api/layouts/{draft}/")["revision"]
    assert bob.get_by_test_id("layout-revision").inner_text() == str(revision)

    select_by_click(alice, station["id"])
    start, end = screen_offset(alice, station, 3, 0)
    drag(alice, start, end, during=lambda: alice.keyboard.press("r"))
    idle(alice)

    moved = rest(alice).json(f"/api/assets/{station['id']}/")
    assert abs(moved["x"] - (station["x"] + 3)) <= 0.5 and abs(moved["z"] - station["z"]) <= 0.5, moved
    assert moved["x"] * 2 == int(moved["x"] * 2) and moved["z"] * 2 == int(moved["z"] * 2), f"on the 0.5 m grid: {moved}"
    assert moved["rotation_deg"] == (station["rotation_deg"] + 15) % 360
    assert alice.evaluate("window.metaverse.editor.history.undos.length") == 1, alice.evaluate("JSON.stringify(window.metaverse.editor.history.toJSON())")
    assert alice.evaluate("window.metaverse.controls.enabled"), "the orbit controls come back after the drag"
    # Bob's inspector follows: the layout's revision, then every field of the asset as the room changes it.
    poll(bob, lambda: bob.get_by_test_id("layout-revision").inner_text() == str(revision + 1), what="bob's revision")
    bob.evaluate("(id) => window.metaverse.selectAsset(id)", station["id"])
    x_field = bob.locator("[data-testid='inspector'] input[name='x']")
    assert x_field.input_value() == f"{moved['x']:g}"
    shot(alice, "workspace-drag-by-body")

    alice.keyboard.press("Control+z")
    idle(alice)
    back = rest(alice).json(f"/api/assets/{station['id']}/")
    assert (back["x"], back["z"], back["rotation_deg"]) == (station["x"], station["z"], station["rotation_deg"])
    poll(bob, lambda: x_field.input_value() == f"{station['x']:g}", what="bob's X field after the undo")
    poll(bob, lambda: bob.locator("[data-testid='inspector'] input[name='rotation_deg']").input_value() == f"{station['rotation_deg']:g}", what="bob's rotation")
    assert bob.get_by_test_id("asset-version").inner_text() == str(back["version"])
    assert not alice.console_errors and not bob.console_errors, (alice.console_errors, bob.console_errors)


def test_a_press_on_empty_floor_still_orbits_and_snapping_off_moves_freely(stack, open_as):
    page = open_as("alice")
    draft = branch_demo(page, stack, "Free drag")
    open_live_layout(page, draft)
    station = asset_named(page, "Inspection A")
    select_by_click(page, station["id"])
    page.get_by_test_id("snap-grid").click()
    assert page.evaluate("window.metaverse.snapping()") is False
    start, end = screen_offset(page, station, 1.3, 0.7)
    drag(page, start, end)
    idle(page)
    moved = rest(page).json(f"/api/assets/{station['id']}/")
    assert moved["x"] * 2 != int(moved["x"] * 2) or moved["z"] * 2 != int(moved["z"] * 2), f"off the grid: {moved}"
    page.get_by_test_id("snap-grid").click()

    # An unselected machine is not dragged: a press on it turns the camera, as before.
    other = asset_named(page, "Press-1")
    focus_on(page, [other["id"]])
    cam = page.evaluate("window.metaverse.camera.position.toArray()")
    here = screen_of(page, other["id"])
    drag(page, here, {"x": here["x"] + 120, "y": here["y"]})
    page.wait_for_timeout(300)
    assert rest(page).json(f"/api/assets/{other['id']}/")["x"] == other["x"]
    assert page.evaluate("window.metaverse.camera.position.toArray()") != cam
    assert not page.console_errors, page.console_errors


def test_a_box_selection_moves_together_in_one_undo_step(stack, open_as):
    page = open_as("alice")
    draft = branch_demo(page, stack, "Move a pair")
    open_live_layout(page, draft)
    a, b = asset_named(page, "Buffer A2"), asset_named(page, "Inspection A")
    focus_on(page, [a["id"], b["id"]])
    pa, pb = screen_of(page, a["id"]), screen_of(page, b["id"])
    lo = {"x": min(pa["x"], pb["x"]) - 12, "y": min(pa["y"], pb["y"]) - 12}
    hi = {"x": max(pa["x"], pb["x"]) + 12, "y": max(pa["y"], pb["y"]) + 12}
    page.keyboard.down("Shift")
    drag(page, lo, hi)
    page.keyboard.up("Shift")
    ids = set(selection(page))
    assert {a["id"], b["id"]} <= ids, ids

    start, end = screen_offset(page, b, 0, 2)
    drag(page, start, end)
    idle(page)
    after = {i: rest(page).json(f"/api/assets/{i}/") for i in ids}
    assert abs(after[b["id"]]["z"] - (b["z"] + 2)) <= 0.5, after[b["id"]]
    shift = (after[b["id"]]["x"] - b["x"], after[b["id"]]["z"] - b["z"])
    assert (after[a["id"]]["x"] - a["x"], after[a["id"]]["z"] - a["z"]) == shift, "the pair keeps its spacing"
    assert page.evaluate("window.metaverse.editor.history.undos.length") == 1
    page.keyboard.press("Control+z")
    idle(page)
    assert (rest(page).json(f"/api/assets/{a['id']}/")["z"], rest(page).json(f"/api/assets/{b['id']}/")["z"]) == (a["z"], b["z"])
    assert not page.console_errors, page.console_errors


def test_connect_mode_reaches_a_target_drawn_under_the_sources_gizmo_handle(stack, open_as):
    page = open_as("alice")
    draft = branch_demo(page, stack, "Connect under the handle")
    open_live_layout(page, draft)
    source = asset_named(page, "Inspection A")
    select_by_click(page, source["id"])
    page.get_by_test_id("gizmo-translate").click()
    # From afar the handles (a constant size on screen) reach well past the machine itself.
    page.evaluate("window.metaverse.lookAt([%s, 28, %s], [%s, 0, %s])" % (source["x"], source["z"] + 22, source["x"], source["z"]))
    page.wait_for_timeout(300)
    handle = poll(page, lambda: page.evaluate("window.metaverse.gizmoHandleScreenPosition('x')"), what="the x handle")
    spot = page.evaluate("([x, y]) => window.metaverse.floorAt(x, y)", [handle["x"], handle["y"]])
    assert abs(spot["x"] - source["x"]) > 2.5, (spot, source)
    page.evaluate("([x, z]) => window.metaverse.addAsset('Inspection Station', x, z)", [spot["x"], spot["z"]])
    idle(page)
    target = page.evaluate("window.metaverse.editor.selection[0]")
    assert target != source["id"]

    page.keyboard.press("c")
    page.mouse.move(*(lambda p: (p["x"], p["y"]))(screen_of(page, source["id"])))
    page.mouse.click(*(lambda p: (p["x"], p["y"]))(screen_of(page, source["id"])))
    page.get_by_test_id("mode-hint").filter(has_text="Inspection A").wait_for()
    # The point under the (now hidden) handle: it used to take this click for itself.
    page.mouse.move(handle["x"], handle["y"])
    page.wait_for_timeout(100)
    page.mouse.click(handle["x"], handle["y"])
    idle(page)
    made = [c for c in rest(page).json(f"/api/connections/?layout={draft}")["results"] if c["source"] == source["id"]]
    assert any(c["target"] == target for c in made), made
    shot(page, "workspace-connect-under-handle")
    assert not page.console_errors, page.console_errors
