"""JSON errors everywhere: service errors, DRF errors and Django's own 400/403/404/500 pages.

An error is JSON whatever the request asked for: the export endpoint renders CSV (`?format=csv`), but a
missing run or a bad parameter answers `{"detail": …}` like every other endpoint, never a CSV or HTML page.
"""
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation, ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ..errors import ServiceError


def exception_handler(exc, context):
    request = context.get("request")
    if request is not None:  # DRF renders the error with this renderer (APIView.finalize_response)
        request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
    if isinstance(exc, ServiceError):
        return Response(exc.as_dict(), status=exc.http_status)
    if isinstance(exc, DjangoValidationError):
        return Response({"detail": "; ".join(exc.messages)}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, RequestDataTooBig):
        return Response({"detail": "The request body is too large."}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, SuspiciousOperation):  # e.g. too many form fields
        return Response({"detail": "Bad request."}, status=status.HTTP_400_BAD_REQUEST)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, list):
        response.data = {"detail": response.data}
    return response


def json_400(request, exception=None):
    return JsonResponse({"detail": "Bad request."}, status=400)


def json_403(request, exception=None):
    return JsonResponse({"detail": "You do not have permission to perform this action."}, status=403)


def json_404(request, exception=None):
    return JsonResponse({"detail": "Not found."}, status=404)


def json_500(request):
    return JsonResponse({"detail": "Server error. The team has been notified; please try again."}, status=500)


__all__ = ["exception_handler", "json_400", "json_403", "json_404", "json_500", "Http404", "PermissionDenied"]
