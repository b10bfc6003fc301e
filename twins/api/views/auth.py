"""Login, logout and API tokens (CONTRACT.md §3 Auth; docs/api.md). Throttled by django-axes."""
from django.contrib.auth import authenticate, login, logout
from django.middleware.csrf import get_token
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from collaboration import events

from ...services.tokens import api_token_issue, api_token_revoke, api_token_rotate, token_expires_at
from ..parsers import FastJSONParser
from ..serializers import DetailSerializer, LoginSerializer, TokenSerializer, UserSerializer


def _authenticate(request):
    serializer = LoginSerializer(data=request.data if isinstance(request.data, dict) else {})
    if not serializer.is_valid():
        return None, Response({"detail": "Send a username and a password.", **serializer.errors}, status=status.HTTP_400_BAD_REQUEST)
    user = authenticate(request._request, username=serializer.validated_data["username"], password=serializer.validated_data["password"])
    if user is None:
        if getattr(request._request, "axes_locked_out", False):
            return None, Response({"detail": "Too many failed logins. Wait 15 minutes, then try again."}, status=status.HTTP_429_TOO_MANY_REQUESTS)
        return None, Response({"detail": "Wrong username or password."}, status=status.HTTP_400_BAD_REQUEST)
    if not user.is_active:
        return None, Response({"detail": "This account is disabled."}, status=status.HTTP_400_BAD_REQUEST)
    return user, None


class LoginView(APIView):
    """JSON only (415 for anything else): a page on another site can make a browser post a form here, never a
    JSON body (that needs a CORS preflight, which this API does not answer), so it cannot sign the browser
    into an account of its choosing (login CSRF)."""

    permission_classes = [AllowAny]
    authentication_classes = []
    parser_classes = [FastJSONParser]

    @extend_schema(request=LoginSerializer, responses={200: UserSerializer, 400: DetailSerializer, 429: DetailSerializer})
    def post(self, request):
        user, error = _authenticate(request)
        if error:
            return error
        login(request._request, user)
        get_token(request._request)  # sets the csrftoken cookie
        return Response({"id": user.id, "username": user.username})


class LogoutView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(request=None, responses={200: DetailSerializer})
    def post(self, request):
        """Ends the session; called with a token, revokes that token too. Either way the user's sockets close."""
        user = request.user if request.user.is_authenticated else None
        logout(request._request)
        if isinstance(request.auth, Token):
            api_token_revoke(user=user)  # closes the user's sockets too
        elif user is not None:
            events.publish_access_revoked(user_id=user.id)
        return Response({"detail": "Logged out."})


def _token_body(token) -> dict:
    expires = token_expires_at(token)
    return {"token": token.key, "expires_at": expires.isoformat().replace("+00:00", "Z") if expires else None}


class TokenView(APIView):
    """POST credentials for the user's token (the same one until it is revoked, rotated or expires);
    DELETE revokes the caller's token. JSON only, like the login."""

    parser_classes = [FastJSONParser]

    def _posting(self) -> bool:
        return getattr(self.request, "method", None) == "POST"  # no request while the schema is generated

    def get_authenticators(self):
        # Credentials alone identify a POST: a stale token sent along must not stand in the way of a new one.
        return [] if self._posting() else super().get_authenticators()

    def get_permissions(self):
        return [AllowAny()] if self._posting() else [IsAuthenticated()]

    @extend_schema(request=LoginSerializer, responses={200: TokenSerializer, 400: DetailSerializer, 429: DetailSerializer})
    def post(self, request):
        user, error = _authenticate(request)
        if error:
            return error
        return Response(_token_body(api_token_issue(user=user)))

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        api_token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenRotateView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: TokenSerializer})
    def post(self, request):
        """A new token for the caller; the old one (and every socket of the user) stops at once."""
        return Response(_token_body(api_token_rotate(user=request.user)))


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: UserSerializer})
    def get(self, request):
        return Response({"id": request.user.id, "username": request.user.username})
