"""The 3D page (BENCHMARKS.md §4): layouts of 500, 2,000, 5,000 and 20,000 assets opened in headless Chromium on the
software renderer, the product's workspace side by side with a naive page (one Mesh per asset) in one run.

Run from the repo root: `.venv/bin/python bench/scene.py` (`--sizes 500,2000`, `--repeat 3`, `--seconds 4`, `--quick`).
It makes a scratch database (SQLite in a temp dir, or a scratch PostgreSQL database when DATABASE_URL is
postgres://…), fills it through the product's own models and services, starts daphne, and measures:
time to `sceneReady` (navigation start → first rendered frame, the page's own `timings.firstFrame`), draw
calls and triangles from `window.metaverse.stats()` at the opening overview and at a close-up of one
corner, frames per second while orbiting (the camera driven round the target every animation frame),
JS heap after a GC (CDP `Performance.getMetrics`), and the bytes of `/api/layouts/{id}/scene/` raw and
gzipped (level 6). `sceneReady` is reported twice: the median of the warm loads, and a cold first visit before
them — a new browser with an empty user-data-dir (no HTTP cache, no code or shader cache), as a first-time
visitor arrives; the server has served other pages already. The naive page is three.js straight from `frontend/node_modules` serving the same scene
JSON from a temp dir, drawn with the same camera poses.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import CHROMIUM_ARGS, Stack

TARGET_DRAW_CALLS_5000 = 60
TARGET_READY_2000_MS = 3000
TARGET_GZ_BYTES_PER_ASSET = 150
# Second round (BENCHMARKS.md): 20,000 assets, and orbit fps at least the naive page's in both views.
TARGET_DRAW_CALLS_20000 = 100
TARGET_READY_20000_MS = 4000
FPS_AT_LEAST_NAIVE = (2000, 5000)
SPACING_M = 6.0

# --- populate: runs in a child process on the scratch database (django set up from the stack's env) ---------

POPULATE = """
import json, math, sys
from django.db import transaction
from django.contrib.auth import get_user_model
from twins.models import Asset, AssetType, Connection, Layout
from twins.services.factories import factory_create, membership_set
from twins.services.layouts import layout_create

spacing = %(spacing)r
admin = get_user_model().objects.get(username="admin")
types = list(AssetType.objects.order_by("id"))
out = {}
for n in %(sizes)r:
    cols = math.ceil(math.sqrt(n * 1.6))
    rows = math.ceil(n / cols)
    factory = factory_create(name=f"Bench {n}", slug=f"bench-{n}", floor_width_m=cols * spacing + 10,
                             floor_depth_m=rows * spacing + 10, by=admin)
    membership_set(factory=factory, username="alice", role="engineer", by=admin)
    layout = layout_create(factory=factory, name=f"{n} assets", by=admin)
    with transaction.atomic():
        # Every type in the catalogue in turn, decor included, so each one costs its draw calls.
        Asset.objects.bulk_create([
            Asset(layout=layout, asset_type=types[i %% len(types)],
                  name=f"A-{i:05d}", x=5 + (i %% cols) * spacing + 3, z=5 + (i // cols) * spacing + 3,
                  rotation_deg=(i %% 4) * 90.0, params={})
            for i in range(n)
        ], batch_size=1000)
        ids = list(Asset.objects.filter(layout=layout).order_by("id").values_list("id", flat=True))
        # A conveyor from each asset to its right-hand neighbour: about one connection per asset.
        Connection.objects.bulk_create([
            Connection(layout=layout, source_id=ids[i], target_id=ids[i + 1], buffer_capacity=4)
            for i in range(n - 1) if (i + 1) %% cols
        ], batch_size=1000)
        Layout.objects.filter(pk=layout.pk).update(revision=2)
    out[n] = layout.id
print("LAYOUTS=" + json.dumps(out))
"""

# --- the naive baseline page --------------------------------------------------------------------------------

NAIVE_HTML = """<!doctype html><html><head><meta charset="utf-8"><title>naive</title>
<style>html,body{margin:0;height:100%;overflow:hidden}canvas{display:block}</style></head><body>
<script type="module">
import * as THREE from './three/three.module.js';
const t0 = performance.now();
const scene = await (await fetch(new URLSearchParams(location.search).get('scene'))).json();
const fetched = performance.now();
const renderer = new THREE.WebGLRenderer({antialias: false});
renderer.setPixelRatio(1);
renderer.setSize(innerWidth, innerHeight);
document.body.appendChild(renderer.domElement);
const world = new THREE.Scene();
world.background = new THREE.Color('#dde3e9');
world.add(new THREE.HemisphereLight('#f4f7fb', '#7c848c', 1.6));
const sun = new THREE.DirectionalLight('#ffffff', 2.2); sun.position.set(-50, 120, 80); world.add(sun);
const f = scene.layout.factory_info || {floor_width_m: 60, floor_depth_m: 40};
const floor = new THREE.Mesh(new THREE.PlaneGeometry(f.floor_width_m, f.floor_depth_m), new THREE.MeshStandardMaterial({color: '#c9ced3'}));
floor.rotation.x = -Math.PI / 2; floor.position.set(f.floor_width_m / 2, 0, f.floor_depth_m / 2); world.add(floor);
const types = new Map(scene.asset_types.map((t) => [t.id, t]));
const byId = new Map();
for (const a of scene.assets) {  // the naive way: one Mesh (own geometry, own material) per asset
  const t = types.get(a.asset_type);
  const mesh = new THREE.Mesh(new THREE.BoxGeometry(t.width_m, t.height_m, t.depth_m), new THREE.MeshStandardMaterial({color: t.color}));
  mesh.position.set(a.x, t.height_m / 2, a.z); mesh.rotation.y = THREE.MathUtils.degToRad(a.rotation_deg);
  world.add(mesh); byId.set(a.id, a);
}
for (const c of scene.connections) {  // and one Line per connection
  const s = byId.get(c.source), d = byId.get(c.target);
  if (!s || !d) continue;
  world.add(new THREE.Line(new THREE.BufferGeometry().setFromPoints([new THREE.Vector3(s.x, 0.5, s.z), new THREE.Vector3(d.x, 0.5, d.z)]), new THREE.LineBasicMaterial({color: '#334155'})));
}
const camera = new THREE.PerspectiveCamera(50, innerWidth / innerHeight, 0.1, 8000);
const target = new THREE.Vector3(f.floor_width_m / 2, 0, f.floor_depth_m / 2);
camera.position.set(target.x, Math.max(f.floor_width_m, f.floor_depth_m), target.z + f.floor_depth_m);
camera.lookAt(target);
const built = performance.now();
let last = {calls: 0, triangles: 0};
window.bench = {
  camera, target, renderer, timings: {start: t0, fetched, built},
  invalidate: () => camera.lookAt(target),
  stats: () => ({assets: scene.assets.length, drawCalls: last.calls, triangles: last.triangles}),
};
renderer.setAnimationLoop(() => {
  renderer.render(world, camera);
  last = {calls: renderer.info.render.calls, triangles: renderer.info.render.triangles};
  if (!document.documentElement.dataset.sceneReady) {
    window.bench.timings.firstFrame = performance.now();
    document.documentElement.dataset.sceneReady = 'true';
  }
});
</script></body></html>
"""

# Adapters: the same orbit/pose code drives both pages.
PRODUCT_ADAPTER = """() => { const m = window.metaverse; window.bench = {
  camera: m.camera, target: m.controls.target, renderer: m.renderer, timings: m.timings,
  invalidate: () => { m.controls.update(); m.view.invalidate(); }, stats: () => m.stats() }; return true; }"""

GET_POSE = "() => ({p: window.bench.camera.position.toArray(), t: window.bench.target.toArray()})"
# Set a camera pose and wait until two frames have been rendered with it (the product's level of detail
# switches on the first), so that stats() describes this pose and not the previous one.
SET_POSE = """async ({p, t}) => { const b = window.bench; b.camera.position.fromArray(p); b.target.fromArray(t);
  b.camera.lookAt(b.target); b.invalidate(); const f0 = b.renderer.info.render.frame; const t0 = performance.now();
  while (b.renderer.info.render.frame < f0 + 2 && performance.now() - t0 < 60000) {
    await new Promise((r) => requestAnimationFrame(() => r())); b.invalidate(); }
  return b.renderer.info.render.frame - f0; }"""

# Orbit the camera round its target, one step every animation frame; count the frames actually rendered.
ORBIT = """async (ms) => { const b = window.bench; const cam = b.camera, tgt = b.target;
  const off = cam.position.clone().sub(tgt); const r = Math.hypot(off.x, off.z), y = off.y, a0 = Math.atan2(off.z, off.x);
  const f0 = b.renderer.info.render.frame; const start = performance.now(); const gaps = []; let prev = start;
  await new Promise((done) => { const step = (now) => { gaps.push(now - prev); prev = now;
      const a = a0 + ((now - start) / 1000) * 0.6;  // ~34 degrees a second, a brisk drag
      cam.position.set(tgt.x + r * Math.cos(a), tgt.y + y, tgt.z + r * Math.sin(a)); cam.lookAt(tgt); b.invalidate();
      if (now - start < ms) requestAnimationFrame(step); else done(); };
    requestAnimationFrame(step); });
  await new Promise((r2) => requestAnimationFrame(() => r2()));
  const secs = (performance.now() - start) / 1000; gaps.sort((p, q) => p - q);
  return {fps: (b.renderer.info.render.frame - f0) / secs, p95_ms: gaps[Math.floor(gaps.length * 0.95)] || 0}; }"""

# Milliseconds since navigation start: script running, scene JSON in, scene built, first frame rendered.
READY = """() => { const t = window.bench.timings; return {script: t.start, fetched: t.fetched, built: t.built, ready: t.firstFrame}; }"""


def populate(stack: Stack, sizes: list[int]) -> dict[int, int]:
    code = POPULATE % {"sizes": sizes, "spacing": SPACING_M}
    out = stack.manage("shell", "-c", code)
    line = next(x for x in out.splitlines() if x.startswith("LAYOUTS="))
    return {int(k): v for k, v in json.loads(line.split("=", 1)[1]).items()}


def serve_dir(directory: Path) -> tuple[ThreadingHTTPServer, str]:
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def heap_mb(page) -> float:
    cdp = page.context.new_cdp_session(page)
    cdp.send("HeapProfiler.collectGarbage")
    cdp.send("Performance.enable")
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    cdp.detach()
    return metrics["JSHeapUsedSize"] / 1e6


def wait_ready(page, timeout_ms=180_000):
    page.locator("html[data-scene-ready='true']").wait_for(state="attached", timeout=timeout_ms)


def cold_visit(playwright, executable: str, base_url: str, url: str, adapter: str | None, login: bool) -> dict:
    """`sceneReady` and its stages on a first visit: a fresh browser profile in a temp dir, thrown away after."""
    profile = Path(tempfile.mkdtemp(prefix="bench-scene-cold-"))
    try:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=executable, args=CHROMIUM_ARGS, headless=True,
            viewport={"width": 1280, "height": 800}, base_url=base_url)
        try:
            if login:
                response = context.request.post("/api/auth/login/", data={"username": "alice", "password": "alice"})
                assert response.ok, response.text()
            page = context.pages[0] if context.pages else context.new_page()
            page.goto(url)
            wait_ready(page)
            if adapter:
                page.evaluate(adapter)
            return page.evaluate(READY)
        finally:
            context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def measure(page, url: str, adapter: str | None, poses: dict | None, seconds: float, repeat: int) -> dict:
    """Open `url` `repeat` times (median ready time), then stats, orbit fps and heap at each pose."""
    readies = []
    for _ in range(repeat):
        page.goto(url)
        wait_ready(page)
        if adapter:
            page.evaluate(adapter)
        readies.append(page.evaluate(READY))
    page.wait_for_timeout(500)
    result = {f"{k}_ms": statistics.median(r[k] for r in readies) for k in ("script", "fetched", "built", "ready")}
    result["readies"] = [round(r["ready"]) for r in readies]
    if poses is None:  # the product decides its opening view and its close-up; the naive page copies them
        poses = {"overview": page.evaluate(GET_POSE)}
        page.evaluate("() => window.metaverse.frameAssets([...window.metaverse.editor.assets.keys()].slice(0, 2))")
        page.wait_for_timeout(300)
        poses["close"] = page.evaluate(GET_POSE)
    result["poses"] = poses
    for name, pose in poses.items():
        page.evaluate(SET_POSE, pose)
        stats = page.evaluate("() => window.bench.stats()")
        orbit = page.evaluate(ORBIT, int(seconds * 1000))
        result[name] = {"draw_calls": stats["drawCalls"], "triangles": stats["triangles"], "fps": orbit["fps"], "p95_ms": orbit["p95_ms"]}
        result["assets"] = stats["assets"]
    page.evaluate(SET_POSE, poses["overview"])
    result["heap_mb"] = heap_mb(page)
    return result


def run(sizes: list[int], repeat: int, seconds: float) -> list[dict]:
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="bench-scene-"))
    stack = Stack(tmp)
    server = None
    rows = []
    try:
        print(f"scratch database + daphne on {stack.base_url} …", file=sys.stderr)
        stack.start()
        layouts = populate(stack, sizes)
        static = tmp / "naive"
        static.mkdir()
        (static / "index.html").write_text(NAIVE_HTML)
        shutil.copytree(ROOT / "frontend" / "node_modules" / "three" / "build", static / "three")
        server, naive_base = serve_dir(static)
        executable = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
            context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=stack.base_url)
            login = context.request.post("/api/auth/login/", data={"username": "alice", "password": "alice"})
            assert login.ok, login.text()
            page = context.new_page()
            errors = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            # One throw-away load of each page first: both then start with a warm HTTP cache and compiled code.
            page.goto(f"/layouts/{layouts[sizes[0]]}/")
            wait_ready(page)
            (static / "warm.json").write_bytes(context.request.get(f"/api/layouts/{layouts[sizes[0]]}/scene/").body())
            page.goto(f"{naive_base}/index.html?scene=warm.json")
            wait_ready(page)
            for n in sizes:
                layout_id = layouts[n]
                print(f"  {n} assets: cold first visits …", file=sys.stderr)
                cold = {"product": cold_visit(p, executable, stack.base_url, f"/layouts/{layout_id}/", PRODUCT_ADAPTER, True)}
                api_ms = []
                for _ in range(repeat):  # the scene request alone, as the page makes it (session cookie)
                    started = time.perf_counter()
                    response = context.request.get(f"/api/layouts/{layout_id}/scene/")
                    body = response.body()
                    api_ms.append((time.perf_counter() - started) * 1000)
                    assert response.ok, response.text()
                (static / f"scene-{n}.json").write_bytes(body)
                raw, gz = len(body), len(gzip.compress(body, compresslevel=6))
                print(f"  {n} assets: product page …", file=sys.stderr)
                product = measure(page, f"/layouts/{layout_id}/", PRODUCT_ADAPTER, None, seconds, repeat)
                assert product["assets"] == n, product
                print(f"  {n} assets: naive page …", file=sys.stderr)
                naive = measure(page, f"{naive_base}/index.html?scene=scene-{n}.json", None, product["poses"], seconds, repeat)
                cold["naive"] = cold_visit(p, executable, stack.base_url, f"{naive_base}/index.html?scene=scene-{n}.json", None, False)
                product["cold_ms"], naive["cold_ms"] = cold["product"]["ready"], cold["naive"]["ready"]
                rows.append({"n": n, "raw": raw, "gz": gz, "api_ms": statistics.median(api_ms), "product": product, "naive": naive})
            browser.close()
            if errors:
                print("page errors: " + "; ".join(errors[:5]), file=sys.stderr)
    finally:
        if server:
            server.shutdown()
        stack.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


def report(rows: list[dict]) -> str:
    head = (f"{'assets':>6} {'page':<8} {'script ms':>9} {'json ms':>7} {'built ms':>8} {'ready ms':>8} {'cold ms':>8} {'calls ovw':>9} {'calls close':>11} {'tris ovw':>9} {'tris close':>10} "
            f"{'fps ovw':>7} {'fps close':>9} {'heap MB':>7} {'payload B/asset raw':>19} {'gz':>5} {'GET scene ms':>10}")
    lines = [head, "-" * len(head)]
    for r in rows:
        for name in ("product", "naive"):
            m = r[name]
            payload = (f"{r['raw'] / r['n']:>19.0f} {r['gz'] / r['n']:>5.0f} {r['api_ms']:>10.0f}" if name == "product"
                       else f"{'':>19} {'':>5} {'':>10}")
            lines.append(f"{r['n']:>6} {name:<8} {m['script_ms']:>9.0f} {m['fetched_ms']:>7.0f} {m['built_ms']:>8.0f} {m['ready_ms']:>8.0f} {m['cold_ms']:>8.0f} {m['overview']['draw_calls']:>9} {m['close']['draw_calls']:>11} "
                         f"{m['overview']['triangles']:>9} {m['close']['triangles']:>10} {m['overview']['fps']:>7.1f} "
                         f"{m['close']['fps']:>9.1f} {m['heap_mb']:>7.1f} {payload}")
    return "\n".join(lines)


def summary(rows: list[dict]) -> str:
    by = {r["n"]: r for r in rows}
    parts = []
    for r in rows:
        p, nv = r["product"], r["naive"]
        worst = max(p["overview"]["draw_calls"], p["close"]["draw_calls"])
        parts.append(f"{r['n']}: {worst} draw calls (naive {max(nv['overview']['draw_calls'], nv['close']['draw_calls'])}), "
                     f"ready {p['ready_ms'] / 1000:.2f} s warm, {p['cold_ms'] / 1000:.2f} s cold (naive {nv['ready_ms'] / 1000:.2f} / {nv['cold_ms'] / 1000:.2f} s), "
                     f"orbit {p['overview']['fps']:.0f}/{p['close']['fps']:.0f} fps (naive {nv['overview']['fps']:.0f}/{nv['close']['fps']:.0f}), "
                     f"{r['gz'] / r['n']:.0f} B/asset gz, GET scene {r['api_ms']:.0f} ms")
    verdicts = []
    if 5000 in by:
        calls = max(by[5000]["product"]["overview"]["draw_calls"], by[5000]["product"]["close"]["draw_calls"])
        verdicts.append(f"5000 in ≤{TARGET_DRAW_CALLS_5000} calls: {'PASS' if calls <= TARGET_DRAW_CALLS_5000 else 'FAIL'}")
    if 2000 in by:
        verdicts.append(f"ready(2000) ≤{TARGET_READY_2000_MS / 1000:.0f} s: {'PASS' if by[2000]['product']['ready_ms'] <= TARGET_READY_2000_MS else 'FAIL'}")
    if 20000 in by:
        big = by[20000]["product"]
        calls = max(big["overview"]["draw_calls"], big["close"]["draw_calls"])
        verdicts.append(f"20000 in ≤{TARGET_DRAW_CALLS_20000} calls: {'PASS' if calls <= TARGET_DRAW_CALLS_20000 else 'FAIL'}")
        verdicts.append(f"ready(20000) ≤{TARGET_READY_20000_MS / 1000:.0f} s: {'PASS' if big['ready_ms'] <= TARGET_READY_20000_MS else 'FAIL'}")
    for n in FPS_AT_LEAST_NAIVE:
        if n in by:
            ok = all(by[n]["product"][view]["fps"] >= by[n]["naive"][view]["fps"] for view in ("overview", "close"))
            verdicts.append(f"fps({n}) ≥ naive in both views: {'PASS' if ok else 'FAIL'}")
    gz = max(r["gz"] / r["n"] for r in rows)
    verdicts.append(f"payload ≤{TARGET_GZ_BYTES_PER_ASSET} B/asset gz: {'PASS' if gz <= TARGET_GZ_BYTES_PER_ASSET else 'FAIL'}")
    return "scene: " + " | ".join(parts) + " || " + "; ".join(verdicts)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,2000,5000,20000")
    parser.add_argument("--repeat", type=int, default=3, help="page loads per size and page (median ready time)")
    parser.add_argument("--seconds", type=float, default=4.0, help="orbit duration per view")
    parser.add_argument("--json", help="also write the raw figures to this file")
    parser.add_argument("--quick", action="store_true", help="a small run that checks the script works (no figures)")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.repeat, args.seconds = "500", 1, 1.0
    os.environ.setdefault("METAVERSE_TESTING", "1")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    rows = run([int(s) for s in args.sizes.split(",")], args.repeat, args.seconds)
    print(report(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    print(summary(rows))


if __name__ == "__main__":
    main()
