"""REST routes of the plant model. Other areas register their own routers in metaverse/urls.py."""
from django.urls import path, re_path
from rest_framework.routers import DefaultRouter

from .views.aas import FactoryAasView
from .views.assets import AssetViewSet, ConnectionViewSet
from .views.auth import LoginView, LogoutView, MeView, TokenRotateView, TokenView
from .views.calibration import LayoutCalibrateView, PlanVsActualView, TwinCalibrationView
from .views.layouts import LayoutViewSet
from .views.lint import LayoutLintView
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
    # CONTRACT §9; ids of at most 18 digits always fit the database's 64-bit integer.
    re_path(r"^twins/(?P<pk>[0-9]{1,18})/calibration/$", TwinCalibrationView.as_view(), name="twin-calibration"),
    re_path(r"^layouts/(?P<pk>[0-9]{1,18})/calibrate/$", LayoutCalibrateView.as_view(), name="layout-calibrate"),
    re_path(r"^layouts/(?P<pk>[0-9]{1,18})/plan-vs-actual/$", PlanVsActualView.as_view(), name="layout-plan-vs-actual"),
    re_path(r"^factories/(?P<pk>[0-9]{1,18})/aas/$", FactoryAasView.as_view(), name="factory-aas"),  # CONTRACT §10
    re_path(r"^layouts/(?P<pk>[0-9]{1,18})/lint/$", LayoutLintView.as_view(), name="layout-lint"),
    *router.urls,
]
