"""The experiments panel in a shared room (CONTRACT §8): alice sweeps a buffer rack (picked in 3D, values as a
list) and a source's interarrival (picked in the panel, values as a range) of a branch of the demo plant on
the real worker while bob watches; both see the progress bar move and the results (table with CIs, best
point, effects, heat map); the CSV export is the experiment's, formula-like cells neutralised; a viewer
reads but cannot start or apply; alice applies the best point as a branch and opens it."""
import csv
import io
import json
import re
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import shot
from tests.e2e.test_workspace_support import (
    api,
    assert_quiet_console,
    json_ok,
    open_live_layout,
)

pytestmark = pytest.mark.e2e

RACK = "=Buffer B2"  # a name a spreadsheet would evaluate: the CSV must keep it as text


def js_fmt(value, digits=1):
    """The panel's number format (util/dom.js `fmt`)."""
    return str(int(value)) if float(value).is_integer() else re.sub(r"\.?0+$", "", f"{value:.{digits}f}")


def progress_of(page):
    bar = page.get_by_test_id("exp-panel").get_by_test_id("exp-progress")
    return bar.get_attribute("data-experiment"), bar.get_attribute("data-status"), float(bar.get_attribute("data-progress") or 0)


@pytest.mark.timeout(600)  # three browsers and an experiment on the worker; a loaded CI machine needs the room
def test_alice_runs_a_grid_bob_watches_and_alice_applies_the_best_point_as_a_branch(stack, open_as):
    alice = open_as("alice")
    alice.goto("/")
    draft = json_ok(api(alice, "POST", f"/api/layouts/{stack.layout_id()}/branch/", {"name": f"Experiment branch {time.time_ns()}"}), 201)["id"]
    scene = json_ok(api(alice, "GET", f"/api/layouts/{draft}/scene/"))
    by_name = {a["name"]: a for a in scene["assets"]}
    rack = by_name["Buffer B2"]
    source = by_name["Bar Stock In"]
    json_ok(api(alice, "PATCH", f"/api/assets/{rack['id']}/", {"name": RACK, "version": rack["version"]}))
    link = next(c for c in scene["connections"] if c["source"] == by_name["Weld Robot"]["id"] and c["target"] == rack["id"])
    bob = open_as("bob")
    open_live_layout(alice, draft)
    open_live_layout(bob, draft)

    # The Experiments tab sits beside the simulation panel; one of the two is open at a time.
    alice.get_by_test_id("sim-toggle").click()
    alice.get_by_test_id("sim-tab-experiments").click()
    panel = alice.get_by_test_id("exp-panel")
    panel.wait_for(state="visible")
    assert alice.get_by_test_id("sim-panel").is_hidden()
    bob.get_by_test_id("exp-toggle").click()
    bob.get_by_test_id("exp-panel").wait_for(state="visible")

    # Factor 1: "vary this" on the rack selected in 3D, values as a list.
    alice.evaluate("(id) => window.metaverse.selectAsset(id)", rack["id"])
    add = panel.get_by_test_id("exp-add-factor")
    assert add.inner_text() == f"+ Vary {RACK}"
    panel.get_by_test_id("exp-factor-remove").first.click()  # the row the panel opened with
    add.click()
    first = panel.get_by_test_id("exp-factor").nth(0)
    assert first.get_by_test_id("exp-factor-target").input_value() == f"a:{rack['id']}"
    assert first.get_by_test_id("exp-factor-param").input_value() == "capacity"
    first.get_by_test_id("exp-factor-values").fill("1, 1")
    assert "listed twice" in first.get_by_test_id("exp-factor-preview").inner_text()
    first.get_by_test_id("exp-factor-values").fill("1, 6")
    assert first.get_by_test_id("exp-factor-preview").inner_text().startswith("2 values: 1, 6 · now")
    # "Vary this" on a selected connection offers its buffer (not kept: it would not change the answer here).
    alice.evaluate("(id) => window.metaverse.selectConnection(id)", link["id"])
    assert add.inner_text() == "+ Vary the selected connection"
    add.click()
    assert panel.get_by_test_id("exp-factor").nth(1).get_by_test_id("exp-factor-param").input_value() == "buffer_capacity"
    panel.get_by_test_id("exp-factor").nth(1).get_by_test_id("exp-factor-remove").click()
    # Factor 2: picked in the panel (the line A source's interarrival), values as a range.
    alice.evaluate("() => { window.metaverse.selectConnection(null); window.metaverse.selectAsset(null); }")
    assert add.inner_text() == "+ Add a factor"
    add.click()
    second = panel.get_by_test_id("exp-factor").nth(1)
    second.get_by_test_id("exp-factor-target").select_option(f"a:{source['id']}")
    second.get_by_test_id("exp-factor-param").select_option("interarrival_s")
    second.get_by_test_id("exp-factor-mode-range").click()
    second.get_by_test_id("exp-factor-from").fill("30")
    second.get_by_test_id("exp-factor-to").fill("40")
    second.get_by_test_id("exp-factor-step").fill("10")
    assert re.fullmatch(r"2 values: 30, 40 · now \d+(\.\d+)?", second.get_by_test_id("exp-factor-preview").inner_text())
    panel.get_by_test_id("exp-name").fill("Rack and supply")
    # Long enough that progress moves while both watch (it moves inside replications too).
    panel.get_by_test_id("exp-horizon").fill("24")
    panel.get_by_test_id("exp-warmup").fill("60")
    panel.get_by_test_id("exp-replications").fill("2")
    panel.get_by_test_id("exp-seed").fill("11")
    assert panel.get_by_test_id("exp-size").inner_text().startswith("4 points × 2 replications = 8 replications")
    shot(alice, "exp-form-alice")

    # A bad value is caught in the browser and said in words.
    panel.get_by_test_id("exp-replications").fill("0")
    panel.get_by_test_id("exp-start").click()
    assert "whole number" in panel.get_by_test_id("exp-replications-error").inner_text()
    assert "fixing" in panel.get_by_test_id("exp-error").inner_text()
    panel.get_by_test_id("exp-replications").fill("2")
    panel.get_by_test_id("exp-start").click()

    seen_by_bob, seen_by_alice = [], []
    exp_id = None
    deadline = time.time() + 240
    while time.time() < deadline:
        ea, sa, pa = progress_of(alice)
        eb, sb, pb = progress_of(bob)
        if exp_id is None and ea and sa in ("queued", "running"):
            exp_id = ea
        if exp_id and eb == exp_id:
            seen_by_bob.append((sb, pb))
            if sb == "running" and 0.2 < pb < 0.8 and not any(s == "running" and 0.2 < p < 0.8 for s, p in seen_by_bob[:-1]):
                shot(bob, "exp-progress-bob")
        if exp_id and ea == exp_id:
            seen_by_alice.append((sa, pa))
        if exp_id and sb == "succeeded" and sa == "succeeded":
            break
        if sb in ("failed", "cancelled") and eb == exp_id:
            pytest.fail(f"experiment ended {sb}: {bob.get_by_test_id('exp-progress-text').inner_text()}")
        if panel.get_by_test_id("exp-error").is_visible():
            pytest.fail(panel.get_by_test_id("exp-error").inner_text())
        bob.wait_for_timeout(80)
    else:
        shot(bob, "exp-bob-timeout")
        pytest.fail(f"the experiment did not finish for both; bob last saw {seen_by_bob[-5:]}, alice {seen_by_alice[-3:]}")
    moving = [p for s, p in seen_by_bob if s == "running" and 0 < p < 1]
    assert moving, f"bob never saw the bar between 0 and 1: {seen_by_bob}"
    assert any(s == "running" for s, _ in seen_by_alice), seen_by_alice
    values = [p for _, p in seen_by_bob]
    assert values == sorted(values), f"bob's bar went backwards: {values}"

    stored = json_ok(api(alice, "GET", f"/api/experiments/{exp_id}/"))
    assert stored["status"] == "succeeded" and len(stored["points"]) == 4
    kpi = lambda p: p["results"]["throughput_per_hour"]["mean"]
    best = max(stored["points"], key=lambda p: (kpi(p), -p["index"]))
    assert stored["best"] == best["index"]
    for page, who in ((alice, "alice"), (bob, "bob")):
        results = page.get_by_test_id("exp-results")
        results.locator("[data-testid=exp-row][data-status=succeeded]").nth(3).wait_for(timeout=20_000)
        assert results.get_attribute("data-experiment") == exp_id
        rows = results.get_by_test_id("exp-row")
        assert rows.count() == 4
        best_row = results.locator("[data-testid=exp-row][data-best=true]")
        assert best_row.count() == 1 and best_row.get_attribute("data-point") == str(best["index"])
        ci = best["results"]["throughput_per_hour"]
        cell = best_row.locator("td").nth(3)  # #, the two factors, then throughput: mean over its 95% half-width
        assert cell.inner_text().split("\n") == [js_fmt(ci["mean"]), f"± {js_fmt(ci['ci95'])}"], cell.inner_text()
        assert results.get_by_test_id("exp-best-value").inner_text() == f"{js_fmt(ci['mean'])} /h ± {js_fmt(ci['ci95'])}"
        assert results.get_by_test_id("exp-best").get_attribute("data-point") == str(best["index"])
        # Main effects: one chart per factor, a point per value; the heat map: one cell per combination.
        for i in range(2):
            chart = results.get_by_test_id(f"exp-effect-{i}")
            chart.wait_for()
            assert chart.get_attribute("data-points") == "2"
        cells = results.get_by_test_id("exp-heat-cell")
        assert cells.count() == 4
        assert results.locator(".exp-heat td.exp-hbest").count() == 1
        page.get_by_test_id("exp-panel").locator(".fx-scroll").evaluate("(el) => { el.scrollTop = el.scrollHeight; }")
        page.wait_for_timeout(300)
        shot(page, f"exp-results-{who}")
        page.get_by_test_id("exp-panel").locator(".fx-scroll").evaluate("(el) => { el.scrollTop = 0; }")

    # Sorting: by throughput, best first; a second click reverses it.
    panel.get_by_test_id("exp-sort-throughput_per_hour").click()
    order = [int(panel.get_by_test_id("exp-row").nth(i).get_attribute("data-point")) for i in range(4)]
    expected = [p["index"] for p in sorted(stored["points"], key=lambda p: (-kpi(p), p["index"]))]
    assert order == expected
    panel.get_by_test_id("exp-sort-throughput_per_hour").click()
    order = [int(panel.get_by_test_id("exp-row").nth(i).get_attribute("data-point")) for i in range(4)]
    assert order == [p["index"] for p in sorted(stored["points"], key=lambda p: (kpi(p), p["index"]))]

    # Exports: built in the browser from the experiment's JSON.
    with alice.expect_download() as dl:
        panel.get_by_test_id("exp-export-csv").click()
    text = Path(dl.value.path()).read_text(encoding="utf-8")
    table = list(csv.reader(io.StringIO(text)))
    label = f"{RACK}.capacity"
    assert table[0][3] == f"'{label}", table[0]
    assert len(table) == 5
    by_point = {int(r[0]): r for r in table[1:]}
    assert by_point[best["index"]][-1] == "yes"
    col = table[0].index("throughput_per_hour_mean")
    assert float(by_point[best["index"]][col]) == pytest.approx(kpi(best))
    with alice.expect_download() as dl:
        panel.get_by_test_id("exp-export-json").click()
    exported = json.loads(Path(dl.value.path()).read_text(encoding="utf-8"))
    assert exported["id"] == int(exp_id) and exported["best"] == best["index"]

    # A viewer reads the same results but can neither start an experiment nor apply a point.
    victor = open_as("victor")
    open_live_layout(victor, draft)
    victor.get_by_test_id("exp-toggle").click()
    seen = victor.get_by_test_id("exp-panel")
    seen.get_by_test_id("exp-viewer-note").wait_for()
    assert seen.get_by_test_id("exp-start").is_disabled()
    seen.locator("[data-testid=exp-row][data-status=succeeded]").nth(3).wait_for(timeout=20_000)
    assert seen.get_by_test_id("exp-apply-best").is_hidden() and seen.get_by_test_id("exp-apply-row").count() == 0
    victor.close()

    # Apply the best point as a branch, then open it.
    panel.get_by_test_id("exp-apply-best").click()
    panel.get_by_test_id("exp-apply-name").fill("Rack and supply, best")
    panel.get_by_test_id("exp-apply-confirm").click()
    applied = panel.get_by_test_id("exp-applied")
    applied.wait_for(timeout=20_000)
    new_id = int(applied.get_attribute("data-layout"))
    shot(alice, "exp-applied-alice")
    new_scene = json_ok(api(alice, "GET", f"/api/layouts/{new_id}/scene/"))
    assert new_scene["layout"]["status"] == "draft" and new_scene["layout"]["parent"] == draft
    new_rack = next(a for a in new_scene["assets"] if a["name"] == RACK)
    assert new_rack["params"]["capacity"] == best["values"][label]
    new_source = next(a for a in new_scene["assets"] if a["name"] == "Bar Stock In")
    assert new_source["params"]["interarrival_s"] == best["values"]["Bar Stock In.interarrival_s"]
    panel.get_by_test_id("exp-open-branch").click()
    alice.wait_for_url(f"**/layouts/{new_id}/")
    alice.locator("html[data-scene-ready='true']").wait_for(state="attached", timeout=90_000)
    assert alice.get_by_test_id("layout-name").inner_text() == "Rack and supply, best"
    assert_quiet_console(bob)
    assert not alice.console_errors, alice.console_errors
