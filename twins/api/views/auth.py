"""Login, logout and API tokens (CONTRACT.md §3 Auth). Throttled by django-axes."""
from django.contrib.auth import authenticate, login, logout
from django.middleware.csrf import get_token
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from collaboration import events

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
    permission_classes = [AllowAny]
    authentication_classes = []

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
        user_id = request.user.id if request.user.is_authenticated else None
        logout(request._request)
        if user_id:
            events.publish_access_revoked(user_id=user_id)
        return Response({"detail": "Logged out."})


class TokenView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(request=LoginSerializer, responses={200: TokenSerializer, 400: DetailSerializer, 429: DetailSerializer})
    def post(self, request):
        user, error = _authenticate(request)
        if error:
            return error
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: UserSerializer})
    def get(self, request):
        return Response({"id": request.user.id, "username": request.user.username})
