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


def zone_for_ten_am() -> tuple[str, int]:
    """A whole-hour time zone in which it is now between 10 and 11 in the morning: inside the demo's early
    shift (06–14 h), whatever time the test runs. Etc/GMT-3 is UTC+3."""
    off = (10 - datetime.now(timezone.utc).hour) % 24
    if off > 14:
        off -= 24
    return ("Etc/GMT" if off == 0 else f"Etc/GMT{'-' if off > 0 else '+'}{abs(off)}"), off


@pytest.fixture
def open_in_zone(stack, browser):
    """open_in_zone("victor", "Etc/GMT-3") -> a logged-in page whose browser lives in that time zone."""
    contexts = []

    def make(username, zone):
        context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=stack.base_url, timezone_id=zone)
        contexts.append(context)
        assert context.request.post("/api/auth/login/", data={"username": username, "password": username}).ok
        page = context.new_page()
        page.console_errors = []
        page.on("console", lambda msg: page.console_errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
        return page

    yield make
    for context in contexts:
        context.close()


def succeeded(page, run_id: int, timeout=600.0) -> dict:
    """The run, once the worker has finished it (the seeded runs of the demo come first in its queue)."""
    return wait_until(page, lambda: (lambda r: r if r["status"] == "succeeded" else None)(json_ok(api(page, "GET", f"/api/simulations/{run_id}/"))), timeout=timeout, interval=0.5, message=f"run {run_id} to succeed")


# The worker computes the demo's seeded runs (36 h, 10 replications each) before these tests' runs.
@pytest.mark.timeout(900)
def test_the_live_plant_shows_the_end_of_shift_forecast(stack, open_in_zone):
    zone, off = zone_for_ten_am()
    alice, victor = open_in_zone("alice", zone), open_in_zone("victor", zone)
    baseline = stack.layout_id()
    alice.goto("/")
    # The plan of the baseline (the seeded run with the two-shift calendar) names the shifts.
    plan = next(r for r in json_ok(api(alice, "GET", f"/api/simulations/?layout={baseline}"))["results"] if r["params"].get("calendar"))
    succeeded(alice, plan["id"])

    open_live_layout(alice, baseline)
    alice.get_by_test_id("plant-toggle").click()
    panel = alice.get_by_test_id("plant-panel")
    panel.wait_for(state="visible")
    panel.get_by_test_id("forecast-run").click()
    sentence = panel.get_by_test_id("forecast-sentence")
    sentence.wait_for(state="visible", timeout=600_000)

    run = json_ok(api(alice, "GET", f"/api/simulations/{sentence.get_attribute('data-run')}/"))
    assert run["params"]["initial_state"] == "live" and run["layout"] == baseline
    # To the end of the early shift: 14:00 in the browser's zone.
    local_now = datetime.now(timezone.utc) + timedelta(hours=off)
    to_shift_end = (local_now.replace(hour=14, minute=0, second=0, microsecond=0) - local_now).total_seconds()
    assert abs(run["params"]["horizon_s"] - to_shift_end) < 120, (run["params"]["horizon_s"], to_shift_end)
    cum = run["results"]["forecast"]["cumulative"]
    n, m = int(cum["mean"][-1] + 0.5), int((cum["hi"][-1] - cum["lo"][-1]) / 2 + 0.5)
    fourteen = alice.evaluate("() => { const d = new Date(); d.setHours(14, 0, 0, 0); return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }); }")
    assert sentence.inner_text() == f"Expected by the end of the shift ({fourteen}): {n} ± {m} parts"
    assert n > 0 and cum["lo"][-1] <= cum["mean"][-1] <= cum["hi"][-1]
    # The output chart continues past "now" with the forecast's throughput band.
    chart = panel.get_by_test_id("plan-vs-actual-chart")
    wait_until(alice, lambda: chart.count() and chart.get_attribute("data-forecast-bins") == "48", timeout=15, message="the forecast band in the chart")
    shot(alice, "forecast-engineer")

    # A viewer who only opens the live plant sees the same sentence, and cannot start a forecast.
    open_live_layout(victor, baseline)
    chip = victor.get_by_test_id("forecast-chip")
    chip.wait_for(state="visible", timeout=15_000)
    assert chip.inner_text() == sentence.inner_text()
    chip.click()
    assert victor.get_by_test_id("plant-panel").get_by_test_id("forecast-run").is_hidden()
    assert victor.get_by_test_id("forecast-sentence").inner_text() == sentence.inner_text()
    shot(victor, "forecast-viewer")
    assert not alice.console_errors and not victor.console_errors, (alice.console_errors, victor.console_errors)


@pytest.mark.timeout(900)
def test_plan_against_actual_shows_a_plant_behind_its_plan_and_the_drift_alarm(stack, open_as):
    alice = open_as("alice")
    alice.goto("/")
    factory = factory_id(alice)
    draft = json_ok(api(alice, "POST", f"/api/layouts/{stack.layout_id()}/branch/", {"name": f"Behind plan {time.time_ns()}"}), 201)["id"]
    key = f"dock-a-out-{time.time_ns() % 10**9}"
    json_ok(api(alice, "POST", "/api/twins/", {"factory": factory, "key": key, "name": "Dock A output"}), 201)
    dock = next(a for a in json_ok(api(alice, "GET", f"/api/layouts/{draft}/scene/"))["assets"] if a["name"] == "Dock A")
    json_ok(api(alice, "PATCH", f"/api/assets/{dock['id']}/", {"twin_key": key, "version": dock["version"]}))
    plan = json_ok(api(alice, "POST", "/api/simulations/", {"layout": draft, "horizon_s": 4 * 3600, "warmup_s": 3600, "replications": 3, "seed": 5}), 201)
    succeeded(alice, plan["id"])

    # Dock A counts 8 parts an hour for the last five hours: far below what the plan expects of the layout.
    hour = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    start = hour - timedelta(hours=5)
    ticks = int((datetime.now(timezone.utc) - start).total_seconds() // 450)
    ingest(alice, factory, [{"twin": key, "ts": (start + timedelta(seconds=450 * (i + 0.5))).isoformat(), "values": {"cycles": i + 1}} for i in range(ticks)])

    open_live_layout(alice, draft)
    alice.get_by_test_id("plant-toggle").click()
    panel = alice.get_by_test_id("plant-panel")
    chart = panel.get_by_test_id("plan-vs-actual-chart")
    chart.wait_for(timeout=15_000)
    # The chart shows what the API says: the complete hours, and which of them lie outside the band.
    now = datetime.now(timezone.utc)
    pva = json_ok(api(alice, "GET", f"/api/layouts/{draft}/plan-vs-actual/?from={(now - timedelta(hours=8)).isoformat().replace('+00:00', 'Z')}&to={now.isoformat().replace('+00:00', 'Z')}&bucket_s=3600"))
    complete = [i for i, c in enumerate(pva["complete"]) if c]
    outside = sum(1 for i in complete if pva["outside"][i])
    assert pva["run"] == plan["id"] and outside >= 3
    assert chart.get_attribute("data-buckets") == str(len(complete)) and chart.get_attribute("data-outside") == str(outside)
    assert f"{outside} outside the plan (run #{plan['id']}" in panel.get_by_test_id("pva-summary").inner_text()

    # Three hours in a row outside the band: the drift alarm (raised by the service beat calls) reaches the
    # room live, is listed with its kind, and the panel names it.
    out = stack.manage("shell", "-c", f"from twins.models import Layout; from twins.services.plan_vs_actual import plan_drift_evaluate; print(len(plan_drift_evaluate(layout=Layout.objects.get(pk={draft}))))")
    assert out.strip().splitlines()[-1] == "1"
    alice.get_by_test_id("alarm-unread").wait_for(state="visible", timeout=15_000)
    alice.get_by_test_id("alarm-toggle").click()
    row = alice.get_by_test_id("alarm-panel").locator("[data-testid=alarm-row][data-kind=drift]")
    row.wait_for()
    assert row.get_attribute("data-key") == key and "outside the plan" in row.inner_text()
    shot(alice, "drift-alarm")
    alice.get_by_test_id("alarm-close").click()
    # The open panel heard the alarm frame too and names the active alarm.
    panel.get_by_test_id("pva-alarm").wait_for(state="visible")
    assert "outside the plan for 3 buckets" in panel.get_by_test_id("pva-alarm").inner_text()
    panel.get_by_test_id("pva-range-24h").click()
    wait_until(alice, lambda: panel.get_by_test_id("pva-range-24h").get_attribute("class").endswith("active") and chart.count() and int(chart.get_attribute("data-buckets")) >= 23, timeout=15, message="the 24 h chart")
    shot(alice, "plan-vs-actual")
    assert not benign(alice.console_errors), alice.console_errors
