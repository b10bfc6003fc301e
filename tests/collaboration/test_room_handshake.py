"""Who may enter a layout's room, and what they see first."""
import pytest
from channels.db import database_sync_to_async

from tests.builders import make_layout

pytestmark = pytest.mark.django_db(transaction=True)


async def test_member_gets_welcome_with_self_members_seq_and_locks(people, draft, connect):
    alice = people["alice"]
    socket = await connect(alice, draft)
    welcome = socket.welcome
    assert welcome["you"]["id"] == alice.id and welcome["you"]["username"] == "alice"
    assert welcome["you"]["role"] == "engineer" and welcome["you"]["color"].startswith("#")
    assert [m["username"] for m in welcome["members"]] == ["alice"]
    assert welcome["seq"] == draft.revision
    assert welcome["locks"] == {}
    await socket.close()


async def test_no_user_is_closed_with_4401(people, draft, connect):
    socket = await connect(None, draft, welcome=False)
    assert (await socket.expect("__close__"))["code"] == 4401


async def test_bad_token_is_closed_with_4401(people, draft, connect):
    socket = await connect(None, draft, welcome=False, extra_headers=[(b"authorization", b"Token nope")])
    assert (await socket.expect("__close__"))["code"] == 4401


async def test_missing_layout_is_closed_with_4404(people, connect):
    socket = await connect(people["alice"], 999999, welcome=False)
    assert (await socket.expect("__close__"))["code"] == 4404


async def test_non_member_is_closed_with_4403(people, draft, connect):
    socket = await connect(people["mallory"], draft, welcome=False)
    assert (await socket.expect("__close__"))["code"] == 4403


@pytest.mark.parametrize("origin", [
    None,
    (b"origin", b"http://evil.example"),
    (b"origin", b"http://localhost.evil.example"),
    (b"origin", b"http://evil-localhost"),
    (b"origin", b"null"),
    (b"origin", b"file://localhost"),
    (b"origin", b"http://localhost@evil.example"),
])
async def test_foreign_missing_or_lookalike_origin_is_refused(people, draft, connect, origin):
    socket = await connect(people["alice"], draft, origin=origin, welcome=False)
    assert not socket.connected


async def test_session_cookie_authenticates(people, draft, connect):
    from django.contrib.auth import SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    def make_session():
        s = SessionStore()
        s[SESSION_KEY] = str(people["bob"].pk)
        s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        s[HASH_SESSION_KEY] = people["bob"].get_session_auth_hash()
        s.save()
        return s.session_key

    key = await database_sync_to_async(make_session)()
    socket = await connect(None, draft, extra_headers=[(b"cookie", f"sessionid={key}".encode())])
    assert socket.welcome["you"]["username"] == "bob"
    await socket.close()


async def test_viewer_may_enter(people, draft, connect):
    socket = await connect(people["victor"], draft)
    assert socket.welcome["you"]["role"] == "viewer"
    await socket.close()


async def test_presence_on_join_and_leave(people, draft, connect):
    alice = await connect(people["alice"], draft)
    bob = await connect(people["bob"], draft)
    frame = await alice.expect("presence", where=lambda f: len(f["members"]) == 2)
    assert [m["username"] for m in frame["members"]] == ["alice", "bob"]
    await bob.close()
    frame = await alice.expect("presence", where=lambda f: len(f["members"]) == 1)
    assert frame["members"][0]["username"] == "alice"
    await alice.close()
