"""Layout checks in the workspace (CONTRACT §11, issue 16): a machine dragged into another is outlined in red
while it is still under the pointer; once dropped, both people in the room see the overlap in the checks list
and "Go to" selects and frames the two machines; dragging it away clears the outline and the issue for both;
a layout with an open issue is not submitted on one click — the dialog says what the checks found."""
import pytest

from tests.e2e.conftest import shot
from tests.e2e.test_workspace_drag import screen_offset
from tests.e2e.test_workspace_support import asset_named, branch_demo, idle, open_live_layout, poll, rest, select_by_click

pytestmark = pytest.mark.e2e


def press_and_move(page, start, end, steps=10):
    page.mouse.move(start["x"], start["y"])
    page.wait_for_timeout(80)
    page.mouse.down()
    for i in range(1, steps + 1):
        page.mouse.move(start["x"] + (end["x"] - start["x"]) * i / steps, start["y"] + (end["y"] - start["y"]) * i / steps)
        page.wait_for_timeout(25)


def overlaps(page):
    return [sorted(i["assets"]) for i in page.evaluate("window.metaverse.lint.issues()") if i["kind"] == "overlap"]


def outlined(page):
    return sorted(page.evaluate("window.metaverse.lint.outlined()"))


def test_an_overlap_is_outlined_while_dragging_listed_for_the_room_and_cleared_by_moving_away(stack, open_as):
    alice, bob = open_as("alice"), open_as("bob")
    draft = branch_demo(alice, stack, "Checks while dragging")
    open_live_layout(alice, draft)
    open_live_layout(bob, draft)
    mover, neighbour = asset_named(alice, "Inspection A"), asset_named(alice, "Buffer A3")
    pair = sorted([mover["id"], neighbour["id"]])
    poll(alice, lambda: alice.evaluate("window.metaverse.lint.checks.loaded"), what="the first check")
    assert overlaps(alice) == [] and outlined(alice) == []

    # Inspection A (2 m wide) at x = 41 reaches back to x = 40, into Buffer A3 (x 39 … 41).
    select_by_click(alice, mover["id"])
    start, end = screen_offset(alice, mover, -4, 0)
    press_and_move(alice, start, end)
    poll(alice, lambda: outlined(alice) == pair, timeout=5, what="the red outline while dragging")
    assert rest(alice).json(f"/api/assets/{mover['id']}/")["x"] == mover["x"], "nothing is saved before the drop"
    shot(alice, "layout-checks-01-dragging-into-a-buffer")
    alice.mouse.up()
    idle(alice)
    assert abs(rest(alice).json(f"/api/assets/{mover['id']}/")["x"] - 41) <= 0.5

    for page in (alice, bob):
        poll(page, lambda: overlaps(page) == [pair], what="the overlap in the checks list")
    poll(alice, lambda: outlined(alice) == pair, what="the outline after the drop")
    poll(bob, lambda: outlined(bob) == pair, what="bob's outline")
    bob.get_by_test_id("lint-toggle").click()
    row = bob.locator("[data-testid=lint-issue][data-kind=overlap]")
    row.wait_for()
    assert "Inspection A" in row.inner_text() and "Buffer A3" in row.inner_text()
    assert bob.get_by_test_id("lint-count").inner_text() == "1"
    camera = bob.evaluate("window.metaverse.camera.position.toArray()")
    row.get_by_test_id("lint-goto").click()
    poll(bob, lambda: sorted(bob.evaluate("window.metaverse.editor.selection")) == pair, what="go to selects both")
    poll(bob, lambda: bob.evaluate("window.metaverse.camera.position.toArray()") != camera, what="go to flies the camera")
    bob.wait_for_timeout(700)
    shot(bob, "layout-checks-02-bob-goes-to-the-overlap")

    # Alice's submit is not one click while the overlap is open.
    alice.get_by_test_id("submit-layout").click()
    dialog = alice.get_by_test_id("submit-dialog")
    dialog.wait_for()
    assert "1 issue" in dialog.inner_text() and "overlap" in dialog.inner_text()
    shot(alice, "layout-checks-03-submit-warns")
    alice.get_by_test_id("submit-cancel").click()
    assert rest(alice).json(f"/api/layouts/{draft}/")["status"] == "draft"

    # Dragged back out: the outline goes at once, the issue when the server has checked the new place.
    alice.evaluate("(id) => window.metaverse.selectAsset(id)", mover["id"])
    moved = asset_named(alice, "Inspection A")
    start, end = screen_offset(alice, moved, 4, 0)
    press_and_move(alice, start, end)
    poll(alice, lambda: outlined(alice) == [], timeout=5, what="the outline to clear while dragging away")
    alice.mouse.up()
    idle(alice)
    for page in (alice, bob):
        poll(page, lambda: overlaps(page) == [] and outlined(page) == [], what="the overlap to clear")
    poll(bob, lambda: bob.get_by_test_id("lint-count").is_hidden(), what="bob's badge to clear")
    assert "No issues" in bob.get_by_test_id("lint-summary").inner_text()
    assert not alice.console_errors and not bob.console_errors, (alice.console_errors, bob.console_errors)
