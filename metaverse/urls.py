from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from frontend import views as pages

api = [
    path("", include("twins.api.urls")),
    path("", include("twins.api.telemetry_urls")),
    path("", include("twins.api.simulation_urls")),
    path("", include("collaboration.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
]

urlpatterns = [
    path("api/", include(api)),
    path("admin/", admin.site.urls),
    path("healthz", pages.healthz, name="healthz"),
    path("", include("frontend.urls")),
    re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
]

handler400 = "twins.api.errors.json_400"
handler403 = "twins.api.errors.json_403"
handler404 = "twins.api.errors.json_404"
handler500 = "twins.api.errors.json_500"
