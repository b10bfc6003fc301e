"""The web server restarts under two people in a room (RELIABILITY.md, "Restart the ASGI server"): each page
reconnects by itself, resyncs from its last `seq` and shows what the other changed meanwhile over REST."""
import json

import pytest

from tests.e2e.conftest import shot
from tests.e2e.test_workspace_support import asset_named, branch_demo, open_live_layout, poll, rest

pytestmark = pytest.mark.e2e


def socket_state(page) -> str | None:
    return page.get_by_test_id("connection-state").get_attribute("data-state")


def x_of(page, asset_id: int) -> float:
    return page.evaluate("id => window.metaverse.editor.getAsset(id).x", asset_id)


def move_over_rest(page, asset_id: int, dx: float) -> dict:
    current = rest(page).json(f"/api/assets/{asset_id}/")
    response = rest(page).patch(f"/api/assets/{asset_id}/", {"x": current["x"] + dx, "version": current["version"]})
    assert response.status == 200, response.text()
    return response.json()


class SlowUplink:
    """Between the page and the server: holds the page's `resync` until a live `applied` has reached the
    page, as a slow uplink would. The replay then arrives after a newer event, and the page must not let
    that event make it skip the replayed ones."""

    def __init__(self):
        self.held: list = []
        self.live_seen = False

    def route(self, ws):
        server = ws.connect_to_server()

        def upstream(message):
            if not self.live_seen and json.loads(message).get("type") == "resync":
                self.held.append(message)
            else:
                server.send(message)

        def downstream(message):
            ws.send(message)
            if self.held and json.loads(message).get("type") == "applied":
                self.live_seen = True
                for held in self.held:
                    server.send(held)
                self.held.clear()

        ws.on_message(upstream)
        server.on_message(downstream)


def test_after_a_server_restart_the_page_reconnects_and_shows_the_edits_it_missed(stack, open_as):
    alice, bob = open_as("alice"), open_as("bob")
    draft = branch_demo(alice, stack, "Reconnect")
    for page in (alice, bob):
        open_live_layout(page, draft)
    press, press2 = asset_named(alice, "Press-1"), asset_named(alice, "Press-2")
    uplink = SlowUplink()
    alice.route_web_socket("**/ws/layouts/**", uplink.route)  # the sockets her page opens from now on

    def gone():
        poll(alice, lambda: socket_state(alice) != "online", timeout=20, what="alice's page to notice that the server is gone")
        alice.context.set_offline(True)  # and her network is out too, until bob has made his change

    stack.restart_web(while_down=gone)
    missed = move_over_rest(bob, press["id"], 3.25)
    assert socket_state(alice) != "online" and x_of(alice, press["id"]) != missed["x"]
    alice.context.set_offline(False)

    # Her page reconnects by itself and asks for what it missed; bob's next change overtakes that request.
    poll(alice, lambda: uplink.held, timeout=60, what="alice's page to reconnect and send its resync")
    live = move_over_rest(bob, press2["id"], 1.5)
    alice.locator("[data-testid=connection-state][data-state=online]").wait_for(timeout=30_000)
    poll(alice, lambda: x_of(alice, press["id"]) == missed["x"], timeout=15, what="bob's move made during the restart on alice's page")
    poll(alice, lambda: x_of(alice, press2["id"]) == live["x"], timeout=15, what="bob's move made after the restart on alice's page")
    assert uplink.live_seen

    bob.locator("[data-testid=connection-state][data-state=online]").wait_for(timeout=60_000)
    again = move_over_rest(bob, press["id"], 1.0)
    for page in (alice, bob):
        poll(page, lambda p=page: x_of(p, press["id"]) == again["x"], timeout=15, what="a live move on the new server process")
    assert alice.evaluate("window.metaverse.editor.seq") == bob.evaluate("window.metaverse.editor.seq")
    shot(alice, "reconnect-alice-after-restart")
