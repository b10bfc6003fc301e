"""The twin teaches the model (CONTRACT §9): a twin's calibration, calibrating a draft, plan against actual.
Thin views over twins.services.calibration and twins.services.plan_vs_actual."""
from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from ...errors import Invalid, NotFound
from ...selectors import layout_for_user, twins_for_user
from ...services.calibration import layout_calibrate, twin_calibration
from ...services.plan_vs_actual import plan_vs_actual
from ...twin_selectors import parse_time_param
from ..fields import body_dict, int_param

DEFAULT_WINDOW = timedelta(hours=24)
WINDOW = [OpenApiParameter("from", str, description="ISO-8601 or epoch ms; default `to` − 24 h."),
          OpenApiParameter("to", str, description="ISO-8601 or epoch ms; default now.")]
CALIBRATION = inline_serializer("Calibration", {
    "window": serializers.DictField(), "cycle_time_s": serializers.DictField(allow_null=True, help_text="{mean, cv, n, ks_p, distribution, histogram}"),
    "mtbf_s": serializers.DictField(allow_null=True, help_text="{mean, n}"), "mttr_s": serializers.DictField(allow_null=True, help_text="{mean, n}"),
    "detail": serializers.DictField(allow_null=True, help_text="Why a fit is null, per field."),
})
CALIBRATE_REQUEST = inline_serializer("CalibrateRequest", {
    "from": serializers.CharField(required=False), "to": serializers.CharField(required=False),
    "assets": serializers.ListField(child=serializers.IntegerField(), allow_null=True, required=False),
})
CALIBRATE_RESULT = inline_serializer("CalibrateResult", {
    "window": serializers.DictField(), "changed": serializers.ListField(child=serializers.DictField(), help_text="[{asset, before, after, observations}]"),
    "skipped": serializers.ListField(child=serializers.DictField(), help_text="[{asset, detail}]: stations that keep their values"),
})
PLAN_VS_ACTUAL = inline_serializer("PlanVsActual", {
    "t": serializers.ListField(child=serializers.IntegerField(), help_text="Bucket starts, epoch ms."),
    "actual": serializers.ListField(child=serializers.FloatField(allow_null=True)),
    "planned": serializers.DictField(allow_null=True, help_text="{mean, lo, hi}: lists per bucket"),
    "run": serializers.IntegerField(allow_null=True),
})


def _time(raw, *, field: str):
    if raw is None or isinstance(raw, str):
        return parse_time_param(raw, field=field)
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return parse_time_param(str(raw), field=field)
    raise Invalid(f"'{field}' must be ISO-8601 or epoch milliseconds.", errors={field: ["Not a timestamp."]})


def _window(raw_from, raw_to):
    end = _time(raw_to, field="to") or timezone.now()
    start = _time(raw_from, field="from")
    if start is None:
        try:
            start = end - DEFAULT_WINDOW
        except OverflowError:
            raise Invalid("'to' is too early.", errors={"to": ["Out of range."]}) from None
    return start, end


class TwinCalibrationView(APIView):
    """Members (viewers too) read a twin's fits; non-members get 404."""

    @extend_schema(parameters=WINDOW, responses={200: CALIBRATION})
    def get(self, request, pk):
        twin = twins_for_user(user=request.user).filter(pk=int(pk)).first()
        if twin is None:
            raise NotFound("No such twin.")
        start, end = _window(request.query_params.get("from"), request.query_params.get("to"))
        return Response(twin_calibration(twin=twin, start=start, end=end))


class LayoutCalibrateView(APIView):
    """Engineers and up write the fits into a draft as one change."""

    @extend_schema(request=CALIBRATE_REQUEST, responses={
        200: CALIBRATE_RESULT, 409: OpenApiResponse(description="The layout is not a draft; branch it first."),
        423: OpenApiResponse(description="Another user is moving one of the stations right now.")})
    def post(self, request, pk):
        layout = layout_for_user(user=request.user, layout_id=int(pk))
        data = body_dict(request)
        unknown = set(data) - {"from", "to", "assets"}
        if unknown:
            raise Invalid(f"Unknown field(s): {', '.join(sorted(unknown))}.", errors={f: ["Unknown field."] for f in unknown})
        start, end = _window(data.get("from"), data.get("to"))
        return Response(layout_calibrate(layout=layout, start=start, end=end, assets=data.get("assets"), by=request.user))


class PlanVsActualView(APIView):
    """Members (viewers too) compare a layout's output with its latest run."""

    @extend_schema(parameters=[*WINDOW, OpenApiParameter("bucket_s", int, description="Bucket width in seconds (default 3600).")],
                   responses={200: PLAN_VS_ACTUAL})
    def get(self, request, pk):
        layout = layout_for_user(user=request.user, layout_id=int(pk))
        start, end = _window(request.query_params.get("from"), request.query_params.get("to"))
        bucket_s = int_param(request, "bucket_s")
        return Response(plan_vs_actual(layout=layout, start=start, end=end, bucket_s=3600 if bucket_s is None else bucket_s))
