"""A review in one room (issue 4's presenter journey): the manager brings everyone to her view with one click,
the engineers' pages fly there; an engineer has no such button, and the server refuses one forged by hand."""
import pytest

from tests.e2e.conftest import shot
from tests.e2e.test_workspace_support import open_layout, poll

pytestmark = pytest.mark.e2e

MAGGIES_VIEW = ([60.0, 25.0, 45.0], [30.0, 0.0, 15.0])


def online(page):
    poll(page, lambda: page.evaluate("window.metaverse.connectionState()") == "online", timeout=20, what="socket online")


def camera(page):
    return page.evaluate("window.metaverse.camera.position.toArray()")


def near(a, b, tolerance=1.0):
    return sum((x - y) ** 2 for x, y in zip(a, b)) ** 0.5 < tolerance


def test_the_manager_brings_everyone_to_her_view(stack, open_as):
    maggie, alice, bob = open_as("maggie"), open_as("alice"), open_as("bob")
    for page in (maggie, alice, bob):
        open_layout(page, stack.layout_id())
        online(page)
    for page, name in ((maggie, "alice"), (maggie, "bob"), (alice, "maggie")):
        page.get_by_test_id(f"member-{name}").wait_for(timeout=15_000)
    alice.evaluate("([p, t]) => window.metaverse.lookAt(p, t)", [[5, 40, 5], [10, 0, 10]])
    bob.evaluate("([p, t]) => window.metaverse.lookAt(p, t)", [[-20, 15, 70], [0, 0, 30]])
    assert alice.get_by_test_id("summon").is_hidden(), "engineers cannot summon"

    maggie.evaluate("([p, t]) => window.metaverse.lookAt(p, t)", list(MAGGIES_VIEW))
    poll(maggie, lambda: near(camera(maggie), MAGGIES_VIEW[0], 0.05), what="maggie's camera in place")
    maggie.get_by_test_id("summon").click()
    for page in (alice, bob):
        poll(page, lambda p=page: near(camera(p), MAGGIES_VIEW[0]), timeout=10, what="the page flown to maggie's view")
    shot(alice, "summon-alice-at-maggies-view")

    # A hand-made summon from an engineer's page is refused by the server and moves nobody.
    here = camera(maggie)
    alice.evaluate("window.metaverse.socket.summon([0, 90, 0], [0, 0, 0])")
    poll(alice, lambda: "managers and owners" in alice.locator("body").inner_text(), timeout=10, what="the refusal shown to alice")
    maggie.wait_for_timeout(800)
    assert near(camera(maggie), here, 0.05) and near(camera(bob), MAGGIES_VIEW[0])
    for page in (maggie, alice, bob):
        assert not page.console_errors, page.console_errors
