"""`/api/comments/`: threads pinned to assets or 3D points; every write goes through collaboration.services.comments."""
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from twins.api.fields import int_param
from twins.errors import Invalid, NotFound
from twins.selectors import layouts_for_user

from ..models import Comment
from ..review import comments_for_user
from ..services.comments import comment_create, comment_delete, comment_reprs, comment_resolve, comment_update
from .serializers import CommentSerializer


def _body(request) -> dict:
    if not isinstance(request.data, dict):
        raise Invalid("The request body must be a JSON object.")
    return dict(request.data)


class CommentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_value_regex = r"\d+"
    """Comments of the layouts you can see. Any member (viewers too) may comment; the author edits;
    the author or a manager+ deletes; the author or an engineer+ resolves and reopens. Every change is
    audited and sent to the layout's room as `{"type": "comment", "action", "comment"}`."""

    serializer_class = CommentSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Comment.objects.none()
        qs = comments_for_user(user=self.request.user)
        if self.action == "list":
            for name in ("layout", "asset", "parent"):
                value = int_param(self.request, name)
                if value is not None:
                    qs = qs.filter(**{f"{name}_id": value})
            resolved = self.request.query_params.get("resolved")
            if resolved in ("0", "1", "true", "false"):
                qs = qs.filter(resolved=resolved in ("1", "true"))
        return qs

    @extend_schema(parameters=[OpenApiParameter("layout", int), OpenApiParameter("asset", int), OpenApiParameter("parent", int),
                               OpenApiParameter("resolved", bool)])
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(comment_reprs(page))

    def retrieve(self, request, pk=None):
        return Response(comment_reprs([self.get_object()])[0])

    @extend_schema(responses={201: CommentSerializer})
    def create(self, request):
        data = _body(request)
        layout_id = data.pop("layout", None)
        if isinstance(layout_id, bool) or not isinstance(layout_id, int):
            raise Invalid("layout must be a layout id.", errors={"layout": ["This field is required."]})
        layout = layouts_for_user(user=request.user).filter(pk=layout_id).first()
        if layout is None:
            raise NotFound("No such layout.")
        comment = comment_create(layout=layout, data=data, by=request.user)
        return Response(self._fresh(comment), status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        changes = {k: v for k, v in _body(request).items() if k not in {"id", "layout"}}
        comment = comment_update(comment=self.get_object(), changes=changes, by=request.user)
        return Response(self._fresh(comment))

    def update(self, request, pk=None):
        return self.partial_update(request, pk)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        comment_delete(comment=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: CommentSerializer})
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        """Mark the comment resolved (its author, or an engineer and up)."""
        return Response(self._fresh(comment_resolve(comment=self.get_object(), resolved=True, by=request.user)))

    @extend_schema(request=None, responses={200: CommentSerializer})
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """Reopen a resolved comment (its author, or an engineer and up)."""
        return Response(self._fresh(comment_resolve(comment=self.get_object(), resolved=False, by=request.user)))

    def _fresh(self, comment) -> dict:
        return comment_reprs([comments_for_user(user=self.request.user).get(pk=comment.pk)])[0]
