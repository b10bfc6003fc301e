"""REST routes of the collaboration area: comments, the audit trail, scenarios and KPI comparison."""
from django.urls import path
from rest_framework.routers import SimpleRouter

from .api.audit import AuditViewSet
from .api.comments import CommentViewSet
from .api.review import CompareView, ScenarioViewSet

router = SimpleRouter(trailing_slash=True)
router.register("comments", CommentViewSet, basename="comment")
router.register("audit", AuditViewSet, basename="audit")
router.register("scenarios", ScenarioViewSet, basename="scenario")

urlpatterns = [
    path("compare/", CompareView.as_view(), name="compare"),
    *router.urls,
]
