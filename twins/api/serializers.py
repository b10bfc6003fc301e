"""Serializers describe the REST shapes for validation and the OpenAPI schema; output goes through
twins.representations so that REST and websocket events carry the same bytes."""
from rest_framework import serializers

from ..models import Asset, AssetType, Connection, Factory, Layout, Membership, Role
from ..representations import asset_repr, asset_type_repr, connection_repr, layout_repr


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False)


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True, help_text="null unless API_TOKEN_TTL_S is set.")


class FactorySerializer(serializers.ModelSerializer):
    my_role = serializers.SerializerMethodField()

    class Meta:
        model = Factory
        fields = ["id", "name", "slug", "description", "floor_width_m", "floor_depth_m", "baseline_layout", "forecast_every_s", "my_role"]
        read_only_fields = ["id", "baseline_layout", "my_role"]
        extra_kwargs = {"slug": {"required": False, "validators": []}}

    def get_my_role(self, obj) -> str | None:
        return getattr(obj, "my_role", None)


class MemberSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=Role.choices)


class MemberPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = MemberSerializer(many=True)


class MemberAddedSerializer(MemberSerializer):
    detail = serializers.CharField(help_text="Worded the same whether or not an account of that name exists.")


class AssetTypeSerializer(serializers.ModelSerializer):
    model_url = serializers.CharField(read_only=True, allow_null=True)
    model_far_url = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = AssetType
        fields = ["id", "name", "kind", "width_m", "depth_m", "height_m", "clearance_m", "color", "model_url", "model_far_url", "defaults"]

    def to_representation(self, instance):
        return asset_type_repr(instance)


class ModelUploadSerializer(serializers.Serializer):
    model_file = serializers.FileField()


class LayoutSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Layout
        fields = ["id", "factory", "name", "description", "parent", "status", "revision", "content_revision", "reject_reason", "created_by", "created_at", "updated_at"]
        read_only_fields = ["id", "parent", "status", "revision", "content_revision", "reject_reason", "created_by", "created_at", "updated_at"]

    def to_representation(self, instance):
        return layout_repr(instance)


class BranchSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class AssetSerializer(serializers.ModelSerializer):
    uid = serializers.UUIDField(required=False)
    params = serializers.JSONField(required=False)
    version = serializers.IntegerField(required=False, help_text="Required for PATCH/PUT/DELETE unless If-Match is sent.")

    class Meta:
        model = Asset
        fields = ["id", "uid", "layout", "asset_type", "name", "twin_key", "x", "z", "rotation_deg", "params", "version"]
        read_only_fields = ["id"]

    def to_representation(self, instance):
        return asset_repr(instance)


class ConnectionSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(required=False)
    part_types = serializers.ListField(child=serializers.CharField(max_length=64), allow_null=True, required=False,
                                       help_text="The part types this connection accepts; null = every type.")
    quantity = serializers.IntegerField(min_value=1, max_value=1000, required=False, help_text="Parts an assembly target takes from this connection per cycle.")

    class Meta:
        model = Connection
        fields = ["id", "uid", "layout", "source", "target", "buffer_capacity", "transport_speed_mps", "weight", "part_types", "quantity", "version"]
        read_only_fields = ["id", "uid"]

    def to_representation(self, instance):
        return connection_repr(instance)


class SceneSerializer(serializers.Serializer):
    layout = serializers.DictField()
    asset_types = serializers.ListField(child=serializers.DictField())
    assets = serializers.ListField(child=serializers.DictField())
    connections = serializers.ListField(child=serializers.DictField())
    twins = serializers.ListField(child=serializers.DictField())
    seq = serializers.IntegerField()


class DiffSerializer(serializers.Serializer):
    added = serializers.ListField(child=serializers.DictField())
    removed = serializers.ListField(child=serializers.DictField())
    moved = serializers.ListField(child=serializers.DictField())
    changed = serializers.ListField(child=serializers.DictField())
    connections = serializers.DictField()


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    current = serializers.DictField()


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


__all__ = ["Membership"]
