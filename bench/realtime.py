"""Realtime fan-out (docs BENCHMARKS.md §1): N clients at 10 poses/s in one layout room.

Three servers in the same run, each pinned with its Redis to core 0 (generators on core 1):
  room   daphne (metaverse.server) + metaverse.asgi (the product: per-process pose tick, pre-encoded pieces)
  naive  the same daphne + a Channels consumer doing one group_send per pose (the baseline)
  relay  a plain `websockets` server coalescing at 20 Hz (the limit)
Probe clients decode every frame: latency = arrival - send time carried in the pose (one clock),
freshness = share of the senders' poses that reached the probes. At N = --edit-at an editor sends an asset edit
every 0.5 s; every member of the room (all N clients and the editor, across both generator processes, one
clock) notes when its `applied` frame arrives, and an edit's round trip ends at the last member to get it.
Run: .venv/bin/python bench/realtime.py [--sizes 10,25,50,100,200] [--seconds 6] [--quick]
"""
import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
PROBES = 5
HZ = 10


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc, timeout=60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server on {port} exited")
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server on {port} did not start")


# --- the naive baseline (loaded by daphne as bench.realtime:naive_application) ---------------------------
def __getattr__(name):
    if name != "naive_application":
        raise AttributeError(name)
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "metaverse.settings")
    django.setup()
    from channels.generic.websocket import AsyncWebsocketConsumer
    from urllib.parse import parse_qs

    class Naive(AsyncWebsocketConsumer):
        async def connect(self):
            self.uid = parse_qs(self.scope["query_string"].decode()).get("uid", ["0"])[0]
            await self.channel_layer.group_add("bench-naive", self.channel_name)
            await self.accept()

        async def disconnect(self, code):
            await self.channel_layer.group_discard("bench-naive", self.channel_name)

        async def receive(self, text_data=None, bytes_data=None):
            d = json.loads(text_data)
            piece = '"%s":{"p":%s,"q":%s}' % (self.uid, json.dumps(d["p"]), json.dumps(d["q"]))
            await self.channel_layer.group_send("bench-naive", {"type": "pose.msg", "uid": self.uid, "piece": piece})

        async def pose_msg(self, event):
            if event["uid"] != self.uid:
                await self.send('{"type":"poses","poses":{' + event["piece"] + "}}")

    return Naive.as_asgi()


# --- the limit: a plain websockets relay with the same tick -----------------------------------------------
async def relay_main(port: int) -> None:
    import websockets

    conns: dict = {}
    raw: dict = {}

    async def handler(ws):
        uid = ws.request.path.split("uid=")[-1]
        conns[ws] = uid
        await ws.send('{"type":"welcome"}')
        try:
            async for text in ws:
                d = json.loads(text)
                raw[uid] = (d["p"], d["q"])
        finally:
            conns.pop(ws, None)

    async def tick():
        while True:
            await asyncio.sleep(0.05)
            if not raw:
                continue
            pieces = {u: '"%s":{"p":%s,"q":%s}' % (u, json.dumps(p), json.dumps(q)) for u, (p, q) in raw.items()}
            raw.clear()
            for ws, uid in list(conns.items()):
                parts = [v for k, v in pieces.items() if k != uid]
                if parts:
                    try:
                        await ws.send('{"type":"poses","poses":{' + ",".join(parts) + "}}")
                    except Exception:
                        pass

    async with websockets.serve(handler, "127.0.0.1", port, max_size=65536, compression=None):
        await tick()


# --- load generator -----------------------------------------------------------------------------------------
async def gen_main(cfg: dict) -> None:
    import websockets

    url, clients, seconds, warm = cfg["url"], cfg["clients"], cfg["seconds"], cfg["warm"]
    origin = "http://" + url.split("://", 1)[1].split("/", 1)[0]  # the server's own origin, as a browser on its page sends
    sent: dict[str, list[float]] = {}     # uid -> send times (ms) by seq
    seen: dict[str, set] = {}             # probe -> {(uid, seq)}
    lat: list[float] = []
    ops_sent: dict[str, float] = {}
    applied_at: dict[str, dict[str, float]] = {}  # op id -> {member uid: arrival (ms)}
    lags: list[float] = []
    t0 = cfg["t0"]
    start_at = time.time() + 2.0 + warm
    stop_at = start_at + seconds

    def now_ms():
        return (time.time() - t0) * 1000.0

    gate = asyncio.Semaphore(8)

    async def client(i, uid, token, probe):
        headers = {"Authorization": f"Token {token}"} if token else {}
        for attempt in range(5):
            try:
                async with gate:
                    ws = await websockets.connect(f"{url}?uid={uid}", origin=origin, additional_headers=headers,
                                                  open_timeout=60, max_size=2**22, compression=None, ping_interval=None)
                break
            except Exception:
                await asyncio.sleep(0.5 + random.random())
        else:
            raise RuntimeError(f"client {uid} could not connect")
        sent[uid] = []
        connected.append(time.time())
        if len(connected) == len(clients):
            print(f"gen {cfg['gen']}: {len(clients)} connected {time.time() - start_at:+.1f}s from the window", file=sys.stderr)

        def note_applied(text):
            frame = json.loads(text)
            if frame.get("type") == "applied" and frame.get("id"):
                applied_at.setdefault(frame["id"], {})[uid] = now_ms()
            return frame

        async def reader():
            async for text in ws:
                if not probe:
                    if '"applied"' in text:  # every member times the edits; only probes decode the poses
                        note_applied(text)
                    continue
                t = time.time()
                if not (start_at <= t <= stop_at + 1.0):
                    continue
                frame = note_applied(text)
                if frame.get("type") == "poses":
                    arrived = now_ms()
                    for sender, pose in frame["poses"].items():
                        seq = int(pose["p"][0])
                        seen.setdefault(uid, set()).add((sender, seq))
                        lat.append(arrived - pose["p"][1])

        task = asyncio.ensure_future(reader())
        await asyncio.sleep(random.random() / HZ)
        seq = 0
        while time.time() < stop_at + 0.3:
            seq += 1
            sent[uid].append(time.time())
            await ws.send('{"type":"pose","p":[%d,%.1f,0],"q":[0,0,0,1]}' % (seq, now_ms()))
            await asyncio.sleep(1.0 / HZ)
        await asyncio.sleep(1.0)
        task.cancel()
        await ws.close()

    async def editor(token, asset, version):
        if not token:
            return
        ws = await websockets.connect(f"{url}?uid=editor", origin=origin, additional_headers={"Authorization": f"Token {token}"}, open_timeout=60)

        async def drain():  # the editor is a member too: its own `applied` counts like everyone's
            async for text in ws:
                if '"applied"' in text:
                    frame = json.loads(text)
                    if frame.get("type") == "applied" and frame.get("id"):
                        applied_at.setdefault(frame["id"], {})["editor"] = now_ms()
        asyncio.ensure_future(drain())
        while time.time() < start_at:
            await asyncio.sleep(0.05)
        n = 0
        while time.time() < stop_at - 0.5:
            n += 1
            op = f"e{cfg['gen']}-{n}"
            ops_sent[op] = now_ms()
            await ws.send(json.dumps({"type": "op", "id": op, "kind": "asset.update", "asset": asset, "version": version, "changes": {"x": n % 50}}))
            version += 1
            await asyncio.sleep(0.5)
        await ws.close()

    async def lag_probe():
        while time.time() < stop_at:
            t = time.perf_counter()
            await asyncio.sleep(0.01)
            if time.time() >= start_at:
                lags.append((time.perf_counter() - t - 0.01) * 1000)

    connected = []
    tasks = [client(i, uid, tok, i < cfg["probes"]) for i, (uid, tok) in enumerate(clients)]
    if cfg.get("edit"):
        tasks.append(editor(*cfg["edit"]))
    await asyncio.gather(lag_probe(), *tasks, return_exceptions=True)
    in_window = {uid: [s for s, t in enumerate(ts, 1) if start_at <= t <= stop_at] for uid, ts in sent.items()}
    print(json.dumps({"lat": lat, "lags": lags, "ops_sent": ops_sent, "applied": applied_at, "members": [u for u, _ in clients] + (["editor"] if cfg.get("edit") else []),
                      "seen": {p: list(s) for p, s in seen.items()}, "window": in_window}))


# --- orchestration ------------------------------------------------------------------------------------------
class Stack:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.redis_port = free_port()
        self.redis = subprocess.Popen(["taskset", "-c", "0", "redis-server", "--port", str(self.redis_port), "--save", "", "--appendonly", "no"],
                                      stdout=subprocess.DEVNULL)
        wait_port(self.redis_port, self.redis)
        self.env = {**os.environ, "DJANGO_SETTINGS_MODULE": "metaverse.settings", "DJANGO_SECRET_KEY": "bench", "DJANGO_DEBUG": "0",
                    "METAVERSE_TESTING": "1", "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0", "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3",
                    "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1", "METAVERSE_CHANNEL_PREFIX": "bench", "DJANGO_LOG_LEVEL": "WARNING",
                    "PYTHONPATH": str(ROOT)}

    def seed(self, users: int) -> dict:
        subprocess.run([PY, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=self.env, check=True)
        script = f"""
import django, json; django.setup()
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from tests.builders import make_factory, make_layout
from twins.models import Role, Asset
U = get_user_model()
users = [U.objects.create_user(username=f"u{{i}}") for i in range({users})]
factory = make_factory(name="Bench", slug="bench", members={{u: Role.ENGINEER for u in users}})
layout = make_layout(factory=factory, assets=3)
asset = Asset.objects.filter(layout=layout).first()
print(json.dumps({{"layout": layout.id, "asset": asset.id, "version": asset.version,
                  "users": [[str(u.id), Token.objects.create(user=u).key] for u in users]}}))
"""
        out = subprocess.run([PY, "-c", script], cwd=ROOT, env=self.env, check=True, capture_output=True, text=True).stdout
        return json.loads(out.strip().splitlines()[-1])

    def server(self, kind: str):
        port = free_port()
        if kind == "relay":
            cmd = [PY, __file__, "--relay", str(port)]
        else:
            app = "metaverse.asgi:application" if kind == "room" else "bench.realtime:naive_application"
            # daphne as the product deploys it (its websocket limits), for the product and the naive design alike.
            cmd = [PY, "-m", "metaverse.server", "-b", "127.0.0.1", "-p", str(port), "--websocket_connect_timeout", "60", app]
        proc = subprocess.Popen(["taskset", "-c", "0", *cmd], cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=open(self.tmp / f"{kind}.log", "ab"))
        wait_port(port, proc)
        return proc, port

    def redis_ops(self) -> int:
        import redis

        return redis.Redis(port=self.redis_port).info("stats")["total_commands_processed"]

    def close(self):
        self.redis.terminate()
        self.redis.wait()


def cpu_ticks(pid: int) -> tuple[float, int]:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), rss


def pct(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q / 100 * len(values)))]


def run_one(stack, kind, port, seed, n, seconds, edit, server_pid):
    clients = seed["users"][:n]
    path = f"ws://127.0.0.1:{port}/ws/layouts/{seed['layout']}/"
    gens = 2 if n >= 100 else 1
    t0 = time.time()
    warm = 3.0 + n / 8
    procs = []
    for g in range(gens):
        part = clients[g::gens]
        cfg = {"url": path, "clients": part if kind != "naive" else [[u, None] for u, _ in part], "seconds": seconds, "warm": warm, "t0": t0, "gen": g,
               "probes": max(1, PROBES // gens) + (1 if g < PROBES % gens else 0), "probes_total": PROBES,
               "edit": [seed["users"][-1][1], seed["asset"], seed["version"]] if (edit and g == 0) else None}
        procs.append(subprocess.Popen(["taskset", "-c", "1", PY, __file__, "--gen", json.dumps(cfg)], cwd=ROOT, stdout=subprocess.PIPE, text=True))
    time.sleep(2.0 + warm)
    c0, _ = cpu_ticks(server_pid)
    r0, w0 = stack.redis_ops(), time.time()
    time.sleep(seconds)
    c1, rss = cpu_ticks(server_pid)
    r1, w1 = stack.redis_ops(), time.time()
    results = [json.loads(p.communicate(timeout=120 + seconds)[0].strip().splitlines()[-1]) for p in procs]
    lat = [x for r in results for x in r["lat"]]
    lags = [x for r in results for x in r["lags"]]
    window = {u: set(s) for r in results for u, s in r["window"].items()}
    expected = delivered = 0
    for r in results:
        for probe, pairs in r["seen"].items():
            got = {(u, s) for u, s in pairs}
            for uid, seqs in window.items():
                if uid == probe:
                    continue
                expected += len(seqs)
                delivered += sum((uid, s) in got for s in seqs)
    edits, missed = edit_round_trips(results)
    return {"design": kind, "n": n, "p50": pct(lat, 50), "p99": pct(lat, 99), "fresh": 100.0 * delivered / expected if expected else float("nan"),
            "cpu": 100.0 * (c1 - c0) / (w1 - w0), "rss_mb": rss / 2**20, "redis_ops": (r1 - r0) / (w1 - w0), "lag_p99": pct(lags, 99),
            "edit_p99": pct(edits, 99) if edits else None, "edit_p50": pct(edits, 50) if edits else None,
            "edits": len(edits) + missed, "edits_missed": missed}


def edit_round_trips(results: list[dict]) -> tuple[list[float], int]:
    """Per edit sent: the time until the last member of the room had its `applied` (all generators share one
    clock); an edit some member never got counts as missed, not as fast."""
    sent = {op: t for r in results for op, t in r["ops_sent"].items()}
    members = {m for r in results for m in r["members"]}
    arrivals: dict[str, dict[str, float]] = {}
    for r in results:
        for op, by_member in r["applied"].items():
            arrivals.setdefault(op, {}).update(by_member)
    rtts, missed = [], 0
    for op, t in sent.items():
        got = arrivals.get(op, {})
        if members <= set(got):
            rtts.append(max(got[m] for m in members) - t)
        else:
            missed += 1
    return rtts, missed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,25,50,100,200")
    parser.add_argument("--naive-sizes", default="10,25,50")
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--designs", default="room,naive,relay")
    parser.add_argument("--edit-at", type=int, default=100, help="the room size at which edits are timed")
    parser.add_argument("--quick", action="store_true", help="a small run that checks the script works (no figures)")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.naive_sizes, args.seconds, args.edit_at = "10,25", "10", 3.0, 25
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(Path(tmp))
        rows = []
        try:
            seed = stack.seed(max(sizes) + 1)
            for kind in args.designs.split(","):
                proc, port = stack.server(kind)
                try:
                    for n in (sizes if kind != "naive" else [int(s) for s in args.naive_sizes.split(",")]):
                        row = run_one(stack, kind, port, seed, n, args.seconds, kind == "room" and n == args.edit_at, proc.pid)
                        rows.append(row)
                        print(fmt(row), flush=True)
                finally:
                    proc.terminate()
                    proc.wait()
        finally:
            stack.close()
    print()
    print(HEADER)
    for row in rows:
        print(fmt(row))
    summary(rows, args.edit_at)


HEADER = f"{'design':7} {'N':>4} {'p50 ms':>8} {'p99 ms':>8} {'fresh %':>8} {'cpu %':>6} {'rss MB':>7} {'redis/s':>8} {'genlag99':>8} {'edit p99':>8}"


def fmt(r):
    edit = f"{r['edit_p99']:8.1f}" if r["edit_p99"] is not None else f"{'':8}"
    if r["edits_missed"]:
        edit += f" ({r['edits_missed']} of {r['edits']} edits missed by some member)"
    valid = "" if r["lag_p99"] <= 25 else "  (invalid: generator lag)"
    return (f"{r['design']:7} {r['n']:4d} {r['p50']:8.1f} {r['p99']:8.1f} {r['fresh']:8.2f} {r['cpu']:6.0f} {r['rss_mb']:7.0f} "
            f"{r['redis_ops']:8.0f} {r['lag_p99']:8.1f} {edit}{valid}")


def summary(rows, edit_at):
    by = {(r["design"], r["n"]): r for r in rows}
    parts = []
    for n in (100, 200):
        room, relay = by.get(("room", n)), by.get(("relay", n))
        if room:
            parts.append(f"room N={n} p99 {room['p99']:.0f} ms fresh {room['fresh']:.2f}%")
            if relay:
                parts.append(f"relay N={n} p99 {relay['p99']:.0f} ms (room/relay {room['p99'] / relay['p99']:.2f}x)")
    naive = [r for r in rows if r["design"] == "naive"]
    if naive:
        worst = naive[-1]
        parts.append(f"naive N={worst['n']} p99 {worst['p99']:.0f} ms fresh {worst['fresh']:.1f}%")
    edited = by.get(("room", edit_at))
    if edited and edited["edits"]:
        p99 = f"{edited['edit_p99']:.0f} ms" if edited["edit_p99"] is not None else "-"
        parts.append(f"edit p99 at every member, N={edit_at}: {p99} ({edited['edits'] - edited['edits_missed']} of {edited['edits']} edits reached all {edit_at + 1})")
    print("SUMMARY: " + "; ".join(parts))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--relay":
        asyncio.run(relay_main(int(sys.argv[2])))
    elif len(sys.argv) > 2 and sys.argv[1] == "--gen":
        asyncio.run(gen_main(json.loads(sys.argv[2])))
    else:
        main()
