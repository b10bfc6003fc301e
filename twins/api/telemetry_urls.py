"""REST routes of the digital twin: twins, telemetry, history, alarm rules and alarms."""
from django.urls import path
from rest_framework.routers import DefaultRouter

from .views.twins import AlarmRuleViewSet, AlarmViewSet, TelemetryView, TwinViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("twins", TwinViewSet, basename="twin")
router.register("alarm-rules", AlarmRuleViewSet, basename="alarmrule")
router.register("alarms", AlarmViewSet, basename="alarm")

urlpatterns = [
    path("telemetry/", TelemetryView.as_view(), name="telemetry"),
    *router.urls,
]
