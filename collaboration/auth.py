"""Websocket authentication and origin checks: the session cookie (browsers) or `Authorization: Token …`
(scripts), and an `Origin` that must name one of `ALLOWED_HOSTS` over http(s).

The room resolves the user itself (`user_for_scope`) rather than through Channels' session middleware so
that the ASGI server's own `send` reaches the room untouched (it reads daphne's write backlog from it).
"""
from http.cookies import SimpleCookie

from channels.db import database_sync_to_async
from channels.security.websocket import OriginValidator, WebsocketDenier
from django.conf import settings


def header(scope, name: bytes) -> list[bytes]:
    return [value for key, value in scope.get("headers", []) if key == name]


def _user_for_token(key: str):
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_related("user").filter(key=key).first()
    return token.user if token and token.user.is_active else None


def _user_for_session(session_key: str):
    from importlib import import_module

    from django.contrib.auth import get_user

    class _Request:
        session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)

    user = get_user(_Request)
    return user if user.is_authenticated and user.is_active else None


def _resolve(scope):
    auth = b",".join(header(scope, b"authorization")).decode("latin1")
    if auth:
        scheme, _, key = auth.partition(" ")
        return _user_for_token(key.strip()) if scheme.lower() == "token" and key.strip() else None
    cookies = SimpleCookie()
    try:
        cookies.load(b"; ".join(header(scope, b"cookie")).decode("latin1"))
    except Exception:
        return None
    morsel = cookies.get(settings.SESSION_COOKIE_NAME)
    if morsel is None or not morsel.value or len(morsel.value) > 64:
        return None
    return _user_for_session(morsel.value)


@database_sync_to_async
def user_for_scope(scope):
    """The authenticated, active user of a websocket handshake, or None."""
    return _resolve(scope)


class StrictOriginValidator(OriginValidator):
    """Channels' validator, tightened: exactly one Origin header, over http or https, of an allowed host
    (a missing, `null`, doubled or look-alike Origin is refused before the handshake completes)."""

    async def __call__(self, scope, receive, send):
        origins = header(scope, b"origin")
        if len(origins) != 1:
            return await WebsocketDenier()(scope, receive, send)
        return await super().__call__(scope, receive, send)

    def valid_origin(self, parsed_origin):
        if parsed_origin is None or parsed_origin.scheme not in ("http", "https") or not parsed_origin.hostname:
            return False
        if parsed_origin.username or parsed_origin.password or parsed_origin.path not in ("", "/"):
            return False
        return super().valid_origin(parsed_origin)


def origin_validator(application):
    return StrictOriginValidator(application, settings.ALLOWED_HOSTS)

