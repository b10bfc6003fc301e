"""Who may change what in the workspace, as people meet it: a viewer walks a draft read-only, an approved
layout offers "Branch to edit", and a change someone else saved first is shown to the editor instead of
being overwritten (and her own change is not thrown away either)."""
import json

import pytest

from tests.e2e.conftest import shot, wait_scene
from tests.e2e.test_workspace_support import (
    asset_named, benign, branch_demo, focus_on, idle, login_rest, open_layout, poll, rest, select_by_click,
)

pytestmark = pytest.mark.e2e

EDIT_TOOLS = ("undo", "redo", "select-mode", "gizmo-translate", "gizmo-rotate", "connect", "duplicate", "delete")


def test_a_viewer_sees_the_draft_but_has_no_palette_no_edit_tools_and_cannot_change_anything(stack, open_as, browser):
    alice = open_as("alice")
    draft = branch_demo(alice, stack, "Draft for the viewer")
    page = open_as("victor")
    open_layout(page, draft)
    press = asset_named(page, "Press-1")
    stats = page.evaluate("window.metaverse.stats()")
    assert stats["assets"] == rest(page).json(f"/api/assets/?layout={draft}")["count"] and stats["drawCalls"] > 0

    assert page.get_by_test_id("readonly-banner").filter(has_text="viewer").is_visible()
    assert page.get_by_test_id("my-role").text_content().strip().lower() == "viewer"
    assert not page.get_by_test_id("palette-panel").is_visible()
    assert not page.get_by_test_id("palette-Hydraulic Press").is_visible()
    for tool in EDIT_TOOLS:
        assert not page.get_by_test_id(tool).is_visible(), f"{tool} is offered to a viewer"
    assert not page.get_by_test_id("branch").is_visible(), "viewers cannot branch"

    # Looking is allowed: a click selects and the inspector shows the asset, with every input disabled.
    select_by_click(page, press["id"])
    page.get_by_test_id("inspector-title").filter(has_text="Press-1").wait_for()
    inputs = page.locator("[data-testid='inspector'] input, [data-testid='inspector'] select")
    assert inputs.count() >= 5
    assert all(inputs.nth(i).is_disabled() for i in range(inputs.count()))
    assert page.evaluate("window.metaverse.gizmoHandleScreenPosition('x')") is None, "no gizmo for a viewer"

    # Trying anyway: shortcuts, connect mode, and the editor itself all refuse; nothing reaches the server.
    page.keyboard.press("Delete")
    page.keyboard.press("c")
    page.keyboard.press("Control+d")
    page.evaluate("(id) => window.metaverse.editor.execute(new window.metaverse.commands.DeleteAssetCommand(window.metaverse.editor, [id]))", press["id"])
    page.evaluate("() => window.metaverse.addAsset('Hydraulic Press', 30, 20)")
    page.get_by_test_id("toast-warn").first.wait_for()
    assert page.evaluate("window.metaverse.editor.mode") == "select"
    server = rest(page).json(f"/api/assets/{press['id']}/")
    assert server["version"] == press["version"]
    assert rest(page).json(f"/api/assets/?layout={draft}")["count"] == stats["assets"]
    # And the API says no to a viewer directly.
    refused = rest(page).patch(f"/api/assets/{press['id']}/", {"x": 1.0, "version": press["version"]})
    assert refused.status == 403, refused.text()
    shot(page, "workspace-viewer-readonly")
    assert not page.console_errors, page.console_errors


def test_an_approved_layout_opens_read_only_and_branch_to_edit_lands_in_an_editable_draft(stack, open_as):
    page = open_as("alice")
    baseline = stack.layout_id()
    open_layout(page, baseline)
    assert page.get_by_test_id("layout-status").text_content().strip().lower() == "approved"
    assert page.get_by_test_id("readonly-banner").filter(has_text="Branch it to edit").is_visible()
    assert not page.get_by_test_id("palette-panel").is_visible()
    button = page.get_by_test_id("branch")
    assert button.is_visible() and "Branch to edit" in button.inner_text()
    shot(page, "workspace-approved-readonly")

    button.click()
    page.get_by_test_id("branch-name").fill("Alice's what-if")
    page.get_by_test_id("branch-confirm").click()
    poll(page, lambda: not page.url.rstrip("/").endswith(f"/{baseline}"), timeout=30, what="navigation to the new draft")
    new_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    wait_scene(page, timeout=60_000)
    layout = rest(page).json(f"/api/layouts/{new_id}/")
    assert (layout["name"], layout["status"], layout["parent"]) == ("Alice's what-if", "draft", baseline)
    assert page.get_by_test_id("layout-status").text_content().strip().lower() == "draft"
    assert page.get_by_test_id("palette-panel").is_visible()
    assert page.get_by_test_id("connect").is_visible() and not page.get_by_test_id("branch").is_visible()
    assert page.evaluate("window.metaverse.editor.canEdit") is True
    base_count = rest(page).json(f"/api/assets/?layout={baseline}")["count"]
    assert page.evaluate("window.metaverse.stats()")["assets"] == base_count
    shot(page, "workspace-branched-draft")
    assert not page.console_errors, page.console_errors


def _hold_back_frames_from(user_id):
    """A websocket route that delivers everything except the `applied` frames of `user_id`'s edits: the
    moment between someone saving and the news reaching this browser, held open so the test is exact."""
    def route(ws):
        server = ws.connect_to_server()

        def to_page(message):
            try:
                frame = json.loads(message)
            except (TypeError, ValueError):
                frame = None
            if isinstance(frame, dict) and frame.get("type") == "applied" and frame.get("by") == user_id:
                return
            ws.send(message)

        server.on_message(to_page)
    return route


def test_a_change_saved_by_someone_else_first_is_shown_as_a_conflict_and_neither_value_is_lost(stack, open_as, browser):
    page = open_as("alice")
    draft = branch_demo(page, stack, "Contested press")
    bob_context, bob = login_rest(browser, stack, "bob")
    bob_id = bob.json("/api/auth/me/")["id"]
    page.route_web_socket("**/ws/**", _hold_back_frames_from(bob_id))
    open_layout(page, draft)
    press = asset_named(page, "Press-1")
    select_by_click(page, press["id"])

    # Bob saves his cycle time first, through the API, while Alice has the old version on screen.
    theirs = bob.patch(f"/api/assets/{press['id']}/", {"params": {**press["params"], "cycle_time_s": 44.0}, "version": press["version"]})
    assert theirs.ok, theirs.text()
    field = page.locator("[data-testid='inspector'] input[name='cycle_time_s']")
    field.fill("55")
    field.press("Enter")

    dialog = page.get_by_test_id("conflict-dialog")
    dialog.wait_for(timeout=15_000)
    assert "Press-1" in dialog.inner_text()
    assert page.get_by_test_id("conflict-theirs-params.cycle_time_s").inner_text().strip() == "44"
    assert page.get_by_test_id("conflict-mine-params.cycle_time_s").inner_text().strip() == "55"
    assert rest(page).json(f"/api/assets/{press['id']}/")["params"]["cycle_time_s"] == 44.0, "Bob's value was overwritten"
    shot(page, "workspace-conflict")

    page.get_by_test_id("conflict-keep-mine").click()
    idle(page)
    final = poll(page, lambda: (a := rest(page).json(f"/api/assets/{press['id']}/"))["params"].get("cycle_time_s") == 55.0 and a,
                 what="Alice's kept value saved")
    assert final["version"] >= press["version"] + 2
    focus_on(page, [press["id"]])
    assert field.input_value() == "55"
    bob_context.close()
    assert not benign(page.console_errors, 409), page.console_errors
