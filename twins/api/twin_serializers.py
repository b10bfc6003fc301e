"""REST shapes of the digital twin (for validation docs and the OpenAPI schema); output goes through
twins.services.telemetry_repr so that REST and websocket frames carry the same fields."""
from rest_framework import serializers

from ..models import Alarm, AlarmRule, Twin
from ..services.telemetry_repr import alarm_repr, alarm_rule_repr, twin_repr


class TwinSerializer(serializers.ModelSerializer):
    values = serializers.DictField(read_only=True)

    class Meta:
        model = Twin
        fields = ["id", "factory", "key", "name", "status", "values", "updated_at"]
        read_only_fields = ["id", "status", "values", "updated_at"]

    def to_representation(self, instance):
        return twin_repr(instance)


class TelemetryPointSerializer(serializers.Serializer):
    twin = serializers.CharField(help_text="The twin's key.")
    ts = serializers.CharField(required=False, help_text="ISO-8601 (UTC) or epoch milliseconds; absent = now.")
    values = serializers.DictField(help_text="{name: number or string}; `status` may hold a status word.")


class TelemetryBatchSerializer(serializers.Serializer):
    factory = serializers.IntegerField()
    points = TelemetryPointSerializer(many=True)


class AcceptedSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()


class HistorySerializer(serializers.Serializer):
    name = serializers.CharField()
    bucket_s = serializers.IntegerField()
    t = serializers.ListField(child=serializers.IntegerField(), help_text="Bucket starts, epoch milliseconds.")
    min = serializers.ListField(child=serializers.FloatField())
    max = serializers.ListField(child=serializers.FloatField())
    mean = serializers.ListField(child=serializers.FloatField())
    count = serializers.ListField(child=serializers.IntegerField())
    anomalies = serializers.ListField(child=serializers.DictField(), help_text="[{t (epoch ms), value}]")


class AlarmRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = AlarmRule
        fields = ["id", "factory", "twin", "name", "op", "threshold", "hysteresis", "severity", "enabled"]
        read_only_fields = ["id"]

    def to_representation(self, instance):
        return alarm_rule_repr(instance)


class AlarmSerializer(serializers.ModelSerializer):
    key = serializers.CharField(read_only=True)
    acked_by = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Alarm
        fields = ["id", "twin", "key", "rule", "kind", "layout", "severity", "message", "value", "active", "raised_at", "cleared_at", "acked_by", "acked_at"]
        read_only_fields = fields

    def to_representation(self, instance):
        return alarm_repr(instance)
