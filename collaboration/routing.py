"""Websocket routes (CONTRACT.md §5)."""
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from .consumers import LayoutConsumer

websocket_urlpatterns = [path("ws/layouts/<int:layout_id>/", LayoutConsumer.as_asgi())]


def _build():
    from channels.routing import URLRouter

    from .auth import TokenOrSessionAuthMiddleware

    return AllowedHostsOriginValidator(TokenOrSessionAuthMiddleware(URLRouter(websocket_urlpatterns)))


websocket_application = _build()
