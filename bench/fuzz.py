"""The long fuzz (RELIABILITY.md, second round): tens of thousands of hostile requests and frames against a
real server, and what they found.

Starts daphne as `make run` does (`python -m metaverse.server`, its own 64 KiB websocket limit) with
production settings (DEBUG off, axes on; plain HTTP on loopback) on a scratch SQLite database, seeds the
people of tests/conftest.py and a plant holding one object of every kind (tests/platform/plant_objects.py),
then:
  1. REST: schemathesis over every operation of /api/schema/ as owner, manager, engineer, viewer and an
     outsider (a member of another factory), positive and negative cases, --cases in all, spread evenly.
     Checks: no 5xx, only documented statuses, bodies that conform to the schema.
  2. Websockets, every member role at once in the plant's layout room: --frames frames each, drawn by the
     room fuzzer's strategies (tests/collaboration/test_room_fuzz.py: random and malformed frames, and
     hostile ops for the engineer) mixed with frames of our own: JSON nested up to 30,000 deep, lone surrogates,
     frames over 64 KiB (must close with 1009 or 4009) and invalid UTF-8 (must close with 1007). Any other
     frame gets an answer or nothing and leaves the socket open (a ping every 25 frames must be answered);
     a socket closed with 1006 (dropped) or 1011 (server error) is what this looks for.
Prints a line per operation (cases / 5xx / failed checks for each role), the first request behind each kind
of failure, a progress line on the terminal, and the tally. Exit code 1 if any 5xx or dropped socket was seen.

Run: make bench NAME=fuzz (20,000 cases), or make bench NAME="fuzz --cases 2000 --frames 200" for a quick one.
"""
import argparse
import asyncio
import json
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ROLES = {"owner": "olivia", "manager": "maggie", "engineer": "alice", "viewer": "victor", "outsider": "mallory"}
MAX_FRAME = 64 * 1024
EXPECTED_CLOSE = {"too_big": {1009, 4009}, "bad_utf8": {1007}}
DROPPED = {1006, 1011}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(tmp: Path) -> dict:
    """Production settings on loopback, with everything that could touch a shared service made private."""
    tag = f"fuzz-{os.getpid()}"
    env = {k: v for k, v in os.environ.items() if k not in {"METAVERSE_TESTING", "DATABASE_URL"}}
    return {**env, "DJANGO_SETTINGS_MODULE": "metaverse.settings", "DJANGO_SECRET_KEY": secrets.token_hex(32), "DJANGO_DEBUG": "0",
            "DJANGO_SECURE_SSL_REDIRECT": "0", "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost", "DATABASE_URL": f"sqlite:///{tmp}/fuzz.sqlite3",
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), "METAVERSE_CHANNEL_PREFIX": tag,
            "CELERY_TASK_DEFAULT_QUEUE": tag, "SIMULATION_QUEUE": tag, "AUDIT_ANCHOR_FILE": str(tmp / "audit-anchor.log"),
            "METAVERSE_MEDIA_ROOT": str(tmp / "media"), "DJANGO_LOG_LEVEL": "ERROR", "PYTHONPATH": str(ROOT)}


def seed() -> dict:
    """The people of tests/conftest.py (one per role, an outsider in another factory) and a draft line."""
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from tests.builders import make_factory, make_layout, make_user
    from twins.models import Role

    call_command("migrate", verbosity=0)
    users = {name: make_user(name, password=secrets.token_hex(8)) for name in ("alice", "maggie", "olivia", "victor", "mallory", "bob")}
    plant = make_factory(name="Plant", slug="plant", members={users["alice"]: Role.ENGINEER, users["bob"]: Role.ENGINEER,
                                                              users["maggie"]: Role.MANAGER, users["olivia"]: Role.OWNER,
                                                              users["victor"]: Role.VIEWER})
    make_factory(name="Other Plant", slug="other-plant", members={users["mallory"]: Role.OWNER})
    draft = make_layout(factory=plant, assets=3, line=True, name="Draft line")
    return {"plant": plant, "draft": draft, "tokens": {name: Token.objects.create(user=user).key for name, user in users.items()}}


def start_server(env: dict, port: int, log: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "metaverse.server", "-b", "127.0.0.1", "-p", str(port), "metaverse.asgi:application"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(log, "ab"))
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"daphne exited with {proc.returncode}; see {log}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"daphne did not start on {port}; see {log}")


class Tally:
    """Counts per (role, operation) and a progress line on the terminal."""

    def __init__(self, total: int):
        self.total, self.done, self.start = total, 0, time.time()
        self.groups = defaultdict(Counter)
        self.statuses = defaultdict(Counter)
        self.examples = {}  # (kind, role, operation) -> the first request that showed it

    def note(self, role: str, group: str, status: int, failure: str | None, request: str):
        counts = self.groups[(role, group)]
        counts["cases"] += 1
        self.statuses[(role, group)][status] += 1
        if status >= 500:
            counts["5xx"] += 1
            self.examples.setdefault(("5xx", role, group), request)
        elif failure:
            counts["schema"] += 1
            self.examples.setdefault((failure, role, group), request)
        self.done += 1
        if self.done % 25 == 0 or self.done == self.total:
            self.progress()

    def progress(self):
        if not sys.stderr.isatty():
            return
        rate = self.done / max(time.time() - self.start, 1e-9)
        left = (self.total - self.done) / rate if rate else 0
        bad = sum(c["5xx"] for c in self.groups.values())
        sys.stderr.write(f"\r  REST {self.done:,}/{self.total:,} ({self.done / self.total:.0%}) {rate:.0f}/s, 5xx {bad}, "
                         f"about {left / 60:.0f} min left   ")
        sys.stderr.flush()


def token_of(username: str) -> str:
    """The user's API token, made anew when a fuzzed logout, revoke or rotate took it away."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    return Token.objects.get_or_create(user=get_user_model().objects.get(username=username))[0].key


def run_group(strategy, examples: int, session, tally: Tally, *, role: str, user: str, group: str, revokes: bool) -> None:
    """`examples` cases of one operation as one role; a failed check is counted, never raised."""
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        response_schema_conformance,
        status_code_conformance,
    )

    headers = {"Authorization": f"Token {token_of(user)}"}

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None,
              phases=[Phase.explicit, Phase.generate])
    @given(case=strategy)
    def one(case):
        if revokes:
            headers["Authorization"] = f"Token {token_of(user)}"
        case.headers = {**(case.headers or {}), **headers}
        response = case.call(session=session, timeout=60)
        failure = None
        try:
            case.validate_response(response, checks=[not_a_server_error, status_code_conformance, response_schema_conformance])
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 (failed checks: count them and go on)
            failure = ", ".join(sorted({getattr(e, "title", type(e).__name__) for e in getattr(exc, "exceptions", [exc])}))
        sent = response.request
        shown = {k: ("Token …" if k == "Authorization" else v) for k, v in sent.headers.items() if k in {"Authorization", "Content-Type"}}
        tally.note(role, group, response.status_code, failure,
                   f"{sent.method} {sent.url} {shown} body={(sent.body or b'')[:300]!r} -> {response.status_code} {response.content[:200]!r}")

    one()


def fuzz_rest(base: str, cases: int) -> Tally:
    import requests
    import schemathesis
    from hypothesis import strategies as st
    from schemathesis import GenerationMode

    session = requests.Session()  # keep-alive, like a real client
    schema = schemathesis.openapi.from_url(f"{base}/api/schema/")
    operations = [result.ok() for result in schema.get_all_operations()]
    per_group = max(1, cases // (len(operations) * len(ROLES)))
    tally = Tally(per_group * len(operations) * len(ROLES))
    print(f"REST: {len(operations)} operations x {len(ROLES)} roles x {per_group} cases")
    for operation in operations:
        group = f"{operation.method.upper()} {operation.path}"
        strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))
        for role, user in ROLES.items():
            run_group(strategy, per_group, session, tally, role=role, user=user, group=group,
                      revokes=operation.path.startswith("/api/auth/"))  # logout, token revoke and rotate end the token
        line = "  ".join(f"{role} {tally.groups[(role, group)]['cases']}/{tally.groups[(role, group)]['5xx']}/{tally.groups[(role, group)]['schema']}"
                         for role in ROLES)
        statuses = sum((tally.statuses[(role, group)] for role in ROLES), Counter())
        print(f"\r  {group:<48} cases/5xx/schema: {line}   statuses {dict(sorted(statuses.items()))}" + " " * 10, flush=True)
    return tally


# --- websockets ----------------------------------------------------------------------------------------

def own_frames(rng: random.Random) -> tuple[str, object]:
    """(kind, frame) for the frames the room fuzzer does not send: deep JSON, lone surrogates, a `type`
    that is not a string, frames over 64 KiB, invalid UTF-8."""
    pick = rng.randrange(100)
    if pick < 25:
        depth = rng.choice([65, 1_000, 30_000])  # 30,000 deep still fits in 64 KiB
        return "deep", '{"type":"op","kind":"asset.update","changes":' + "[" * depth + "]" * depth + "}"
    if pick < 50:
        return "surrogate", rng.choice(['{"type":"chat","text":"\\ud800"}', '{"type":"\\udfff"}', '{"type":"op","id":"\\ud800","kind":"x"}'])
    if pick < 75:
        return "type", json.dumps({"type": rng.choice([[], {}, ["pose"], {"a": 1}, 1, None, True])})
    if pick < 88:
        return "too_big", '{"type":"chat","text":"' + "x" * (MAX_FRAME + rng.randrange(1, 3 * MAX_FRAME)) + '"}'
    return "bad_utf8", rng.choice([b'{"type":"chat","text":"\xff\xfe"}', b"\xc3\x28", b'{"type":"ping"\xed\xa0\x80}'])


async def fuzz_room(port: int, layout: int, token: str, role: str, frames: list, results: Counter, progress: Counter):
    """Send `frames` [(kind, frame)]; reconnect after each expected close. Counts closes by code."""
    import websockets

    url = f"ws://127.0.0.1:{port}/ws/layouts/{layout}/"

    async def connect():
        ws = await websockets.connect(url, origin=f"http://127.0.0.1:{port}", additional_headers={"Authorization": f"Token {token}"},
                                      open_timeout=30, max_size=None)
        await asyncio.wait_for(ws.recv(), 30)  # welcome
        return ws

    async def pong(ws) -> int | None:
        """None when the socket answers a ping; else the close code (1006 when it was dropped)."""
        try:
            await ws.send('{"type":"ping"}')
            while json.loads(await asyncio.wait_for(ws.recv(), 20)).get("type") != "pong":
                pass
            return None
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else 1006
        except TimeoutError:
            return "stalled"

    ws = await connect()
    recent = []  # the kinds sent since the last check, for the report of an unexpected close
    for n, (kind, frame) in enumerate(frames, 1):
        recent.append(kind)
        try:
            await ws.send(frame, text=True) if isinstance(frame, bytes) else await ws.send(frame)
        except websockets.ConnectionClosed:
            pass  # the close overtook the rest of a big frame; pong() reads its code
        results[f"{role} frames"] += 1
        progress["frames"] += 1
        if kind in EXPECTED_CLOSE or n % 25 == 0 or n == len(frames):
            code = await pong(ws)
            if kind in EXPECTED_CLOSE:
                results["expected closes" if code in EXPECTED_CLOSE[kind] else f"{role}: {kind} frame answered {code}"] += 1
            elif code is not None:
                results[f"{role}: closed {code} after {'/'.join(sorted(set(recent)))} frames"] += 1
            recent = []
            if code in DROPPED:
                results["dropped"] += 1
            if code is not None:
                await ws.close()
                try:
                    ws = await connect()
                except Exception as exc:  # noqa: BLE001 (the room no longer lets this role in: say so, stop this role)
                    results[f"{role}: could not reconnect ({type(exc).__name__}: {exc})"] += 1
                    return
            else:
                await asyncio.sleep(0.3)  # under the room's rate limit
    await ws.close()


def fuzz_websockets(port: int, layout_id: int, tokens: dict, per_role: int, seed: int, ids: dict) -> Counter:
    from tests.collaboration.test_room_fuzz import draw, encode, hostile_ops
    from tests.collaboration.test_room_fuzz import frames as room_frames

    rng = random.Random(seed)
    plans = {}
    for role in ROLES:
        if role == "outsider":
            continue  # refused at the handshake (4403): nothing to send
        mine = [own_frames(rng) for _ in range(per_role // 4)]
        theirs = [("random", frame) for frame in draw(room_frames, per_role - len(mine)) if frame]
        if role == "engineer":
            ops = draw(hostile_ops(ids), per_role // 2)
            theirs = theirs[: len(theirs) // 2] + [("op", encode({**op, "version": 1} if op.get("version") in ("current", "stale") else op, f"h{i}"))
                                                   for i, op in enumerate(ops)]
        plan = mine + theirs
        rng.shuffle(plan)
        plans[role] = plan
    total = sum(len(plan) for plan in plans.values())
    print(f"Websockets: {total:,} frames, {', '.join(f'{role} {len(plan)}' for role, plan in plans.items())}")
    results, progress = Counter(), Counter()

    async def main():
        async def show():
            while progress["frames"] < total:
                if sys.stderr.isatty():
                    sys.stderr.write(f"\r  frames {progress['frames']:,}/{total:,}   ")
                    sys.stderr.flush()
                await asyncio.sleep(1)

        ticker = asyncio.create_task(show())
        await asyncio.gather(*(fuzz_room(port, layout_id, tokens[ROLES[role]], role, plan, results, progress) for role, plan in plans.items()))
        ticker.cancel()

    asyncio.run(main())
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=20_000, help="schemathesis cases in all, spread over operations and roles (0: none)")
    parser.add_argument("--frames", type=int, default=1_000, help="websocket frames per member role")
    parser.add_argument("--seed", type=int, default=1, help="of the websocket frame plan (hypothesis draws the REST cases afresh)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="metaverse-fuzz-"))
    env = environment(tmp)
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connections

    from tests.builders import make_layout
    from tests.collaboration.test_room_fuzz import _ids as room_ids
    from tests.platform.plant_objects import make_everything

    seeded = seed()
    plant, draft, tokens = seeded["plant"], seeded["draft"], seeded["tokens"]
    from twins.models import Factory

    others = [make_layout(factory=plant, assets=2, line=True, name="Sibling"),
              make_layout(factory=Factory.objects.get(slug="other-plant"), assets=2, line=True, name="Foreign")]
    port = free_port()
    server = start_server(env, port, tmp / "daphne.log")
    base = f"http://127.0.0.1:{port}"
    started = time.time()
    try:
        import requests

        owner = requests.Session()
        owner.headers["Authorization"] = f"Token {tokens['olivia']}"
        ids = make_everything(lambda path, body: owner.post(base + path, json=body, timeout=60).json(),
                              lambda path, params: owner.get(base + path, params=params, timeout=60).json(), plant=plant, draft=draft)
        ws_ids = room_ids(draft, others)
        connections.close_all()
        print(f"Server: daphne on {base} (production settings), scratch database {tmp}; plant objects {ids}")
        tally = fuzz_rest(base, args.cases) if args.cases else Tally(0)
        rest_s = time.time() - started
        frames = fuzz_websockets(port, draft.id, {user: token_of(user) for user in ROLES.values()}, args.frames, args.seed, ws_ids)
    finally:
        server.terminate()
        server.wait(30)

    cases = sum(c["cases"] for c in tally.groups.values())
    errors = sum(c["5xx"] for c in tally.groups.values())
    schema_failures = sum(c["schema"] for c in tally.groups.values())
    print("\nBy role (cases / 5xx / schema failures):")
    for role in ROLES:
        counts = sum((c for (r, _), c in tally.groups.items() if r == role), Counter())
        print(f"  {role:<9} {counts['cases']:>7,} / {counts['5xx']} / {counts['schema']}")
    for (kind, role, group), request in sorted(tally.examples.items()):
        print(f"  first {kind} as {role} on {group}:\n      {request[:900]}")
    unexpected = {k: v for k, v in frames.items() if ":" in k}
    sent = sum(v for k, v in frames.items() if k.endswith(" frames"))
    print(f"\nWebsocket frames: {sent:,} sent, {frames['expected closes']} expected closes (1009/4009, 1007), "
          f"unexpected: {unexpected or 'none'}")
    print(f"\nTally: {cases:,} REST cases ({rest_s:.0f} s) + {sent:,} websocket frames; 5xx: {errors}; schema failures: {schema_failures}; "
          f"dropped sockets (1006/1011): {frames['dropped']}")
    print(f"daphne's log: {tmp / 'daphne.log'}")
    sys.exit(1 if errors or frames["dropped"] else 0)


if __name__ == "__main__":
    main()
