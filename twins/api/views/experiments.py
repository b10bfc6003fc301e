"""Experiments (CONTRACT.md §8) and the comparison of two runs: thin views over the services."""
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from ...errors import Invalid, NotFound
from ...models import Experiment
from ...selectors import factory_ids_for_user, layouts_for_user, simulations_for_user
from ...services.compare import compare_runs
from ...services.experiments import experiment_apply, experiment_cancel, experiment_create, experiment_repr
from ..fields import int_param
from ..schema import error_response


class ExperimentCreateSerializer(serializers.Serializer):
    """Documents the POST body; the service validates it."""
    layout = serializers.IntegerField()
    name = serializers.CharField(required=False)
    factors = serializers.JSONField(help_text='[{"asset": ID, "param": NAME, "values": [...]} or {"connection": ID, '
                                               '"field": "buffer_capacity"|"transport_speed_mps"|"weight"|"quantity", "values": [...]}]')
    horizon_s = serializers.FloatField(required=False)
    warmup_s = serializers.FloatField(required=False)
    replications = serializers.IntegerField(required=False)
    seed = serializers.IntegerField(required=False)
    calendar = serializers.JSONField(required=False)
    objective = serializers.JSONField(required=False, help_text='{"kpi": "throughput_per_hour"|"lead_time_s"|"wip", "sense": "max"|"min"}')
    search = serializers.JSONField(required=False, help_text='{"method": "grid"} or {"method": "optimize", "budget": N}')


class ApplySerializer(serializers.Serializer):
    point = serializers.IntegerField()
    name = serializers.CharField(required=False)


EXPERIMENT = OpenApiResponse(description="An experiment: status, progress, factors, points with results, best, effects.")


def experiments_for_user(*, user):
    return Experiment.objects.filter(layout__factory__in=factory_ids_for_user(user=user)).select_related("layout", "created_by")


class ExperimentViewSet(viewsets.GenericViewSet):
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return experiments_for_user(user=self.request.user)

    @extend_schema(parameters=[OpenApiParameter("layout", int)], responses={200: EXPERIMENT})
    def list(self, request):
        qs = self.get_queryset()
        layout = int_param(request, "layout")
        if layout is not None:
            qs = qs.filter(layout_id=layout)
        page = self.paginate_queryset(qs.order_by("-created_at", "-id"))
        return self.get_paginated_response([experiment_repr(e, full=False) for e in page])

    @extend_schema(responses={200: EXPERIMENT})
    def retrieve(self, request, pk=None):
        return Response(experiment_repr(self.get_object()))

    @extend_schema(request=ExperimentCreateSerializer, responses={201: EXPERIMENT})
    def create(self, request):
        if not isinstance(request.data, dict):
            raise Invalid("The request body must be a JSON object.")
        layout_id = request.data.get("layout")
        if isinstance(layout_id, bool) or not isinstance(layout_id, int):
            raise Invalid("layout must be a layout id.", errors={"layout": ["This field is required."]})
        layout = layouts_for_user(user=request.user).filter(pk=layout_id).first()
        if layout is None:
            raise NotFound("No such layout.")
        exp = experiment_create(layout=layout, body=dict(request.data), by=request.user)
        return Response(experiment_repr(exp), status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: EXPERIMENT, 409: error_response("The experiment has already ended.")})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return Response(experiment_repr(experiment_cancel(experiment=self.get_object(), by=request.user)))

    @extend_schema(request=ApplySerializer, responses={201: OpenApiResponse(description="The new draft layout.")})
    @action(detail=True, methods=["post"])
    def apply(self, request, pk=None):
        from ...representations import layout_repr

        if not isinstance(request.data, dict):
            raise Invalid("The request body must be a JSON object.")
        branch = experiment_apply(experiment=self.get_object(), point=request.data.get("point"),
                                  name=request.data.get("name"), by=request.user)
        return Response(layout_repr(branch), status=status.HTTP_201_CREATED)


class CompareRunsView(APIView):
    @extend_schema(parameters=[OpenApiParameter("a", int, required=True), OpenApiParameter("b", int, required=True)],
                   responses={200: OpenApiResponse(description="Per KPI: a, b, diff, ci95, paired, p.")})
    def get(self, request):
        runs = simulations_for_user(user=request.user)
        found = []
        for name in ("a", "b"):
            run = runs.filter(pk=int_param(request, name, required=True)).first()
            if run is None:
                raise NotFound(f"No such run ({name}).")
            found.append(run)
        return Response(compare_runs(*found))
