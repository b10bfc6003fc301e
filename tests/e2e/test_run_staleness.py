"""A run goes stale only when something the simulation reads changes. In two browsers: alice (engineer) runs a
branch of the demo plant while maggie (manager) watches; a rename leaves the run current, a parameter edit makes
it stale for both at once; alice runs again and submits, and the manager still sees that run as current, live,
after a reload and in the scenario list."""
import time

import pytest

from tests.e2e.conftest import shot
from tests.e2e.test_workspace_support import api, assert_quiet_console, json_ok, open_panel, wait_until

pytestmark = pytest.mark.e2e

PRESS = "Press-2"


def run_from_panel(page, watchers) -> str:
    """Start a short run from the page's panel; return its id once every watcher shows its results."""
    panel = page.get_by_test_id("sim-panel")
    before = panel.get_by_test_id("sim-progress").get_attribute("data-run")
    panel.get_by_test_id("sim-horizon").fill("2")
    panel.get_by_test_id("sim-warmup").fill("10")
    panel.get_by_test_id("sim-replications").fill("3")
    panel.get_by_test_id("sim-seed").fill("11")
    panel.get_by_test_id("sim-run").click()

    def started():
        if panel.get_by_test_id("sim-error").is_visible():
            pytest.fail(panel.get_by_test_id("sim-error").inner_text())
        run = panel.get_by_test_id("sim-progress").get_attribute("data-run")
        return run if run and run != before else None

    run_id = wait_until(page, started, message="the run to start")
    for watcher in watchers:
        watcher.locator(f"[data-testid=sim-results][data-run='{run_id}']").wait_for(timeout=120_000)
    return run_id


def editor(page, expression):
    return page.evaluate(f"(() => {{ const e = window.metaverse.editor; return {expression}; }})()")


def test_review_transitions_keep_a_run_current_and_a_param_edit_makes_it_stale_for_both(stack, open_as):
    alice = open_as("alice")
    maggie = open_as("maggie")
    alice.goto("/")
    draft = json_ok(api(alice, "POST", f"/api/layouts/{stack.layout_id()}/branch/", {"name": f"Staleness {time.time_ns()}"}), 201)["id"]
    open_panel(alice, draft)
    open_panel(maggie, draft)

    first = run_from_panel(alice, [alice, maggie])
    for page in (alice, maggie):
        assert page.get_by_test_id("sim-stale").is_hidden()

    # A rename bumps the revision on both pages, and the run stays current.
    seq = editor(maggie, "e.seq")
    json_ok(api(alice, "PATCH", f"/api/layouts/{draft}/", {"name": "Staleness renamed"}))
    for page in (alice, maggie):
        wait_until(page, lambda p=page: editor(p, "e.layout.name") == "Staleness renamed" and editor(p, "e.seq") > seq, message="the rename")
        assert page.get_by_test_id("sim-stale").is_hidden()

    # A parameter the engine reads: the open results go stale for both, without a reload.
    alice.evaluate("""async (name) => {
        const m = window.metaverse; const a = m.findAsset(name);
        await m.editor.execute(new m.commands.SetParamCommand(m.editor, a.id, 'cycle_time_s', 15));
        await m.idle();
    }""", PRESS)
    ran_at = json_ok(api(alice, "GET", f"/api/simulations/{first}/"))["layout_revision"]
    for page, who in ((alice, "alice"), (maggie, "maggie")):
        stale = page.get_by_test_id("sim-stale")
        stale.wait_for(state="visible", timeout=15_000)
        content = editor(page, "e.contentRevision")
        assert content == editor(page, "e.seq") > ran_at, who
        assert f"since this run (revision {ran_at} → {content})" in stale.inner_text(), stale.inner_text()
        assert "run again" in stale.inner_text()
        shot(page, f"staleness-01-param-edit-{who}")

    # A fresh run, then the submission: the run the manager is asked to judge stays current.
    second = run_from_panel(alice, [alice, maggie])
    for page in (alice, maggie):
        assert page.get_by_test_id("sim-stale").is_hidden()
    alice.get_by_test_id("submit-layout").click()
    for page in (alice, maggie):
        page.locator("[data-testid=layout-status]", has_text="in review").wait_for(timeout=15_000)
        assert editor(page, "e.seq") > editor(page, "e.contentRevision")
        assert page.get_by_test_id("sim-stale").is_hidden()
    assert json_ok(api(maggie, "GET", f"/api/simulations/{second}/"))["layout_revision"] == editor(maggie, "e.contentRevision")
    shot(maggie, "staleness-02-submitted-manager")
    alice.goto("/")  # one 3D page at a time from here

    # The manager reloads: the scene's content revision says the same.
    open_panel(maggie, draft)
    maggie.locator(f"[data-testid=sim-history-row][data-run='{second}']").click()
    maggie.locator(f"[data-testid=sim-results][data-run='{second}']").wait_for()
    assert maggie.get_by_test_id("sim-stale").is_hidden()
    maggie.locator(f"[data-testid=sim-history-row][data-run='{first}']").click()
    maggie.locator(f"[data-testid=sim-results][data-run='{first}']").wait_for()
    maggie.get_by_test_id("sim-stale").wait_for(state="visible")

    # The scenario list shows the submitted layout's KPIs without the stale chip.
    maggie.goto("/")
    row = maggie.locator(f"[data-testid=scenario-row][data-layout-id='{draft}'][data-status=in_review]")
    row.wait_for(timeout=20_000)
    assert "parts/h" in row.get_by_test_id("scenario-kpis").inner_text(), row.get_by_test_id("scenario-kpis").inner_text()
    assert row.get_by_test_id("scenario-stale").count() == 0
    shot(maggie, "staleness-03-scenario-list")

    for page in (alice, maggie):
        assert_quiet_console(page)
