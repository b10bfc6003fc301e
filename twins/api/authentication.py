"""`Authorization: Token …` as DRF reads it, plus expiry (`API_TOKEN_TTL_S`; see twins/services/tokens.py)."""
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from ..services.tokens import token_is_expired


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token_is_expired(token):
            raise AuthenticationFailed("Token expired: POST your username and password to /api/auth/token/ for a new one.")
        return user, token
