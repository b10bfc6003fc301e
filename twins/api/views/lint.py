"""GET /api/layouts/{id}/lint/ (CONTRACT.md §11): the layout's checks, for every member."""
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from ...selectors import layout_for_user
from ...services.lint import layout_lint

LINT = OpenApiResponse(description='{"issues": [{"kind": "overlap" | "clearance" | "unconnected" | "unsimulatable", '
                                   '"assets": [ids], "message"}]}')


class LayoutLintView(APIView):
    @extend_schema(responses={200: LINT})
    def get(self, request, pk):
        return Response(layout_lint(layout_for_user(user=request.user, layout_id=int(pk))))
