"""API tokens for scripts: DRF's authtoken (one token per user), revocable, rotatable and, when
`API_TOKEN_TTL_S` is set, expiring that many seconds after it was issued.

DRF's Token already gives revocation (delete the row) and rotation (a new row under a new key) and records
`created`, which is all expiry needs; django-rest-knox would add several tokens per user and hashed keys, but
every script, test and benchmark here speaks DRF's Token. One token per user means that revoking or rotating
it ends it for every script of that user.
"""
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from collaboration import events


def token_expires_at(token: Token) -> datetime | None:
    ttl = getattr(settings, "API_TOKEN_TTL_S", 0)
    return token.created + timedelta(seconds=ttl) if ttl else None


def token_is_expired(token: Token) -> bool:
    expires = token_expires_at(token)
    return expires is not None and expires <= timezone.now()


def api_token_issue(*, user) -> Token:
    """The user's token, a new one if they had none or theirs has expired."""
    with transaction.atomic():
        token = Token.objects.select_for_update().filter(user=user).first()
        if token is not None and not token_is_expired(token):
            return token
        if token is not None:
            token.delete()
        return Token.objects.create(user=user)


def _close_sockets(user) -> None:
    # The room closes sockets per user (4401), not per credential: a revoked token ends every socket of its
    # user; browsers and scripts whose credentials still hold reconnect, the revoked token cannot.
    events.publish_access_revoked(user_id=user.id)


def api_token_rotate(*, user) -> Token:
    """A new token under a new key; the old one stops working at once, sockets opened with it too."""
    with transaction.atomic():
        Token.objects.filter(user=user).delete()
        token = Token.objects.create(user=user)
        _close_sockets(user)
    return token


def api_token_revoke(*, user) -> bool:
    """End the user's token (and its sockets); False when they had none."""
    with transaction.atomic():
        deleted, _ = Token.objects.filter(user=user).delete()
        if deleted:
            _close_sockets(user)
    return bool(deleted)


def api_token_user(key: str):
    """The active user a token key belongs to, or None (unknown, expired or inactive); for the websocket
    handshake, which authenticates outside DRF."""
    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or token_is_expired(token) or not token.user.is_active:
        return None
    return token.user
