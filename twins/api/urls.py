"""REST routes of the plant model. Other areas register their own routers in metaverse/urls.py."""
from django.urls import path
from rest_framework.routers import DefaultRouter

from .views.assets import AssetViewSet, ConnectionViewSet
from .views.auth import LoginView, LogoutView, MeView, TokenRotateView, TokenView
from .views.layouts import LayoutViewSet
from .views.plant import AssetTypeViewSet, FactoryViewSet

router = DefaultRouter(trailing_slash=True)
router.register("factories", FactoryViewSet, basename="factory")
router.register("asset-types", AssetTypeViewSet, basename="assettype")
router.register("layouts", LayoutViewSet, basename="layout")
router.register("assets", AssetViewSet, basename="asset")
router.register("connections", ConnectionViewSet, basename="connection")

urlpatterns = [
    path("auth/login/", LoginView.as_view(), name="login"),
    path("auth/logout/", LogoutView.as_view(), name="logout"),
    path("auth/token/", TokenView.as_view(), name="token"),
    path("auth/token/rotate/", TokenRotateView.as_view(), name="token-rotate"),
    path("auth/me/", MeView.as_view(), name="me"),
    *router.urls,
]
