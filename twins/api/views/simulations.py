"""Simulation runs: list/retrieve for every member, create and cancel for engineers and up, export."""
import json

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, renderers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from ...errors import Conflict, Invalid, NotFound
from ...models import SimulationRun
from ...selectors import layouts_for_user, simulations_for_user
from ...services.simulations import simulation_cancel, simulation_create
from ..fields import int_param
from ..schema import error_response
from ..simulation_serializers import (
    CSVRenderer,
    SimulationCreateSerializer,
    SimulationSerializer,
    results_csv,
    simulation_repr,
)


class SimulationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_value_regex = r"\d+"
    serializer_class = SimulationSerializer

    def get_queryset(self):
        qs = simulations_for_user(user=self.request.user).select_related("layout", "created_by")
        if self.action == "list":
            qs = qs.filter(experiment_point__isnull=True)  # an experiment's points are listed with it
            for param, field in (("layout", "layout_id"), ("factory", "layout__factory_id")):
                value = int_param(self.request, param)
                if value is not None:
                    qs = qs.filter(**{field: value})
            state = self.request.query_params.get("status")
            if state:
                if state not in SimulationRun.Status.values:  # also keeps a NUL byte away from PostgreSQL (a 500)
                    raise Invalid(f"status must be one of {', '.join(SimulationRun.Status.values)}.",
                                  errors={"status": ["Not a run status."]})
                qs = qs.filter(status=state)
        return qs.order_by("-created_at", "-id")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "full": self.action != "list"}

    @extend_schema(parameters=[OpenApiParameter("layout", int), OpenApiParameter("factory", int), OpenApiParameter("status", str)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=SimulationCreateSerializer, responses={201: SimulationSerializer})
    def create(self, request):
        if not isinstance(request.data, dict):
            raise Invalid("The request body must be a JSON object.")
        layout_id = request.data.get("layout")
        if isinstance(layout_id, bool) or not isinstance(layout_id, int):
            raise Invalid("layout must be a layout id.", errors={"layout": ["This field is required."]})
        layout = layouts_for_user(user=request.user).filter(pk=layout_id).first()
        if layout is None:
            raise NotFound("No such layout.")
        run = simulation_create(layout=layout, params=dict(request.data), by=request.user)
        return Response(simulation_repr(run), status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: SimulationSerializer, 409: error_response("The run has already ended.")})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return Response(simulation_repr(simulation_cancel(run=self.get_object(), by=request.user)))

    @extend_schema(parameters=[OpenApiParameter("format", str, enum=["json", "csv"])],
                   responses={200: OpenApiResponse(description="The results as a CSV table or a JSON document."),
                              409: error_response("The run has no results (yet).")})
    @action(detail=True, methods=["get"], renderer_classes=[renderers.JSONRenderer, CSVRenderer])
    def export(self, request, pk=None):
        run = self.get_object()
        if run.results is None:
            raise Conflict(f"Run {run.id} is {run.status}; only a finished run with results can be exported.")
        fmt = request.query_params.get("format", "json")
        name = f"simulation-{run.id}-layout-{run.layout_id}-r{run.layout_revision}"
        if fmt == "csv":
            response = HttpResponse(results_csv(run), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
            return response
        if fmt != "json":
            raise Invalid("format must be csv or json.", errors={"format": ["Must be csv or json."]})
        response = HttpResponse(json.dumps(simulation_repr(run), indent=1), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{name}.json"'
        return response
