"""Reading the plant at a glance (issue 16): a twin's status is a ring on the floor, never the body colour —
a red shipping dock that is running stays a dock's red and gets a green ring, a "down" machine keeps its
type colour and gets a red ring — and the legend says what the rings mean."""
import pytest

from tests.e2e.conftest import shot
from tests.e2e.test_workspace_support import branch_demo, open_live_layout, rest

pytestmark = pytest.mark.e2e

COLOURS = """(id) => {
  const m = window.metaverse, a = m.editor.getAsset(id), t = m.editor.typeOf(a);
  const rings = m.scene.getObjectByName('TwinStatusRings');
  const bound = [...m.editor.assets.values()].filter((x) => x.twin_key);
  return { body: m.twinsLive.assetColor(a.id).slice(1), type: m.view.scene.background.clone().set(t.color).getHexString(),
           ring: m.twinsLive.statusColor(a.id).slice(1), rings: rings.count, bound: bound.length };
}"""


def test_status_is_a_ring_and_the_body_keeps_its_type_colour(stack, open_as):
    page = open_as("alice")
    draft = branch_demo(page, stack, "Watch the docks")
    docks = [a for a in rest(page).json(f"/api/assets/?layout={draft}&page_size=500")["results"] if a["name"] == "Dock A"]
    bound = rest(page).patch(f"/api/assets/{docks[0]['id']}/", {"twin_key": "dock-a", "version": docks[0]["version"]})
    assert bound.ok, bound.text()
    open_live_layout(page, draft)
    dock = page.evaluate("window.metaverse.findAsset('Dock A')")
    press = page.evaluate("window.metaverse.findAsset('Press-1')")
    assert dock["twin_key"] and press["twin_key"]
    page.evaluate("([a, b]) => window.metaverse.editor.applyTwinUpdates([{ key: a, status: 'running' }, { key: b, status: 'down' }])", [dock["twin_key"], press["twin_key"]])
    page.wait_for_timeout(300)
    d, p = page.evaluate(COLOURS, dock["id"]), page.evaluate(COLOURS, press["id"])
    assert d["body"] == d["type"], d
    assert p["body"] == p["type"], p
    assert d["rings"] == d["bound"] > 0
    assert d["ring"] == "22c55e" and p["ring"] == "ef4444", (d, p)
    legend = page.get_by_test_id("legend-status")
    legend.wait_for()
    assert "running" in legend.inner_text() and "down" in legend.inner_text()
    page.evaluate("window.metaverse.frameAssets([%d, %d])" % (press["id"], dock["id"]))
    page.wait_for_timeout(800)
    shot(page, "plant-at-a-glance-status-rings")
    assert not page.console_errors, page.console_errors
