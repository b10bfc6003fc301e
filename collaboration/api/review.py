"""`/api/scenarios/` and `/api/compare/`: the review list of a factory and the KPI comparison of two layouts."""
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from twins.api.fields import int_param
from twins.errors import Invalid, NotFound
from twins.models import Layout
from twins.selectors import factories_for_user, layout_for_user

from ..review import layouts_compare, scenario_rows, scenarios_for_user
from .serializers import CompareSerializer, ScenarioSerializer


class ScenarioViewSet(viewsets.GenericViewSet):
    """Scenarios (layouts) of a factory, newest change first, each with its status, author, parent, whether it
    is the baseline, comment counts, and the KPIs of its latest successful simulation (`stale` when the layout
    changed since that run). Filter with `?factory=ID` and `?status=draft,in_review`."""
    lookup_value_regex = r"\d+"

    serializer_class = ScenarioSerializer
    queryset = Layout.objects.none()  # for the schema; list() reads through scenarios_for_user

    @extend_schema(parameters=[OpenApiParameter("factory", int), OpenApiParameter("status", str, description="Comma-separated statuses.")])
    def list(self, request):
        factory = int_param(request, "factory")
        if factory is not None and not factories_for_user(user=request.user).filter(pk=factory).exists():
            raise NotFound("No such factory.")
        page = self.paginate_queryset(scenarios_for_user(user=request.user, factory_id=factory, status=request.query_params.get("status")))
        return self.get_paginated_response(scenario_rows(page))


class CompareView(APIView):
    """KPI comparison of two layouts: throughput, lead time, WIP and bottleneck utilisation of each one's latest
    successful simulation (or of `run` / `against_run`), the delta (layout − against), whether it is an
    improvement, and whether it is significant at 5% (Welch's t-test from each run's mean, 95% half-width
    and replication count; `intervals_overlap` tells whether the two 95% intervals overlap). `against`
    defaults to the factory's baseline."""

    @extend_schema(parameters=[OpenApiParameter("layout", int, required=True), OpenApiParameter("against", int),
                               OpenApiParameter("run", int), OpenApiParameter("against_run", int)],
                   responses={200: CompareSerializer})
    def get(self, request):
        layout = layout_for_user(user=request.user, layout_id=int_param(request, "layout", required=True))
        against_id = int_param(request, "against")
        if against_id is None:
            against_id = layout.factory.baseline_layout_id
            if against_id is None:
                raise Invalid("The factory has no baseline; name the layout to compare against with ?against=ID.",
                              errors={"against": ["This parameter is required."]})
        against = layout_for_user(user=request.user, layout_id=against_id)
        if against.factory_id != layout.factory_id:
            raise Invalid("Both layouts must belong to the same factory.")
        return Response(layouts_compare(layout=layout, against=against, run_id=int_param(request, "run"),
                                        against_run_id=int_param(request, "against_run")))
