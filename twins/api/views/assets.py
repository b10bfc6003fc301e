"""Placed assets and connections; every write goes through a service with optimistic concurrency."""
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from ...errors import Invalid, NotFound
from ...selectors import assets_for_user, connections_for_user, layouts_for_user
from ...services.assets import asset_create, asset_delete, asset_update
from ...services.connections import connection_create, connection_delete, connection_update
from ..fields import int_param, request_version
from ..schema import error_response
from ..serializers import AssetSerializer, ConflictSerializer, ConnectionSerializer

CONFLICT = {409: ConflictSerializer}
LOCKED = {423: error_response("Someone else holds the asset's soft lock in the room (they are moving it).")}


def _layout_from_body(request):
    layout_id = request.data.get("layout") if isinstance(request.data, dict) else None
    if isinstance(layout_id, bool) or not isinstance(layout_id, int):
        raise Invalid("layout must be a layout id.", errors={"layout": ["This field is required."]})
    layout = layouts_for_user(user=request.user).filter(pk=layout_id).first()
    if layout is None:
        raise NotFound("No such layout.")
    return layout


def _body(request) -> dict:
    if not isinstance(request.data, dict):
        raise Invalid("The request body must be a JSON object.")
    return dict(request.data)


class _ByLayout(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    def filter_layout(self, qs):
        if self.action == "list":
            layout = int_param(self.request, "layout")
            if layout is not None:
                qs = qs.filter(layout_id=layout)
        return qs.order_by("id")

    @extend_schema(parameters=[OpenApiParameter("layout", int)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


class AssetViewSet(_ByLayout):
    lookup_value_regex = r"\d+"
    serializer_class = AssetSerializer

    def get_queryset(self):
        return self.filter_layout(assets_for_user(user=self.request.user))

    @extend_schema(responses={201: AssetSerializer})
    def create(self, request):
        data = _body(request)
        asset = asset_create(layout=_layout_from_body(request), data={k: v for k, v in data.items() if k != "version"}, by=request.user)
        return Response(AssetSerializer(asset).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: AssetSerializer, **CONFLICT, **LOCKED})
    def partial_update(self, request, pk=None):
        changes = {k: v for k, v in _body(request).items() if k not in {"version", "id", "uid", "layout"}}
        asset = asset_update(asset=self.get_object(), changes=changes, version=request_version(request), by=request.user)
        return Response(AssetSerializer(asset).data)

    @extend_schema(responses={200: AssetSerializer, **CONFLICT, **LOCKED})
    def update(self, request, pk=None):
        return self.partial_update(request, pk)

    @extend_schema(responses={204: None, **CONFLICT, **LOCKED})
    def destroy(self, request, pk=None):
        asset_delete(asset=self.get_object(), version=request_version(request), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConnectionViewSet(_ByLayout):
    lookup_value_regex = r"\d+"
    serializer_class = ConnectionSerializer

    def get_queryset(self):
        return self.filter_layout(connections_for_user(user=self.request.user))

    @extend_schema(responses={201: ConnectionSerializer})
    def create(self, request):
        data = {k: v for k, v in _body(request).items() if k not in {"layout", "version"}}
        connection = connection_create(layout=_layout_from_body(request), data=data, by=request.user)
        return Response(ConnectionSerializer(connection).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: ConnectionSerializer, **CONFLICT})
    def partial_update(self, request, pk=None):
        changes = {k: v for k, v in _body(request).items() if k not in {"version", "id", "uid", "layout"}}
        connection = connection_update(connection=self.get_object(), changes=changes, version=request_version(request), by=request.user)
        return Response(ConnectionSerializer(connection).data)

    @extend_schema(responses={200: ConnectionSerializer, **CONFLICT})
    def update(self, request, pk=None):
        return self.partial_update(request, pk)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        connection_delete(connection=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
