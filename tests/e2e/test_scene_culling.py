"""Big plants stay fluid (issue 16): what is drawn follows the camera — a close-up draws only the assets and
belts in view (each asset near in full, far as its box), the overview draws everything, and picking still
finds what is on screen through the compacted instances."""
import pytest

from tests.e2e.test_workspace_support import asset_named, click_asset, open_live_layout, poll, selection

pytestmark = pytest.mark.e2e

DRAWN = """() => { const v = window.metaverse.view; return { ...v.assetMeshes.drawn, belts: v.connections.nearSegs.length + v.connections.farSegs.length,
  assets: v.editor.assets.size, connections: v.editor.connections.size }; }"""


def test_a_close_up_draws_what_is_in_view_and_picking_still_works(stack, open_as):
    page = open_as("alice")
    open_live_layout(page, stack.layout_id())
    poll(page, lambda: (lambda d: d["near"] + d["far"] == d["assets"])(page.evaluate(DRAWN)), what="the overview draws every asset")
    overview = page.evaluate(DRAWN)
    assert overview["belts"] == overview["connections"]

    dock = asset_named(page, "Dock A")
    page.evaluate("(id) => window.metaverse.lookAt([57, 6, 16], [55, 0, 10])", dock["id"])
    page.wait_for_timeout(400)
    close = page.evaluate(DRAWN)
    assert 0 < close["near"] + close["far"] < close["assets"] / 2, close
    assert close["belts"] < close["connections"], close
    assert page.evaluate("window.metaverse.stats().assets") == overview["assets"]
    click_asset(page, dock["id"])
    poll(page, lambda: selection(page) == [dock["id"]], timeout=5, what="Dock A picked through the culled instances")

    page.evaluate("window.metaverse.frameAll()")
    poll(page, lambda: (lambda d: d["near"] + d["far"] == d["assets"])(page.evaluate(DRAWN)), what="everything drawn again")
    assert not page.console_errors, page.console_errors
