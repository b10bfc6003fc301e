"""`summon`: a manager or owner brings everyone in the room to their view; nobody else can."""
import pytest

pytestmark = pytest.mark.django_db(transaction=True)

VIEW = {"position": [12.5, 8.0, -3.0], "target": [4.0, 0.0, 2.0]}


async def test_a_managers_summon_reaches_everyone_in_the_room(people, draft, connect):
    maggie, alice, victor = [await connect(people[n], draft) for n in ("maggie", "alice", "victor")]
    await maggie.send({"type": "summon", **VIEW})
    for socket in (alice, victor, maggie):  # the sender too: every page shows who led the view
        frame = await socket.expect("summon")
        assert frame["from"]["username"] == "maggie" and frame["from"]["color"].startswith("#")
        assert (frame["position"], frame["target"]) == (VIEW["position"], VIEW["target"])
        assert isinstance(frame["ts"], int)


@pytest.mark.parametrize("who", ["alice", "victor"])
async def test_engineers_and_viewers_cannot_summon(people, draft, connect, who):
    sender, other = await connect(people[who], draft), await connect(people["olivia"], draft)
    await sender.send({"type": "summon", **VIEW})
    error = await sender.expect("error")
    assert error["code"] == "forbidden" and "managers and owners" in error["message"]
    await other.nothing("summon")


@pytest.mark.parametrize("bad", [
    {"position": [1, 2], "target": [0, 0, 0]},
    {"position": [1, 2, "x"], "target": [0, 0, 0]},
    {"position": [1e12, 0, 0], "target": [0, 0, 0]},
    {"position": [0, 0, 0]},
    {"position": [0, 0, 0], "target": [0, 0, 0], "extra": 1},
])
async def test_a_bad_summon_is_an_invalid_error_and_reaches_nobody(people, draft, connect, bad):
    olivia, alice = await connect(people["olivia"], draft), await connect(people["alice"], draft)
    await olivia.send({"type": "summon", **bad})
    assert (await olivia.expect("error"))["code"] == "invalid"
    await alice.nothing("summon")
