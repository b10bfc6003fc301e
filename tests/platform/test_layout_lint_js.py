"""The workspace outlines a collision while a machine is dragged, before the server is asked: its footprint
rule (frontend/src/editor/footprints.js) must be the layout checks' own (twins/services/lint.py, CONTRACT §11).
Both run on the same cases — touching, overlapping by 1 cm, turned 45°, one inside the other, apart — and
must agree on the corners, whether two footprints overlap, how much they share and how far apart they are."""
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from twins.services.lint import footprint

ROOT = Path(__file__).resolve().parents[2]

A = (0.0, 0.0, 4.0, 1.0, 0.0)  # x, z, width, depth, rotation_deg: spans x -2 … 2, z -0.5 … 0.5
CASES = [
    ("touching end to end", A, (4.0, 0.0, 4.0, 1.0, 0.0)),
    ("overlapping by 1 cm", A, (3.99, 0.0, 4.0, 1.0, 0.0)),
    ("touching side by side", A, (0.0, 1.0, 4.0, 1.0, 0.0)),
    ("1 cm apart", A, (4.01, 0.0, 4.0, 1.0, 0.0)),
    ("turned 90° and clear by 0.1 m", A, (2.6, 0.0, 4.0, 1.0, 90.0)),
    ("turned 90° and into it", A, (2.4, 0.0, 4.0, 1.0, 90.0)),
    ("turned 45° corner first", A, (2.0 + 0.5 * 2 ** 0.5 - 0.05, 0.0, 1.0, 1.0, 45.0)),
    ("turned 45° corner just clear", A, (2.0 + 0.5 * 2 ** 0.5 + 0.05, 0.0, 1.0, 1.0, 45.0)),
    ("turned 45° diagonal neighbours", (0.0, 0.0, 2.0, 2.0, 45.0), (1.4, 1.4, 2.0, 2.0, 45.0)),
    ("both turned 30°, apart", (0.0, 0.0, 3.0, 1.5, 30.0), (0.0, 3.0, 3.0, 1.5, 30.0)),
    ("one inside the other", (0.0, 0.0, 6.0, 6.0, 0.0), (0.5, -0.5, 1.0, 2.0, 15.0)),
    ("same place, turned 180°", A, (0.0, 0.0, 4.0, 1.0, 180.0)),
    ("far apart, turned 300°", A, (40.0, -12.0, 2.5, 2.0, 300.0)),
]


def run_js(cases):
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed to check frontend/src/editor/footprints.js (the frontend build needs it too).")
    module = (ROOT / "frontend" / "src" / "editor" / "footprints.js").as_uri()
    script = (
        f"import {{ footprint, overlaps, overlapArea, gap }} from {json.dumps(module)};\n"
        f"const cases = {json.dumps([[a, b] for _, a, b in cases])};\n"
        "console.log(JSON.stringify(cases.map(([a, b]) => { const p = footprint(...a), q = footprint(...b);"
        " return { corners: p, overlap: overlaps(p, q), area: overlapArea(p, q), gap: gap(p, q) }; })));"
    )
    out = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60, check=True)
    return json.loads(out.stdout)


def test_the_workspace_and_the_layout_checks_agree_on_every_case():
    results = run_js(CASES)
    for (name, a, b), js in zip(CASES, results):
        p, q = footprint(*a), footprint(*b)
        area = p.intersection(q).area
        assert [v for c in js["corners"] for v in c] == pytest.approx([v for c in p.exterior.coords[:4] for v in c], abs=1e-9), name
        assert js["overlap"] == (area > 1e-6), (name, area, js)
        assert js["area"] == pytest.approx(area, abs=1e-9), name
        assert js["gap"] == pytest.approx(p.distance(q), abs=1e-9), name


def test_the_cases_cover_both_answers():
    """A parity test that only ever sees one answer could not tell the rules apart."""
    verdicts = [footprint(*a).intersection(footprint(*b)).area > 1e-6 for _, a, b in CASES]
    assert verdicts.count(True) >= 4 and verdicts.count(False) >= 5
