"""One way to write durations and rates in the workspace (issue 16): the review's KPI panel, the scenario
list and the simulation results read "7.7 min", never "459.5 s" beside it; utilisation has a colour scheme of
its own that no station state or twin status shares. Checked by running the frontend modules through node."""
import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "frontend" / "src"


def node(script: str):
    exe = shutil.which("node")
    if exe is None:
        pytest.fail("node is needed to check the frontend's formatters (the frontend build needs it too).")
    out = subprocess.run([exe, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60, check=True, cwd=ROOT / "frontend")
    return json.loads(out.stdout)


def test_every_panel_writes_a_duration_and_a_rate_the_same_way():
    fmt = (SRC / "util" / "format.js").as_uri()
    kpi = (SRC / "features" / "review" / "kpi.js").as_uri()
    got = node(
        f"import {{ duration, rate, stat }} from {json.dumps(fmt)};\n"
        f"import {{ fmtStat, kpiSummary, fmtDelta }} from {json.dumps(kpi)};\n"
        "const lead = { mean: 459.5, ci95: 12 };\n"
        "console.log(JSON.stringify({ duration: duration(459.5), stat: stat(lead, 's'), review: fmtStat(lead, 's'),"
        " delta: fmtDelta({ unit: 's', delta: -95 }),"
        " summary: kpiSummary({ kpis: { throughput_per_hour: { mean: 41.25 }, lead_time_s: lead } }), rate: rate(41.25),"
        " throughput: stat({ mean: 41.25, ci95: 1.5 }, 'per_hour') }));"
    )
    assert got["duration"] == "7.7 min"
    assert got["review"] == got["stat"] == "7.7 min ± 12 s"
    assert got["delta"] == "-1.6 min"
    assert got["summary"] == "41.3 parts/h · lead 7.7 min"
    assert got["rate"] == "41.3 parts/h" and got["throughput"] == "41.3 ± 1.5 parts/h"


def test_utilisation_never_takes_a_state_or_status_colour():
    overlay = (SRC / "features" / "simulation" / "overlay.js").as_uri()
    geometry = (SRC / "scene" / "AssetGeometry.js").as_uri()
    got = node(
        f"import {{ utilColor, STATE_COLORS }} from {json.dumps(overlay)};\n"
        f"import {{ STATUS_COLORS }} from {json.dumps(geometry)};\n"
        "const ramp = Array.from({ length: 21 }, (_, i) => utilColor(i / 20));\n"
        "console.log(JSON.stringify({ ramp, taken: [...Object.values(STATE_COLORS), ...Object.values(STATUS_COLORS)] }));"
    )

    def hue(c):
        import colorsys
        r, g, b = (int(c[i:i + 2], 16) / 255 for i in (1, 3, 5))
        h, l, s = colorsys.rgb_to_hls(r, g, b)
        return h * 360, s

    taken = [hue(c) for c in got["taken"] if hue(c)[1] > 0.3]  # the greys mean offline / unknown
    for c in got["ramp"]:
        h, _ = hue(c)
        nearest = min(min(abs(h - t), 360 - abs(h - t)) for t, _ in taken)
        assert nearest >= 25, f"utilisation {c} (hue {h:.0f}°) is close to a state or status colour"
