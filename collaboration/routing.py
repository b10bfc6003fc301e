"""Websocket routes (CONTRACT.md §5): a strict Origin check, then the layout room socket."""
from django.urls import path

from .consumers import LayoutSocket

websocket_urlpatterns = [path("ws/layouts/<int:layout_id>/", LayoutSocket())]


def _build():
    from channels.routing import URLRouter

    from .auth import origin_validator

    return origin_validator(URLRouter(websocket_urlpatterns))


websocket_application = _build()
