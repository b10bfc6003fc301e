"""Edits made while offline (RELIABILITY.md, "Faults"): alice's network goes away, she goes on editing in the
inspector; once she is back her page sends what she did — an edit nobody else touched is applied and bob
sees it; one that bob's change overtook is refused visibly (the conflict dialog, with both values), never
dropped in silence, and she can still keep hers."""
import pytest

from tests.e2e.conftest import shot
from tests.e2e.test_reconnect import move_over_rest, socket_state, x_of
from tests.e2e.test_workspace_support import asset_named, branch_demo, open_live_layout, poll, rest, select_by_click

pytestmark = pytest.mark.e2e


class Cable:
    """Between alice's page and the server: unplugged, it cuts her sockets and refuses new ones (the page
    sees its connection drop and its reconnects fail, as with the network gone); plugged, it passes all."""

    def __init__(self):
        self.unplugged = False
        self.links = []

    def route(self, ws):
        if self.unplugged:
            ws.close(code=1001, reason="offline")
            return
        server = ws.connect_to_server()
        self.links.append((ws, server))

    def unplug(self, context):
        self.unplugged = True
        context.set_offline(True)  # her REST calls fail too
        for ws, server in self.links:
            server.close()
            ws.close(code=1001, reason="offline")
        self.links.clear()

    def plug(self, context):
        self.unplugged = False
        context.set_offline(False)


def type_x(page, asset: dict, x: float):
    """Select the asset with a click and type its new X in the inspector, as a person would."""
    select_by_click(page, asset["id"])
    page.get_by_test_id("inspector-title").filter(has_text=asset["name"]).wait_for()
    field = page.locator("[data-testid='inspector'] input[name='x']")
    field.fill(f"{x:g}")
    field.press("Enter")


def server_x(page, asset_id: int) -> float:
    return rest(page).json(f"/api/assets/{asset_id}/")["x"]


def test_edits_made_offline_are_applied_or_visibly_refused_after_the_reconnect(stack, open_as):
    alice, bob = open_as("alice"), open_as("bob")
    draft = branch_demo(alice, stack, "Offline edits")
    cable = Cable()
    alice.route_web_socket("**/ws/layouts/**", cable.route)
    for page in (alice, bob):
        open_live_layout(page, draft)
    press1, press2 = asset_named(alice, "Press-1"), asset_named(alice, "Press-2")

    cable.unplug(alice.context)
    poll(alice, lambda: socket_state(alice) != "online", timeout=20, what="alice's page to notice it is offline")
    mine1, mine2 = press1["x"] + 2.5, press2["x"] + 1.25
    type_x(alice, press1, mine1)
    type_x(alice, press2, mine2)
    poll(alice, lambda: x_of(alice, press1["id"]) == mine1 and x_of(alice, press2["id"]) == mine2, what="her edits on her own page")
    theirs2 = move_over_rest(bob, press2["id"], -3.0)["x"]  # meanwhile bob moves Press-2 his way
    alice.wait_for_timeout(1500)
    assert socket_state(alice) != "online"
    assert server_x(bob, press1["id"]) == press1["x"], "an edit reached the server while alice was offline"

    cable.plug(alice.context)
    alice.locator("[data-testid=connection-state][data-state=online]").wait_for(timeout=45_000)
    # The edit nobody else touched is applied, and bob sees it.
    poll(bob, lambda: server_x(bob, press1["id"]) == mine1, timeout=15, what="alice's offline edit of Press-1 on the server")
    poll(bob, lambda: x_of(bob, press1["id"]) == mine1, timeout=15, what="alice's offline edit of Press-1 on bob's page")
    # The one bob's change overtook is refused, and she is shown both values; the server keeps bob's.
    dialog = alice.get_by_test_id("conflict-dialog")
    dialog.wait_for(timeout=15_000)
    assert "Press-2" in dialog.inner_text()
    assert float(dialog.get_by_test_id("conflict-mine-x").inner_text()) == mine2
    assert float(dialog.get_by_test_id("conflict-theirs-x").inner_text()) == theirs2
    assert server_x(bob, press2["id"]) == theirs2
    poll(alice, lambda: x_of(alice, press2["id"]) == theirs2, what="bob's Press-2 on alice's page beside the dialog")
    shot(alice, "offline-edit-conflict")

    dialog.get_by_test_id("conflict-keep-mine").click()  # her choice, made knowingly, wins
    poll(bob, lambda: x_of(bob, press2["id"]) == mine2, timeout=15, what="alice's kept Press-2 on bob's page")
    assert server_x(bob, press2["id"]) == mine2
    assert alice.evaluate("window.metaverse.editor.seq") == bob.evaluate("window.metaverse.editor.seq")
