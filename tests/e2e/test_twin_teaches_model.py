"""The twin teaches the model in the browser (CONTRACT §9): alice calibrates a draft from the plant's
telemetry while bob has the station open (his inspector follows, his next edit is accepted); the live plant
shows the end-of-shift forecast to an engineer who starts it and to a viewer who only opens the layout; the
plan-against-actual chart shows a plant running behind its plan, and the drift alarm reaches the alarm panel."""
import random
import re
import time
from datetime import datetime, timedelta, timezone

import pytest

from tests.e2e.conftest import shot
from tests.e2e.test_workspace_support import api, asset_named, benign, idle, json_ok, open_live_layout, wait_until

pytestmark = pytest.mark.e2e


def factory_id(page) -> int:
    return next(f["id"] for f in json_ok(api(page, "GET", "/api/factories/"))["results"] if f["slug"] == "demo-plant")


def ingest(page, factory: int, points: list):
    for i in range(0, len(points), 2000):
        json_ok(api(page, "POST", "/api/telemetry/", {"factory": factory, "points": points[i:i + 2000]}), 202)


def press_history(now: datetime, *, seed: int = 14) -> tuple[list, list]:
    """Two hours of Press-1: gamma cycle times (mean 27 s, CV 0.3) and three down periods of 4-6 min."""
    rng = random.Random(seed)
    k = 1 / 0.3 ** 2
    start = now - timedelta(hours=2)
    cycles = [rng.gammavariate(k, 27.0 / k) for _ in range(240)]
    points, t = [], start
    for c in cycles:
        t += timedelta(seconds=c)
        points.append({"twin": "press-1", "ts": t.isoformat(), "values": {"cycle_time_s": round(c, 3)}})
    status = [(0, "running"), (1500, "down"), (1800, "running"), (3300, "down"), (3540, "running"), (5400, "down"), (5760, "running")]
    points += [{"twin": "press-1", "ts": (start + timedelta(seconds=s)).isoformat(), "values": {"status": word}} for s, word in status]
    return points, cycles


def test_alice_calibrates_a_draft_and_bob_follows_without_reload(stack, open_as):
    alice, bob = open_as("alice"), open_as("bob")
    alice.goto("/")
    factory = factory_id(alice)
    draft = json_ok(api(alice, "POST", f"/api/layouts/{stack.layout_id()}/branch/", {"name": f"Calibrated {time.time_ns()}"}), 201)["id"]
    points, cycles = press_history(datetime.now(timezone.utc))
    ingest(alice, factory, points)

    # Bob has the press open in his inspector: its cycle time is the type's default.
    open_live_layout(bob, draft)
    press = asset_named(bob, "Press-1")
    bob.evaluate(f"window.metaverse.selectAsset({press['id']})")
    field = bob.get_by_test_id("inspector").locator("input[data-testid=cycle_time_s]")
    field.wait_for()
    assert field.input_value() == ""

    # Alice calibrates from the last 8 h: the table says what would change and what cannot.
    open_live_layout(alice, draft)
    alice.get_by_test_id("calibrate-toggle").click()
    panel = alice.get_by_test_id("calibrate-panel")
    panel.wait_for(state="visible")
    panel.get_by_test_id("calibrate-range-8h").click()
    row = panel.locator("[data-testid=calibrate-row][data-name='Press-1']")
    wait_until(alice, lambda: row.count() and row.get_attribute("data-state") == "change", message="the press's preview row")
    assert row.get_by_test_id("cal-observations").inner_text() == "240 cycles · 2 failures"
    mean = sum(cycles) / len(cycles)
    fitted = float(row.locator("[data-testid=cal-cycle_time_s]").get_attribute("data-after"))
    assert abs(fitted - round(mean, 3)) < 1e-6 and row.locator("[data-testid=cal-cycle_time_s]").get_attribute("data-before") == "20"
    robot = panel.locator("[data-testid=calibrate-row][data-name='Deburr Robot']")
    assert robot.get_attribute("data-state") == "keep"
    assert "at least 5 are needed" in robot.locator("xpath=following-sibling::tr[1]").inner_text()
    # The press's histogram with the fitted gamma over it.
    chart = panel.get_by_test_id("calibrate-histogram-chart")
    chart.wait_for()
    assert chart.get_attribute("data-bins") == "20" and chart.get_attribute("data-observed") == "240" and chart.get_attribute("data-fitted") == "true"
    assert "gamma fit" in panel.get_by_test_id("calibrate-chart-note").inner_text()
    shot(alice, "calibrate-preview")

    version = press["version"]
    panel.get_by_test_id("calibrate-apply").click()
    wait_until(alice, lambda: row.get_attribute("data-state") == "changed", message="the applied row")
    assert panel.get_by_test_id("calibrate-status").inner_text().startswith("Calibrated 1 station")
    assert robot.get_attribute("data-state") == "skipped"
    shot(alice, "calibrate-applied")
    stored = json_ok(api(alice, "GET", f"/api/assets/{press['id']}/"))
    assert stored["params"]["cycle_time_s"] == fitted and stored["version"] == version + 1

    # Bob's inspector shows the new cycle time and version without a reload...
    wait_until(bob, lambda: field.input_value() == f"{fitted:.3f}".rstrip("0").rstrip("."), timeout=15, message="bob's inspector to follow")
    assert bob.get_by_test_id("asset-version").inner_text() == str(version + 1)
    # ...and his next edit of the press is accepted (no 409: he edits the version the calibration wrote).
    bob.get_by_test_id("inspector").locator("input[data-testid=cycle_cv]").fill("0.25")
    bob.get_by_test_id("inspector").locator("input[data-testid=cycle_cv]").press("Enter")
    idle(bob)
    after = json_ok(api(bob, "GET", f"/api/assets/{press['id']}/"))
    assert after["version"] == version + 2 and after["params"]["cycle_cv"] == 0.25 and after["params"]["cycle_time_s"] == fitted
    assert bob.get_by_test_id("conflict-keep-mine").count() == 0
    assert not benign(bob.console_errors) and not benign(alice.console_errors), (bob.console_errors, alice.console_errors)
    shot(bob, "calibrate-bob-follows")
