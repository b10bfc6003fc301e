"""`/api/factories/{id}/aas/` (CONTRACT §10): the factory as an AAS V3.0 environment, and its import.
Thin over twins.interfaces.aas (the export) and twins.services.aas (the import)."""
import json

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from ...errors import Invalid, NotFound
from ...interfaces.aas import factory_environment
from ...selectors import factories_for_user
from ...services.aas import factory_aas_import
from ..serializers import DetailSerializer

IMPORTED = inline_serializer("AasImport", {
    "twins": serializers.DictField(help_text="{created: [keys], existing: [keys]}"),
    "asset_types": serializers.DictField(help_text="{created: [names], updated: [names], unchanged: [names]}"),
})

UPLOAD = inline_serializer("AasUpload", {"file": serializers.FileField(help_text="An AAS V3.0 JSON environment")})


def _factory(request, pk):
    factory = factories_for_user(user=request.user).filter(pk=pk).first()
    if factory is None:
        raise NotFound("No such factory.")
    return factory


def _environment_text(request) -> str:
    """The environment as sent: a JSON body, or a multipart upload in the field `file`."""
    upload = request.FILES.get("file") if request.content_type.startswith("multipart/") else None
    if upload is not None:
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise Invalid("The uploaded file is not UTF-8 text (an AAS V3.0 JSON environment is expected).", errors={"file": ["Not UTF-8."]}) from None
    if request.content_type.startswith("multipart/"):
        raise Invalid("Upload the environment in the form field 'file'.", errors={"file": ["This field is required."]})
    return json.dumps(request.data)


class FactoryAasView(APIView):
    @extend_schema(responses={200: OpenApiResponse(description="An AAS V3.0 environment (JSON)"), 404: DetailSerializer})
    def get(self, request, pk):
        factory = _factory(request, pk)
        response = HttpResponse(factory_environment(factory=factory), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{factory.slug}.aas.json"'
        return response

    @extend_schema(request={"application/json": OpenApiTypes.OBJECT, "multipart/form-data": UPLOAD},
                   description="Import an AAS V3.0 environment (a JSON body, or a multipart upload in the field 'file'); owners only.",
                   responses={200: IMPORTED, 400: DetailSerializer, 403: DetailSerializer, 404: DetailSerializer})
    def post(self, request, pk):
        factory = _factory(request, pk)
        return Response(factory_aas_import(factory=factory, text=_environment_text(request), by=request.user))
