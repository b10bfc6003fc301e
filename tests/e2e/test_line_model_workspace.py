"""CONTRACT §7 in the workspace: alice gives the housings source a product mix, puts CNC-1 on a two-worker
operator pool, scraps 2 % of it and routes one connection by part type, all in the inspector; bob, in the same
room, sees every change. Then a run on two shifts shows the line-model results and the suggested warm-up."""
import time

import pytest

from tests.e2e.conftest import shot
from tests.e2e.test_workspace_support import (
    api, asset_named, assert_quiet_console, idle, json_ok, open_live_layout, open_panel, poll, rest, select_by_click,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def draft(stack, open_as):
    alice = open_as("alice")
    alice.goto("/")
    made = json_ok(api(alice, "POST", f"/api/layouts/{stack.layout_id()}/branch/", {"name": f"Line model {time.time_ns()}"}), 201)
    return {"id": made["id"], "alice": alice}


def inspector(page):
    return page.get_by_test_id("inspector")


def commit(locator, text):
    """Type into an inspector input and leave it (the inspector commits on change)."""
    locator.fill(text)
    locator.press("Tab")


def params_of(page, name):
    return page.evaluate("(n) => window.metaverse.findAsset(n).params", name)


def crew_figures(page) -> int:
    """Figures drawn besides the first worker of every operator pool (one InstancedMesh per operator type)."""
    return page.evaluate("window.metaverse.scene.getObjectByName('Crew:Operator')?.count ?? 0")


def test_mix_operator_pool_and_routing_are_edited_in_the_inspector_and_bob_sees_them(stack, open_as, draft):
    alice = draft["alice"]
    bob = open_as("bob")
    open_live_layout(alice, draft["id"])
    open_live_layout(bob, draft["id"])
    source, cnc, cy = asset_named(alice, "Housings In"), asset_named(alice, "CNC-1"), asset_named(alice, "Inspector Cy")
    figures = crew_figures(alice)

    # Inspector Cy becomes a pool of two workers, drawn as two figures.
    alice.evaluate("(id) => window.metaverse.selectAsset(id)", cy["id"])
    commit(inspector(alice).get_by_test_id("capacity"), "2")
    idle(alice)
    assert crew_figures(alice) == figures + 1

    # The housings source gets a product mix: housing 3 : cover 1.
    alice.evaluate("(id) => window.metaverse.selectAsset(id)", source["id"])
    box = inspector(alice)
    assert box.get_by_test_id("mix-type-0").input_value() == "housing"
    commit(box.get_by_test_id("mix-value-0"), "3")
    box.get_by_test_id("mix-add").click()
    box.get_by_test_id("mix-type-1").fill("cover")
    commit(box.get_by_test_id("mix-value-1"), "1")
    idle(alice)
    assert "75 %" in box.get_by_test_id("mix-table").inner_text()
    # A bad weight is explained next to the table and not sent.
    commit(box.get_by_test_id("mix-value-1"), "0")
    assert "greater than 0" in box.get_by_test_id("error-mix").inner_text()
    idle(alice)
    assert rest(alice).json(f"/api/assets/{source['id']}/")["params"]["mix"] == {"housing": 3, "cover": 1}
    commit(box.get_by_test_id("mix-value-1"), "1")

    # CNC-1: the operator pool from a select of the layout's operators, one more per-type cycle time, 2 % scrap.
    select_by_click(alice, cnc["id"])
    box = inspector(alice)
    box.get_by_test_id("operator").select_option(str(cy["id"]))
    rows = box.get_by_test_id("cycle_time_by_type-table").locator(".tt-row").count()
    box.get_by_test_id("cycle_time_by_type-add").click()
    box.get_by_test_id(f"cycle_time_by_type-type-{rows}").fill("housing")
    commit(box.get_by_test_id(f"cycle_time_by_type-value-{rows}"), "40")
    commit(box.get_by_test_id("scrap_rate"), "2")
    idle(alice)
    stored = rest(alice).json(f"/api/assets/{cnc['id']}/")["params"]
    assert stored["operator"] == cy["id"] and stored["cycle_time_by_type"]["housing"] == 40 and stored["scrap_rate"] == pytest.approx(0.02)
    shot(alice, "line-model-inspector-machine")

    # Its incoming connection takes brackets only.
    link = next(c for c in rest(alice).json(f"/api/connections/?layout={draft['id']}")["results"] if c["target"] == cnc["id"])
    box.get_by_test_id(f"connection-{link['id']}").click()
    chips = inspector(alice).get_by_test_id("part_types-input")
    chips.fill("bracket")
    chips.press("Enter")
    idle(alice)
    assert rest(alice).json(f"/api/connections/{link['id']}/")["part_types"] == ["bracket"]
    assert inspector(alice).get_by_test_id("part-type-chip").count() == 1
    shot(alice, "line-model-inspector-connection")

    # bob sees all of it, in his state, in his inspector and in 3D.
    poll(bob, lambda: params_of(bob, "Housings In").get("mix") == {"housing": 3, "cover": 1}, what="bob's copy of the mix")
    poll(bob, lambda: params_of(bob, "CNC-1").get("operator") == cy["id"], what="bob's copy of the operator")
    bob.evaluate("(id) => window.metaverse.selectConnection(id)", link["id"])
    inspector(bob).locator("[data-testid=part-type-chip][data-type=bracket]").wait_for()
    bob.evaluate("(id) => window.metaverse.selectAsset(id)", cnc["id"])
    assert inspector(bob).get_by_test_id("operator").input_value() == str(cy["id"])
    assert inspector(bob).get_by_test_id("scrap_rate").input_value() == "2"
    bob.evaluate("(id) => window.metaverse.selectAsset(id)", source["id"])
    assert [inspector(bob).get_by_test_id(f"mix-type-{i}").input_value() for i in (0, 1)] == ["housing", "cover"]
    poll(bob, lambda: crew_figures(bob) == figures + 1, what="bob's second figure of the pool")
    shot(bob, "line-model-bob-sees-mix")
    assert_quiet_console(alice, bob)


def test_a_run_on_two_shifts_shows_the_line_model_results(stack, open_as, draft):
    alice = draft["alice"]
    layout = draft["id"]
    # The demo plant already has a mix, setups, shared operators and an assembly; 5 % scrap on CNC-1 too.
    cnc = next(a for a in rest(alice).json(f"/api/assets/?layout={layout}")["results"] if a["name"] == "CNC-1")
    json_ok(api(alice, "PATCH", f"/api/assets/{cnc['id']}/", {"params": {**cnc["params"], "scrap_rate": 0.05}, "version": cnc["version"]}))

    panel = open_panel(alice, layout)
    panel.get_by_test_id("sim-calendar").select_option("two")
    assert "67 %" in panel.get_by_test_id("sim-calendar-summary").inner_text()
    panel.get_by_test_id("sim-horizon").fill("24")
    panel.get_by_test_id("sim-warmup").fill("30")
    panel.get_by_test_id("sim-replications").fill("3")
    panel.get_by_test_id("sim-seed").fill("5")
    panel.get_by_test_id("sim-run").click()

    results = panel.get_by_test_id("sim-results")
    deadline = time.time() + 240
    while time.time() < deadline and not results.is_visible():
        if panel.get_by_test_id("sim-error").is_visible():
            pytest.fail(panel.get_by_test_id("sim-error").inner_text())
        alice.wait_for_timeout(500)
    results.wait_for(timeout=5_000)
    run = json_ok(api(alice, "GET", f"/api/simulations/{results.get_attribute('data-run')}/"))
    assert run["params"]["calendar"] == {"period_s": 86400.0, "on": [[21600.0, 50400.0], [50400.0, 79200.0]]}
    assert {r.get_attribute("data-type") for r in results.get_by_test_id("sim-by-type-row").all()} >= {"bracket", "flange", "shaft", "gearbox"}
    assert results.get_by_test_id("sim-oee-row").count() >= 1
    assert results.get_by_test_id("sim-pool-row").count() >= 1
    assert results.get_by_test_id("sim-bn-share").count() >= 1
    assert "off shift" in results.locator(".fx-legend").first.inner_text()
    hint = panel.get_by_test_id("sim-warmup-suggested")
    assert hint.is_visible() and "the data suggest" in hint.inner_text()
    results.get_by_test_id("sim-by-type").scroll_into_view_if_needed()
    shot(alice, "line-model-results-by-type")
    results.get_by_test_id("sim-bottleneck-shares").scroll_into_view_if_needed()
    shot(alice, "line-model-results")
    assert_quiet_console(alice)
