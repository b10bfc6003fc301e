"""The managers' journey in two browsers: an engineer branches the demo plant, moves and speeds up a press,
runs both layouts, comments and submits; a manager reviews the scenario in compare mode (moved machine in the
diff list, KPI deltas, a comment pin's saved view), approves it, and the factory's baseline changes."""
import math

import pytest

from tests.e2e.conftest import ARTIFACTS, shot, wait_scene

pytestmark = pytest.mark.e2e

PRESS = "Press-2"


def factory(page) -> dict:
    return page.context.request.get("/api/factories/").json()["results"][0]


def restore_baseline(stack, layout_id: int):
    """Later browser tests expect the seeded baseline; put it back (as the admin action would)."""
    stack.manage("shell", "-c", (
        "from django.contrib.auth import get_user_model; from twins.models import Layout; "
        "from twins.services.layouts import layout_set_baseline; "
        f"layout_set_baseline(layout=Layout.objects.get(pk={layout_id}), "
        "by=get_user_model().objects.filter(is_superuser=True).first())"
    ))


def test_engineer_scenario_is_reviewed_in_compare_mode_and_approved_as_baseline(stack, open_as):
    alice = open_as("alice")
    maggie = open_as("maggie")
    baseline = factory(alice)["baseline_layout"]
    try:
        _journey(alice, maggie, baseline)
    finally:
        restore_baseline(stack, baseline)


def _journey(alice, maggie, baseline):
    # --- engineer: branch from the scenario list, edit, run both, comment, submit ---------------------------
    alice.goto("/")
    base_row = alice.locator(f"[data-testid=scenario-row][data-layout-id='{baseline}']")
    base_row.wait_for(timeout=20_000)
    base_row.get_by_test_id("branch-layout").click()
    alice.get_by_test_id("branch-name").fill("Faster Press-2")
    alice.get_by_test_id("branch-confirm").click()
    alice.wait_for_url("**/layouts/*/")
    wait_scene(alice)
    draft = alice.evaluate("window.metaverse.editor.layout.id")
    assert draft != baseline
    assert alice.get_by_test_id("layout-status").inner_text().lower() == "draft"
    moved_to = alice.evaluate("""async (name) => {
        const m = window.metaverse; const a = m.findAsset(name);
        await m.editor.execute(new m.commands.MoveAssetCommand(m.editor, a.id, { x: a.x, z: a.z - 3 }));
        await m.editor.execute(new m.commands.SetParamCommand(m.editor, a.id, 'cycle_time_s', 15));
        await m.idle();
        return [a.x, a.z];
    }""", PRESS)

    alice.get_by_test_id("kpi-toggle").click()
    alice.get_by_test_id("run-horizon").fill("1")
    alice.get_by_test_id("run-warmup").fill("15")  # minutes, as in every form
    alice.get_by_test_id("run-replications").fill("3")
    alice.get_by_test_id("run-seed").fill("7")
    alice.get_by_test_id("run-both").click()
    throughput = alice.locator("[data-testid=kpi-row][data-key=throughput_per_hour]:not([data-significant=null])")
    throughput.wait_for(timeout=120_000)
    runs = alice.context.request.get(f"/api/compare/?layout={draft}&against={baseline}").json()["runs"]
    assert runs["layout"]["params"]["seed"] == runs["against"]["params"]["seed"] == 7
    assert runs["layout"]["params"]["replications"] == runs["against"]["params"]["replications"] == 3
    shot(alice, "review-01-engineer-kpis")

    # --- manager opens the draft in compare mode while the engineer is still there -----------------------
    maggie.goto(f"/layouts/{draft}/?compare=1")
    wait_scene(maggie)
    moved = maggie.locator(f"[data-testid=diff-item][data-kind=moved][data-name='{PRESS}']")
    moved.wait_for(timeout=15_000)
    assert "z 28 → 25" in moved.inner_text()
    maggie.locator(f"[data-testid=diff-item][data-kind=changed][data-name='{PRESS}']").wait_for()
    ghosts = maggie.evaluate("(() => { const o = window.metaverse.review.changes.overlay; return { visible: o.group.visible, items: o.items.map(i => i.kind) }; })()")
    assert ghosts["visible"] and "moved" in ghosts["items"], ghosts

    # Presenter flow: the manager follows the engineer's camera while the engineer tours the changes.
    maggie.get_by_test_id("presenter-select").select_option(label="alice (engineer)")
    maggie.get_by_test_id("follow-presenter").click()
    maggie.get_by_test_id("follow-bar").wait_for()
    alice.get_by_test_id("compare-toggle").click()
    alice.locator("[data-testid=diff-item]").first.wait_for()
    alice.get_by_test_id("tour-next").click()
    assert "change 1" in alice.get_by_test_id("tour-position").inner_text()
    alice.wait_for_timeout(1000)  # the presenter's camera flight
    presenter = alice.evaluate("window.metaverse.camera.position.toArray()")
    for _ in range(40):
        follower = maggie.evaluate("window.metaverse.camera.position.toArray()")
        if math.dist(presenter, follower) < 1.0:
            break
        maggie.wait_for_timeout(250)
    assert math.dist(presenter, follower) < 1.0, (presenter, follower)
    maggie.get_by_test_id("follow-presenter").click()
    assert maggie.get_by_test_id("follow-bar").is_hidden()

    # A comment pinned to the press with the engineer's camera arrives live on the manager's page.
    alice.evaluate("name => window.metaverse.selectAsset(window.metaverse.findAsset(name).id)", PRESS)
    alice.evaluate("window.metaverse.lookAt([4, 14, 40], [9, 0, 25])")
    alice.get_by_test_id("comments-toggle").click()
    alice.get_by_test_id("comment-input").fill("New die on Press-2 (15 s cycle). @maggie the aisle stays 3 m wide.")
    alice.get_by_test_id("comment-submit").click()
    alice.get_by_test_id("comment-row").wait_for()
    maggie.locator("[data-testid=comments-open-count]", has_text="1").wait_for(timeout=15_000)

    # Submitting is announced live: the manager's approve button appears without a reload.
    alice.get_by_test_id("submit-layout").click()
    alice.locator("[data-testid=layout-status]", has_text="in review").wait_for()
    assert alice.get_by_test_id("submit-layout").is_hidden()
    maggie.get_by_test_id("approve-layout").wait_for(timeout=15_000)
    assert "alice submitted it for review." in maggie.evaluate("window.metaverse.review.workflow.announcements")
    alice.goto("/")  # the engineer waits on the home page; one 3D page at a time keeps the CPU for the review

    # --- manager: step to the moved machine, read the KPIs, follow the comment pin, approve ----------------
    moved.click()
    maggie.wait_for_timeout(900)  # the camera flight
    press_id = maggie.evaluate("name => window.metaverse.findAsset(name).id", PRESS)
    where = maggie.evaluate("id => window.metaverse.assetScreenPosition(id)", press_id)
    drawer = maggie.get_by_test_id("review-drawer").bounding_box()
    assert where["visible"] and where["x"] > drawer["x"] + drawer["width"], (where, drawer)
    shot(maggie, "review-02-manager-moved-machine")

    maggie.get_by_test_id("kpi-toggle").click()
    delta = maggie.get_by_test_id("kpi-delta-throughput_per_hour").inner_text()
    assert delta not in ("", "—"), delta
    assert "significant" in maggie.get_by_test_id("kpi-verdict-throughput_per_hour").inner_text()
    assert "significant" in maggie.get_by_test_id("kpi-verdict-lead_time_s").inner_text()
    shot(maggie, "review-03-manager-kpis")

    maggie.get_by_test_id("comments-toggle").click()
    row = maggie.get_by_test_id("comment-row").first
    assert row.get_by_test_id("mention").inner_text() == "@maggie"
    maggie.evaluate("window.metaverse.topView()")  # somewhere else first
    row.click()
    maggie.wait_for_timeout(1200)
    cam = maggie.evaluate("window.metaverse.camera.position.toArray()")
    assert math.dist(cam, [4, 14, 40]) < 0.05, cam
    shot(maggie, "review-04-manager-comment-view")

    maggie.get_by_test_id("approve-layout").click()
    maggie.get_by_test_id("approve-confirm").click()
    maggie.locator("[data-testid=layout-status]", has_text="approved").wait_for()
    assert factory(maggie)["baseline_layout"] == draft
    old = maggie.context.request.get(f"/api/layouts/{baseline}/").json()
    assert old["status"] == "archived"

    # --- the review pack and the scenario list ------------------------------------------------------------
    maggie.goto(f"/layouts/{draft}/?view=review-pack&against={baseline}")
    maggie.locator("html[data-review-pack-ready='true']").wait_for(state="attached", timeout=30_000)
    changes = maggie.get_by_test_id("pack-change").all_inner_texts()
    assert any("moved" in c and PRESS in c for c in changes), changes
    assert maggie.evaluate("document.querySelector('[data-testid=pack-top-view]').naturalWidth") == 1600
    assert maggie.get_by_test_id("pack-thread").count() == 1
    maggie.get_by_test_id("review-pack-print").wait_for()
    shot(maggie, "review-05-pack")
    maggie.emulate_media(media="print")
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = ARTIFACTS / "review-pack.pdf"
    maggie.pdf(path=str(pdf), print_background=True)
    assert pdf.stat().st_size > 20_000

    alice.reload()
    approved = alice.locator(f"[data-testid=scenario-row][data-layout-id='{draft}'][data-status=approved]")
    approved.wait_for(timeout=15_000)
    assert approved.locator(".chip.baseline").count() == 1
    shot(alice, "review-06-scenario-list")
    assert moved_to == [9, 25]
    assert not alice.console_errors, alice.console_errors
    assert not maggie.console_errors, maggie.console_errors


def test_manager_rejects_from_the_scenario_list_with_a_reason(stack, open_as):
    alice = open_as("alice")
    api = alice.context.request
    baseline = factory(alice)["baseline_layout"]
    draft = api.post(f"/api/layouts/{baseline}/branch/", data={"name": "Two shifts"}, headers=_csrf(alice)).json()["id"]
    assert api.post(f"/api/layouts/{draft}/submit/", headers=_csrf(alice)).ok

    maggie = open_as("maggie")
    maggie.goto("/")
    row = maggie.locator(f"[data-testid=scenario-row][data-layout-id='{draft}']")
    row.wait_for(timeout=20_000)
    assert row.get_attribute("data-status") == "in_review"
    row.get_by_test_id("reject-layout").click()
    maggie.get_by_test_id("reject-confirm").click()  # no reason yet: refused in the browser
    assert row.get_attribute("data-status") == "in_review"
    maggie.get_by_test_id("reject-reason").fill("Second shift needs a works-council agreement first.")
    maggie.get_by_test_id("reject-confirm").click()
    rejected = maggie.locator(f"[data-testid=scenario-row][data-layout-id='{draft}'][data-status=rejected]")
    rejected.wait_for()
    assert "works-council" in rejected.get_by_test_id("scenario-reject-reason").inner_text()
    assert rejected.get_by_test_id("approve-layout").count() == 0
    shot(maggie, "review-07-rejected")

    # The engineer sees the reason and a read-only layout, with branching as the way on.
    alice.goto(f"/layouts/{draft}/")
    wait_scene(alice)
    assert "works-council" in alice.get_by_test_id("reject-reason-banner").inner_text()
    assert alice.get_by_test_id("submit-layout").is_hidden()
    assert alice.get_by_test_id("branch").is_visible()
    assert not maggie.console_errors and not alice.console_errors, (maggie.console_errors, alice.console_errors)


def _csrf(page) -> dict:
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    return {"X-CSRFToken": token}
