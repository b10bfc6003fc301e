"""Factories, their members, and the asset catalogue."""
from django.db.models import OuterRef, Subquery, Value
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from ...models import AssetType, Factory, Membership, Role
from ...representations import asset_type_repr
from ...selectors import factories_for_user
from ...services.catalogue import asset_type_save, asset_type_set_model
from ...services.factories import factory_create, factory_update, membership_remove, membership_set
from ..fields import body_dict
from ..parsers import FastJSONParser
from ..serializers import (AssetTypeSerializer, DetailSerializer, FactorySerializer, MemberAddedSerializer, MemberPageSerializer,
                           MemberSerializer, ModelUploadSerializer)


class FactoryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_value_regex = r"\d+"
    serializer_class = FactorySerializer

    def get_queryset(self):
        user = self.request.user
        qs = factories_for_user(user=user)
        if not user.is_authenticated:
            return qs
        if user.is_staff:
            return qs.annotate(my_role=Value(Role.OWNER))
        role = Membership.objects.filter(factory=OuterRef("pk"), user=user).values("role")[:1]
        return qs.annotate(my_role=Subquery(role))

    def create(self, request):
        data = body_dict(request)
        factory = factory_create(
            name=data.get("name"), slug=data.get("slug"), description=data.get("description", ""),
            floor_width_m=data.get("floor_width_m", 60.0), floor_depth_m=data.get("floor_depth_m", 40.0), by=request.user,
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=factory.pk)).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        factory = self.get_object()
        factory_update(factory=factory, changes=body_dict(request), by=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=factory.pk)).data)

    # 400 is the schema hook's Error (a failed validation names its fields, without a `detail`).
    @extend_schema(request=MemberSerializer, responses={200: MemberPageSerializer, 201: MemberAddedSerializer,
                                                        403: DetailSerializer, 409: DetailSerializer})
    @action(detail=True, methods=["get", "post"])
    def members(self, request, pk=None):
        factory = self.get_object()
        if request.method == "POST":
            serializer = MemberSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            username, role = serializer.validated_data["username"], serializer.validated_data["role"]
            membership_set(factory=factory, username=username, role=role, by=request.user)
            # The same answer whether or not the account exists (None from the service): no enumeration.
            detail = f"If an account named '{username}' exists, it now has the {role} role in {factory.name}."
            return Response({"username": username, "role": role, "detail": detail}, status=status.HTTP_201_CREATED)
        rows = Membership.objects.filter(factory=factory).select_related("user").order_by("user__username", "pk")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response([{"username": m.user.username, "role": m.role} for m in page])

    @extend_schema(request=None, responses={204: None, 403: DetailSerializer, 404: DetailSerializer, 409: DetailSerializer})
    @action(detail=True, methods=["delete"], url_path=r"members/(?P<username>[\w.@+-]+)")
    def remove_member(self, request, pk=None, username=None):
        membership_remove(factory=self.get_object(), username=username, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AssetTypeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_value_regex = r"\d+"
    serializer_class = AssetTypeSerializer
    queryset = AssetType.objects.all()

    def create(self, request):
        asset_type = asset_type_save(by=request.user, data=body_dict(request))
        return Response(asset_type_repr(asset_type), status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        asset_type = asset_type_save(by=request.user, asset_type=self.get_object(), data=body_dict(request))
        return Response(asset_type_repr(asset_type))

    @extend_schema(request={"multipart/form-data": ModelUploadSerializer}, responses={200: AssetTypeSerializer})
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser, FastJSONParser], url_path="model")
    def upload_model(self, request, pk=None):
        asset_type = get_object_or_404(AssetType, pk=pk)
        upload = request.FILES.get("model_file")
        if upload is None:
            return Response({"detail": "Send the file as multipart field 'model_file'.", "model_file": ["No file was submitted."]}, status=400)
        from django.conf import settings

        if upload.size > settings.MODEL_UPLOAD_MAX_BYTES:
            return Response({"detail": f"The model is larger than {settings.MODEL_UPLOAD_MAX_BYTES // 1_000_000} MB.", "model_file": ["Too large."]}, status=400)
        asset_type = asset_type_set_model(asset_type=asset_type, content=upload.read(), filename=upload.name, by=request.user)
        return Response(asset_type_repr(asset_type))


__all__ = ["FactoryViewSet", "AssetTypeViewSet", "Factory"]
