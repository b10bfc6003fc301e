"""The live twin in the browser: a viewer watches a machine change colour and an alarm appear when
telemetry arrives over REST; the history chart shows the readings and the anomaly; an engineer acks."""
import time
from datetime import datetime, timedelta, timezone

import pytest

from tests.e2e.conftest import shot
from tests.e2e.test_workspace_support import api, assert_quiet_console, json_ok, open_live_layout, wait_until

pytestmark = pytest.mark.e2e


def rgb(hex_colour):
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


def test_viewer_sees_status_colour_alarm_and_history_live(stack, open_as):
    olivia, alice, victor = open_as("olivia"), open_as("alice"), open_as("victor")
    olivia.goto("/")
    factories = json_ok(api(olivia, "GET", "/api/factories/"))["results"]
    factory = next(f for f in factories if f["slug"] == "demo-plant")
    twins = json_ok(api(olivia, "GET", f"/api/twins/?factory={factory['id']}"))["results"]
    twin = next(t for t in twins if t["key"] == "cnc-1")
    layout = stack.layout_id()

    # The owner adds the alarm rule in the alarm panel.
    open_live_layout(olivia, layout)
    olivia.get_by_test_id("alarm-toggle").click()
    rules = olivia.get_by_test_id("alarm-panel").locator("details.fx-rules-box")
    rules.locator("summary").click()
    olivia.locator(f"[data-testid=rule-twin] option[value='{twin['id']}']").wait_for(state="attached")
    olivia.get_by_test_id("rule-twin").select_option(str(twin["id"]))
    olivia.get_by_test_id("rule-name").fill("temperature")
    olivia.get_by_test_id("rule-threshold").fill("90")
    olivia.get_by_test_id("rule-severity").select_option("critical")
    olivia.get_by_test_id("rule-add").click()
    rules.get_by_test_id("alarm-rule").filter(has_text="cnc-1: temperature > 90").wait_for()
    stored = json_ok(api(olivia, "GET", f"/api/alarm-rules/?factory={factory['id']}"))["results"]
    assert [(r["twin"], r["name"], r["op"], r["threshold"], r["severity"]) for r in stored] == [(twin["id"], "temperature", ">", 90.0, "critical")]
    assert_quiet_console(olivia)
    olivia.close()  # fewer WebGL pages at once
    open_live_layout(victor, layout)
    asset = victor.evaluate("window.metaverse.findAsset('CNC-1').id")
    before = victor.evaluate(f"window.metaverse.twinsLive.statusColor({asset})")
    assert victor.get_by_test_id("alarm-unread").is_hidden()

    # Normal readings over the last minutes (the anomaly detector learns them), then the machine overheats.
    alice.goto("/")
    now = datetime.now(timezone.utc)
    normal = [{"twin": "cnc-1", "ts": (now - timedelta(seconds=20 * (15 - i))).isoformat(), "values": {"temperature": 60.0 + (i % 3) * 0.2, "status": "running"}} for i in range(15)]
    assert json_ok(api(alice, "POST", "/api/telemetry/", {"factory": factory["id"], "points": normal}), 202)["accepted"] == 15
    running = wait_until(victor, lambda: (victor.evaluate(f"window.metaverse.twinsLive.twinOf({asset})") or {}).get("status") == "running" and victor.evaluate(f"window.metaverse.twinsLive.statusColor({asset})"), message="running status")
    t_sent = time.time()
    hot = [{"twin": "cnc-1", "values": {"temperature": 97.5, "status": "down"}}]
    json_ok(api(alice, "POST", "/api/telemetry/", {"factory": factory["id"], "points": hot}), 202)

    wait_until(victor, lambda: (victor.evaluate(f"window.metaverse.twinsLive.twinOf({asset})") or {}).get("status") == "down", message="down status")
    latency = time.time() - t_sent
    down = victor.evaluate(f"window.metaverse.twinsLive.statusColor({asset})")
    assert down != running and down != before
    assert rgb(down)[0] > rgb(running)[0] and rgb(down)[1] < rgb(running)[1], (before, running, down)

    # The alarm: unread badge, a row in the panel, the asset pulsing; a viewer cannot ack.
    badge = victor.get_by_test_id("alarm-unread")
    badge.wait_for(state="visible", timeout=15_000)
    assert badge.inner_text() == "1"
    assert asset in victor.evaluate("window.metaverse.twinsLive.pulsing()")
    victor.get_by_test_id("alarm-toggle").click()
    panel = victor.get_by_test_id("alarm-panel")
    row = panel.locator("[data-testid=alarm-row][data-key='cnc-1']")
    row.wait_for()
    assert "temperature" in row.inner_text()
    assert row.get_attribute("data-severity") == "critical"
    assert panel.get_by_test_id("alarm-ack").count() == 0
    assert badge.is_hidden()

    # Selecting the asset shows its live state and the history chart with the anomaly marked.
    victor.evaluate(f"window.metaverse.selectAsset({asset})")
    card = victor.get_by_test_id("twin-history")
    card.wait_for()
    assert card.get_by_test_id("twin-live-status").get_attribute("data-status") == "down"
    victor.get_by_test_id("twin-range-15m").click()
    chart = card.get_by_test_id("twin-history-chart")
    chart.wait_for()
    wait_until(victor, lambda: int(chart.get_attribute("data-anomalies") or 0) >= 1, timeout=15, message="the anomaly in the chart")
    assert int(chart.get_attribute("data-points")) >= 2
    victor.wait_for_timeout(600)
    shot(victor, "twin-live-victor")

    # An engineer acknowledges; the viewer's panel shows who did, live.
    open_live_layout(alice, layout)
    alice.get_by_test_id("alarm-toggle").click()
    alice.get_by_test_id("alarm-panel").locator("[data-testid=alarm-row][data-key='cnc-1']").get_by_test_id("alarm-ack").click()
    row.get_by_test_id("alarm-acked").wait_for(timeout=15_000)
    assert "alice" in row.get_by_test_id("alarm-acked").inner_text()
    shot(alice, "twin-alarm-ack-alice")

    # Back to normal: the alarm clears (hysteresis) and leaves the panel; the pulse stops.
    json_ok(api(alice, "POST", "/api/telemetry/", {"factory": factory["id"], "points": [{"twin": "cnc-1", "values": {"temperature": 70.0, "status": "running"}}]}), 202)
    row.wait_for(state="detached", timeout=15_000)
    wait_until(victor, lambda: asset not in victor.evaluate("window.metaverse.twinsLive.pulsing()"), message="pulse to stop")
    print(f"telemetry -> viewer colour change: {latency * 1000:.0f} ms")
    assert_quiet_console(victor, alice)
