"""Layouts, their review workflow, the one-request 3D scene and the diff."""
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from ...diff import layout_diff
from ...errors import Invalid, NotFound
from ...models import Factory, Layout
from ...selectors import factories_for_user, layout_scene, layouts_for_user
from ...services.layouts import layout_archive, layout_approve, layout_branch, layout_create, layout_reject, layout_submit, layout_update
from ..fields import body_dict, int_param
from ..renderers import FastJSONRenderer
from ..serializers import BranchSerializer, DiffSerializer, LayoutSerializer, RejectSerializer, SceneSerializer


class LayoutViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_value_regex = r"\d+"
    serializer_class = LayoutSerializer

    def get_queryset(self):
        qs = layouts_for_user(user=self.request.user).order_by("factory_id", "-updated_at", "id")
        if self.action == "list":
            factory = int_param(self.request, "factory")
            if factory is not None:
                qs = qs.filter(factory_id=factory)
            state = self.request.query_params.get("status")
            if state:
                if state not in Layout.Status.values:  # also keeps a NUL byte away from PostgreSQL (a 500)
                    raise Invalid(f"status must be one of {', '.join(Layout.Status.values)}.", errors={"status": ["Not a layout status."]})
                qs = qs.filter(status=state)
        return qs

    @extend_schema(parameters=[OpenApiParameter("factory", int), OpenApiParameter("status", str)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def create(self, request):
        data = body_dict(request)
        factory_id = data.get("factory")
        if isinstance(factory_id, bool) or not isinstance(factory_id, int):
            raise Invalid("factory must be a factory id.", errors={"factory": ["This field is required."]})
        factory = factories_for_user(user=request.user).filter(pk=factory_id).first()
        if factory is None:
            raise NotFound("No such factory.")
        layout = layout_create(factory=factory, name=data.get("name"), description=data.get("description", ""), by=request.user)
        return Response(LayoutSerializer(layout).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        layout = layout_update(layout=self.get_object(), changes=body_dict(request), by=request.user)
        return Response(LayoutSerializer(layout).data)

    @extend_schema(request=BranchSerializer, responses={201: LayoutSerializer})
    @action(detail=True, methods=["post"])
    def branch(self, request, pk=None):
        serializer = BranchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        branch = layout_branch(layout=self.get_object(), by=request.user, **serializer.validated_data)
        return Response(LayoutSerializer(branch).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: LayoutSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return Response(LayoutSerializer(layout_submit(layout=self.get_object(), by=request.user)).data)

    @extend_schema(request=None, responses={200: LayoutSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return Response(LayoutSerializer(layout_approve(layout=self.get_object(), by=request.user)).data)

    @extend_schema(request=RejectSerializer, responses={200: LayoutSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        serializer = RejectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(LayoutSerializer(layout_reject(layout=self.get_object(), by=request.user, reason=serializer.validated_data.get("reason", ""))).data)

    @extend_schema(request=None, responses={200: LayoutSerializer})
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        return Response(LayoutSerializer(layout_archive(layout=self.get_object(), by=request.user)).data)

    @extend_schema(responses={200: SceneSerializer})
    @action(detail=True, methods=["get"], renderer_classes=[FastJSONRenderer])
    def scene(self, request, pk=None):
        return Response(layout_scene(layout=self.get_object(), user=request.user))

    @extend_schema(parameters=[OpenApiParameter("against", int, required=True)], responses={200: DiffSerializer})
    @action(detail=True, methods=["get"])
    def diff(self, request, pk=None):
        layout = self.get_object()
        against_id = int_param(request, "against", required=True)
        against = layouts_for_user(user=request.user).filter(pk=against_id).first()
        if against is None:
            raise NotFound("No such layout to compare against.")
        if against.factory_id != layout.factory_id:
            raise Invalid("Both layouts must belong to the same factory.")
        return Response(layout_diff(layout=layout, against=against))


__all__ = ["LayoutViewSet", "Factory"]
