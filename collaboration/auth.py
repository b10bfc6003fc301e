"""Websocket authentication: the session cookie (browsers) or `Authorization: Token …` (scripts)."""
from channels.auth import AuthMiddleware
from channels.db import database_sync_to_async
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.contrib.auth.models import AnonymousUser


@database_sync_to_async
def _user_for_token(key: str):
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_related("user").filter(key=key).first()
    return token.user if token and token.user.is_active else AnonymousUser()


class _TokenAuthMiddleware(AuthMiddleware):
    async def resolve_scope(self, scope):
        headers = dict(scope.get("headers", []))
        auth = headers.get(b"authorization", b"").decode("latin1")
        if auth.lower().startswith("token "):
            scope["user"]._wrapped = await _user_for_token(auth[6:].strip())
        else:
            await super().resolve_scope(scope)


def TokenOrSessionAuthMiddleware(inner):
    return CookieMiddleware(SessionMiddleware(_TokenAuthMiddleware(inner)))
