"""API tokens: revoked by logout or DELETE, rotated on request, expiring after API_TOKEN_TTL_S when set."""
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from collaboration.room import hub
from tests.collaboration.conftest import Socket, open_socket

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN, HOST = (b"origin", b"http://localhost"), (b"host", b"localhost")  # a browser's handshake on http://localhost/


def issue(username: str) -> str:
    response = APIClient().post("/api/auth/token/", {"username": username, "password": username}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["token"]


def with_token(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_logout_with_a_token_revokes_it(people):
    key = issue("bob")
    assert with_token(key).post("/api/auth/logout/").status_code == 200
    response = with_token(key).get("/api/factories/")
    assert response.status_code == 401 and response.json()["detail"]


def test_delete_revokes_the_callers_token(people):
    key = issue("bob")
    assert with_token(key).delete("/api/auth/token/").status_code == 204
    assert with_token(key).get("/api/factories/").status_code == 401
    assert not Token.objects.filter(user=people["bob"]).exists()
    assert issue("bob") != key


def test_posting_credentials_again_returns_the_same_token(people):
    assert issue("bob") == issue("bob")


def test_rotation_gives_a_new_token_and_the_old_one_stops_working(people):
    old = issue("bob")
    response = with_token(old).post("/api/auth/token/rotate/")
    assert response.status_code == 200
    new = response.json()["token"]
    assert new != old
    assert with_token(old).get("/api/factories/").status_code == 401
    assert with_token(new).get("/api/factories/").json()["count"] == 1


def test_tokens_do_not_expire_by_default(people):
    key = issue("bob")
    Token.objects.filter(key=key).update(created=timezone.now() - timedelta(days=3650))
    assert with_token(key).get("/api/factories/").status_code == 200
    assert APIClient().post("/api/auth/token/", {"username": "bob", "password": "bob"}, format="json").json()["expires_at"] is None


def test_an_expired_token_gets_401_and_credentials_get_a_fresh_one(people, settings):
    settings.API_TOKEN_TTL_S = 3600
    key = issue("bob")
    assert with_token(key).get("/api/factories/").status_code == 200
    Token.objects.filter(key=key).update(created=timezone.now() - timedelta(seconds=3601))
    response = with_token(key).get("/api/factories/")
    assert response.status_code == 401 and "expired" in response.json()["detail"]
    fresh = APIClient().post("/api/auth/token/", {"username": "bob", "password": "bob"}, format="json").json()
    assert fresh["token"] != key and fresh["expires_at"]
    assert with_token(fresh["token"]).get("/api/factories/").status_code == 200


@pytest.fixture
async def socket_with():
    """`await socket_with(key, layout)`: a socket opened with that token; all of them closed afterwards."""
    from channels.layers import channel_layers

    channel_layers.backends.pop("default", None)  # each async test has its own loop, so must the layer
    opened = []

    async def open_with(key: str, layout) -> Socket:
        communicator, connected = await open_socket(f"/ws/layouts/{layout.id}/", [ORIGIN, HOST, (b"authorization", f"Token {key}".encode())])
        opened.append(Socket(communicator))
        return opened[-1]

    yield open_with
    for socket in opened:
        if socket.close_code is None:
            try:
                await socket.c.disconnect(timeout=3)
            except BaseException:
                pass
    await hub.shutdown()
    channel_layers.backends.pop("default", None)


async def test_an_expired_token_opens_no_socket(people, draft, settings, socket_with):
    settings.API_TOKEN_TTL_S = 60
    key = await database_sync_to_async(issue)("bob")
    await database_sync_to_async(Token.objects.filter(key=key).update)(created=timezone.now() - timedelta(seconds=61))
    socket = await socket_with(key, draft)
    assert (await socket.expect("__close__"))["code"] == 4401


@pytest.mark.parametrize("revoke", ["delete", "rotate", "logout"])
async def test_revoking_a_token_closes_the_sockets_opened_with_it(people, draft, socket_with, revoke):
    key = await database_sync_to_async(issue)("bob")
    socket = await socket_with(key, draft)
    await socket.expect("welcome", timeout=5)
    client = with_token(key)
    call = {"delete": lambda: client.delete("/api/auth/token/"), "rotate": lambda: client.post("/api/auth/token/rotate/"),
            "logout": lambda: client.post("/api/auth/logout/")}[revoke]
    assert (await database_sync_to_async(call)()).status_code < 300
    assert (await socket.expect("__close__"))["code"] == 4401
    again = await socket_with(key, draft)
    assert (await again.expect("__close__"))["code"] == 4401
