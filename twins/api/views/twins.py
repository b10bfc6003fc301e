"""Twins, telemetry in, history out, alarm rules and alarms: thin views over the twin services."""
from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from ...errors import Invalid, NotFound
from ...selectors import factories_for_user, twins_for_user
from ...services.alarms import alarm_ack, alarm_rule_create, alarm_rule_delete, alarm_rule_update
from ...services.telemetry import factory_for_ingest, telemetry_ingest
from ...services.twins import twin_create
from ...twin_selectors import alarm_rules_for_user, alarms_for_user, parse_time_param, twin_history
from ..fields import int_param
from ..schema import error_response
from ..twin_serializers import (
    AcceptedSerializer, AlarmRuleSerializer, AlarmSerializer, HistorySerializer, TelemetryBatchSerializer, TwinSerializer,
)

FACTORY = OpenApiParameter("factory", int, description="Only this factory's objects.")


def _body(request) -> dict:
    if not isinstance(request.data, dict):
        raise Invalid("The request body must be a JSON object.")
    return dict(request.data)


def _factory_from_body(request, data: dict):
    factory_id = data.get("factory")
    if isinstance(factory_id, bool) or not isinstance(factory_id, int):
        raise Invalid("factory must be a factory id.", errors={"factory": ["This field is required."]})
    factory = factories_for_user(user=request.user).filter(pk=factory_id).first()
    if factory is None:
        raise NotFound("No such factory.")
    return factory


class TelemetryView(APIView):
    """Engineers and up (a device account is typically an engineer member using a token) post batches."""

    @extend_schema(request=TelemetryBatchSerializer, responses={
        202: AcceptedSerializer, 409: error_response("A twin of the batch was deleted while it was stored; nothing was stored.")})
    def post(self, request):
        data = _body(request)
        factory = factory_for_ingest(user=request.user, factory_ref=data.get("factory"))
        result = telemetry_ingest(factory=factory, points=data.get("points"), source="rest")
        return Response({"accepted": result.accepted}, status=status.HTTP_202_ACCEPTED)


class _ByFactory(viewsets.GenericViewSet):
    def by_factory(self, qs, field="factory_id"):
        if self.action == "list":
            factory = int_param(self.request, "factory")
            if factory is not None:
                qs = qs.filter(**{field: factory})
        return qs


class TwinViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _ByFactory):
    lookup_value_regex = r"\d+"
    serializer_class = TwinSerializer

    def get_queryset(self):
        return self.by_factory(twins_for_user(user=self.request.user)).order_by("factory_id", "key")

    @extend_schema(parameters=[FACTORY])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={201: TwinSerializer, 409: error_response("A twin with this key exists in the factory (`current`).")})
    def create(self, request):
        data = _body(request)
        twin = twin_create(factory=_factory_from_body(request, data), key=data.get("key"), name=data.get("name"), by=request.user)
        return Response(TwinSerializer(twin).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[OpenApiParameter("name", str, required=True), OpenApiParameter("from", str), OpenApiParameter("to", str),
                    OpenApiParameter("bucket_s", int, description="Bucket width in seconds (default 60).")],
        responses={200: HistorySerializer},
    )
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        twin = self.get_object()
        name = request.query_params.get("name")
        if not name:
            raise Invalid("The query parameter 'name' is required.", errors={"name": ["This parameter is required."]})
        end = parse_time_param(request.query_params.get("to"), field="to") or timezone.now()
        try:
            start = parse_time_param(request.query_params.get("from"), field="from") or end - timedelta(hours=1)
        except OverflowError:
            raise Invalid("'to' is too early.", errors={"to": ["Out of range."]}) from None
        bucket_s = int_param(request, "bucket_s")
        bucket_s = 60 if bucket_s is None else bucket_s
        if bucket_s < 1 or bucket_s > 366 * 86400:
            raise Invalid("bucket_s must be between 1 and 31622400.", errors={"bucket_s": ["Out of range."]})
        return Response(twin_history(twin=twin, name=name, start=start, end=end, bucket_s=bucket_s))


class AlarmRuleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _ByFactory):
    lookup_value_regex = r"\d+"
    serializer_class = AlarmRuleSerializer

    def get_queryset(self):
        qs = self.by_factory(alarm_rules_for_user(user=self.request.user))
        twin = int_param(self.request, "twin") if self.action == "list" else None
        return (qs.filter(twin_id=twin) if twin is not None else qs).order_by("id")

    @extend_schema(parameters=[FACTORY, OpenApiParameter("twin", int)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={201: AlarmRuleSerializer})
    def create(self, request):
        data = _body(request)
        rule = alarm_rule_create(factory=_factory_from_body(request, data), data={k: v for k, v in data.items() if k != "factory"}, by=request.user)
        return Response(AlarmRuleSerializer(rule).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: AlarmRuleSerializer})
    def partial_update(self, request, pk=None):
        rule = alarm_rule_update(rule=self.get_object(), changes=_body(request), by=request.user)
        return Response(AlarmRuleSerializer(rule).data)

    @extend_schema(responses={200: AlarmRuleSerializer})
    def update(self, request, pk=None):
        return self.partial_update(request, pk)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        alarm_rule_delete(rule=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AlarmViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _ByFactory):
    lookup_value_regex = r"\d+"
    serializer_class = AlarmSerializer

    def get_queryset(self):
        qs = self.by_factory(alarms_for_user(user=self.request.user), field="twin__factory_id")
        if self.action == "list":
            active = self.request.query_params.get("active")
            if active in ("1", "true", "yes"):
                qs = qs.filter(active=True)
            elif active in ("0", "false", "no"):
                qs = qs.filter(active=False)
            twin = int_param(self.request, "twin")
            if twin is not None:
                qs = qs.filter(twin_id=twin)
        return qs.order_by("-raised_at", "-id")

    @extend_schema(parameters=[FACTORY, OpenApiParameter("active", str, description="1: only active alarms; 0: only cleared ones."),
                               OpenApiParameter("twin", int)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=None, responses={200: AlarmSerializer})
    @action(detail=True, methods=["post"])
    def ack(self, request, pk=None):
        return Response(AlarmSerializer(alarm_ack(alarm=self.get_object(), by=request.user)).data)
