"""Websocket authentication and origin checks: the session cookie (browsers) or `Authorization: Token …`
(scripts), and an `Origin` of the server's own scheme, host and port, the host one of `ALLOWED_HOSTS`.

The room resolves the user itself (`user_for_scope`) rather than through Channels' session middleware so
that the ASGI server's own `send` reaches the room untouched (it reads daphne's write backlog from it).
"""
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from channels.db import database_sync_to_async
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}


def header(scope, name: bytes) -> list[bytes]:
    return [value for key, value in scope.get("headers", []) if key == name]


def _user_for_token(key: str):
    from twins.services.tokens import api_token_user  # the REST API's rules: revoked and expired tokens fail

    return api_token_user(key)


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


def _scheme(scope) -> str:
    """The scheme the browser used: the ASGI scope's (daphne leaves it out: `ws`), or the proxy's word for it
    when `SECURE_PROXY_SSL_HEADER` says which header a TLS-terminating proxy sets (as Django's is_secure)."""
    if scope.get("scheme") in ("wss", "https"):
        return "https"
    if settings.SECURE_PROXY_SSL_HEADER:
        name, value = settings.SECURE_PROXY_SSL_HEADER
        sent = b",".join(header(scope, name.removeprefix("HTTP_").replace("_", "-").lower().encode())).decode("latin1")
        if sent.split(",")[0].strip() == value:
            return "https"
    return "http"


def _origin_tuple(scheme: str, netloc: str) -> tuple[str, str, int] | None:
    """(scheme, lower-case host, port) of an allowed host, or None (Django's parser: a bad port gives no host)."""
    host, port = split_domain_port(netloc)
    if not host or not validate_host(host, settings.ALLOWED_HOSTS):
        return None
    return scheme, host, int(port or DEFAULT_PORTS[scheme])


def origin_allowed(scope) -> bool:
    """Exactly one `Origin`, over http(s), naming an allowed host, and the same origin (scheme, host and port)
    as the handshake's own `Host` — or listed in `CSRF_TRUSTED_ORIGINS` (a proxy in front that rewrites the
    Host or terminates TLS). The rule Django's CSRF check applies to the `Origin` of an unsafe request."""
    origins, hosts = header(scope, b"origin"), header(scope, b"host")
    if len(origins) != 1 or len(hosts) != 1:
        return False
    origin = origins[0].decode("latin1")
    try:
        parsed = urlsplit(origin)
    except ValueError:  # a malformed IPv6 literal
        return False
    if parsed.scheme not in DEFAULT_PORTS or parsed.username is not None or parsed.password is not None:
        return False
    if parsed.path not in ("", "/") or parsed.query or parsed.fragment:
        return False
    theirs = _origin_tuple(parsed.scheme, parsed.netloc)
    if theirs is None:
        return False
    if origin.rstrip("/") in settings.CSRF_TRUSTED_ORIGINS:
        return True
    return theirs == _origin_tuple(_scheme(scope), hosts[0].decode("latin1"))


class StrictOriginValidator:
    """Refuses the handshake (HTTP 403) unless `origin_allowed`: a missing, `null`, doubled, look-alike or
    cross-origin (other scheme or port) Origin never reaches the room."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and origin_allowed(scope):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)


def origin_validator(application):
    return StrictOriginValidator(application)
