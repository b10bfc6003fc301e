"""Poses are coalesced per room tick: only changed ones, never the receiver's own, latest wins."""
import asyncio

import pytest

from collaboration.protocol import server_message

pytestmark = pytest.mark.django_db(transaction=True)


def pose(x, y=1.6, z=0.0):
    return {"type": "pose", "p": [x, y, z], "q": [0, 0, 0, 1]}


async def test_poses_are_coalesced_and_own_pose_is_not_echoed(people, draft, connect):
    alice, bob = await connect(people["alice"], draft), await connect(people["bob"], draft)
    for x in range(10):  # ten poses inside one tick: only the latest reaches bob
        await alice.send(pose(float(x)))
    frame = await bob.expect("poses")
    server_message.validate_python(frame)
    assert frame["poses"] == {str(people["alice"].id): {"p": [9.0, 1.6, 0.0], "q": [0, 0, 0, 1]}}
    await alice.nothing("poses", wait=0.3)
    # Both move: each sees only the other.
    await alice.send(pose(1.0))
    await bob.send(pose(2.0))
    got_a = await alice.expect("poses", where=lambda f: str(people["bob"].id) in f["poses"])
    got_b = await bob.expect("poses", where=lambda f: str(people["alice"].id) in f["poses"])
    assert str(people["alice"].id) not in got_a["poses"] and str(people["bob"].id) not in got_b["poses"]


async def test_unchanged_poses_are_not_resent(people, draft, connect):
    alice, bob = await connect(people["alice"], draft), await connect(people["bob"], draft)
    await alice.send(pose(3.0))
    await bob.expect("poses")
    await bob.nothing("poses", wait=0.3)


async def test_poses_go_out_at_most_20_times_a_second(people, draft, connect):
    alice, bob = await connect(people["alice"], draft), await connect(people["bob"], draft)
    loop = asyncio.get_running_loop()
    start = loop.time()
    for i in range(40):  # 40 poses over ~1 s
        await alice.send(pose(float(i)))
        await asyncio.sleep(0.025)
    await asyncio.sleep(0.1)
    frames = 0
    while True:
        try:
            await bob.expect("poses", timeout=0.15)
            frames += 1
        except AssertionError:
            break
    elapsed = loop.time() - start
    assert 5 <= frames <= 20 * elapsed + 2
    assert bob.seen[-1]["poses"][str(people["alice"].id)]["p"][0] == 39.0


async def test_a_newcomer_gets_everyones_last_pose(people, draft, connect):
    alice = await connect(people["alice"], draft)
    await alice.send(pose(5.0))
    await asyncio.sleep(0.15)
    bob = await connect(people["bob"], draft)
    frame = await bob.expect("poses")
    assert frame["poses"][str(people["alice"].id)]["p"] == [5.0, 1.6, 0.0]


@pytest.mark.parametrize("bad", [
    '{"type":"pose","p":[NaN,0,0],"q":[0,0,0,1]}',
    '{"type":"pose","p":[Infinity,0,0],"q":[0,0,0,1]}',
    '{"type":"pose","p":[1e308,0,0],"q":[0,0,0,1]}',
    '{"type":"pose","p":[0,0],"q":[0,0,0,1]}',
    '{"type":"pose","p":["0",0,0],"q":[0,0,0,1]}',
    '{"type":"pose","p":[true,0,0],"q":[0,0,0,1]}',
    '{"type":"pose","p":[0,0,0],"q":[0,0,0,1],"extra":1}',
    '{"type":"pose","p":[0,0,0]}',
])
async def test_bad_pose_gets_an_error_and_is_not_relayed(people, draft, connect, bad):
    alice, bob = await connect(people["alice"], draft), await connect(people["bob"], draft)
    await alice.send(bad)
    error = await alice.expect("error")
    assert error["code"] in ("bad_json", "invalid")
    await bob.nothing("poses", wait=0.2)
    await alice.send({"type": "ping"})
    await alice.expect("pong")
