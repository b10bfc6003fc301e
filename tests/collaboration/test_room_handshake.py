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


@pytest.mark.parametrize("origin, host", [
    (b"http://localhost:8001", b"localhost:8000"),    # another port of the same host
    (b"http://localhost", b"localhost:8000"),         # the default port is another port
    (b"http://localhost:8000", b"localhost"),
    (b"https://localhost:8000", b"localhost:8000"),   # another scheme (the socket came over plain ws)
    (b"https://localhost", b"localhost"),
    (b"http://127.0.0.1:8000", b"localhost:8000"),    # another allowed host is still another origin
    (b"http://localhost.:8000", b"127.0.0.1:8000"),
    (b"http://localhost:8000.evil.example", b"localhost:8000"),
    (b"http://localhost:8000/", b"localhost:9000"),
    (b"http://localhost:abc", b"localhost"),
    (b"http://[::1", b"localhost"),
])
async def test_an_origin_of_another_scheme_or_port_is_refused(people, draft, connect, origin, host):
    socket = await connect(people["alice"], draft, origin=(b"origin", origin), host=(b"host", host), welcome=False)
    assert not socket.connected


@pytest.mark.parametrize("origin, host", [
    (b"http://localhost:8000", b"localhost:8000"),
    (b"http://LocalHost:8000", b"localhost:8000"),
    (b"http://localhost:80", b"localhost"),
    (b"http://127.0.0.1:8123", b"127.0.0.1:8123"),
])
async def test_the_servers_own_origin_is_accepted(people, draft, connect, origin, host):
    socket = await connect(people["alice"], draft, origin=(b"origin", origin), host=(b"host", host))
    assert socket.welcome["you"]["username"] == "alice"
    await socket.close()


async def test_without_a_host_header_the_origin_cannot_be_checked(people, draft, connect):
    socket = await connect(people["alice"], draft, host=None, welcome=False)
    assert not socket.connected


async def test_behind_a_tls_proxy_the_https_origin_is_the_servers_own(people, draft, connect, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    origin, host = (b"origin", b"https://localhost"), (b"host", b"localhost")
    forwarded = [(b"x-forwarded-proto", b"https")]
    socket = await connect(people["alice"], draft, origin=origin, host=host, extra_headers=forwarded)
    assert socket.welcome["you"]["username"] == "alice"
    await socket.close()
    plain = await connect(people["alice"], draft, origin=origin, host=host, welcome=False)
    assert not plain.connected


async def test_a_trusted_origin_is_accepted_whatever_the_host_header(people, draft, connect, settings):
    """A proxy that forwards to daphne on its own address (Host: 10.0.0.5:8001) for https://localhost."""
    settings.CSRF_TRUSTED_ORIGINS = ["https://localhost"]
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "10.0.0.5"]
    trusted = await connect(people["alice"], draft, origin=(b"origin", b"https://localhost"), host=(b"host", b"10.0.0.5:8001"))
    assert trusted.welcome["you"]["username"] == "alice"
    await trusted.close()
    other_port = await connect(people["alice"], draft, origin=(b"origin", b"https://localhost:8443"), host=(b"host", b"10.0.0.5:8001"), welcome=False)
    assert not other_port.connected


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
