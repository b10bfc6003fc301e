"""Shapes of the collaboration endpoints for validation docs and the OpenAPI schema; output is built by
the services' representations so that REST responses and room events carry the same JSON."""
from rest_framework import serializers


class CameraSerializer(serializers.Serializer):
    p = serializers.ListField(child=serializers.FloatField(), min_length=3, max_length=3, help_text="Camera position [x, y, z] in metres.")
    q = serializers.ListField(child=serializers.FloatField(), min_length=4, max_length=4, help_text="Camera orientation quaternion [x, y, z, w].")


class CommentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    layout = serializers.IntegerField(help_text="Layout id; required on create, fixed afterwards.")
    author = serializers.CharField(read_only=True, help_text="Username of the author.")
    author_id = serializers.IntegerField(read_only=True)
    text = serializers.CharField(max_length=4000, help_text="Up to 4,000 characters; @username mentions members.")
    asset = serializers.IntegerField(allow_null=True, required=False, help_text="Pinned to this asset of the same layout, or null.")
    position = serializers.ListField(child=serializers.FloatField(), min_length=3, max_length=3, allow_null=True, required=False,
                                     help_text="Pinned to this 3D point [x, y, z], or null.")
    camera = CameraSerializer(allow_null=True, required=False, help_text="The author's view, to go back to it.")
    resolved = serializers.BooleanField(required=False, help_text="PATCH true/false resolves/reopens (author or engineer+).")
    parent = serializers.IntegerField(allow_null=True, required=False, help_text="Thread root this replies to (same layout).")
    mentions = serializers.ListField(child=serializers.CharField(), read_only=True, help_text="Mentioned usernames that are members.")
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class AuditEntrySerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    factory = serializers.IntegerField()
    ts = serializers.DateTimeField()
    actor = serializers.CharField()
    action = serializers.CharField(help_text="e.g. asset.update, layout.create, comment.create, member.set")
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    layout = serializers.IntegerField(allow_null=True)
    data = serializers.JSONField()
    prev_hash = serializers.CharField()
    hash = serializers.CharField()


class AuditHeadSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    hash = serializers.CharField()
    source = serializers.ChoiceField(choices=["database", "anchor_file"], help_text="Where this head was recorded.")


class AuditVerifySerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    checked = serializers.IntegerField(help_text="Entries read, up to and including the first bad one.")
    first_bad = serializers.IntegerField(allow_null=True, help_text="seq of the first entry that does not match (a deleted entry: its seq; "
                                                                    "entries deleted from the end: the first missing seq).")
    reason = serializers.ChoiceField(
        required=False, choices=["missing", "link", "content", "truncated", "head_mismatch", "beyond_head", "head_missing", "anchor_mismatch"],
        help_text="Only when not ok: what is wrong at first_bad.")
    message = serializers.CharField(required=False, help_text="Only when not ok: what happened, in words.")
    expected_head = AuditHeadSerializer(required=False, help_text="Only for a problem at the end of the chain: the newest entry as recorded.")


class ScenarioSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    factory = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    parent = serializers.IntegerField(allow_null=True)
    parent_name = serializers.CharField(allow_null=True)
    status = serializers.CharField()
    revision = serializers.IntegerField()
    content_revision = serializers.IntegerField(help_text="Revision of the last change that can alter simulation results "
                                                "(assets, connections); runs of an older revision are stale.")
    reject_reason = serializers.CharField()
    created_by = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    is_baseline = serializers.BooleanField()
    comments = serializers.DictField(help_text="{total, open}")
    latest_simulation = serializers.DictField(allow_null=True, help_text="Latest succeeded run: {id, status, layout_revision, stale (layout_revision < the layout's "
                                              "content_revision), params, "
                                              "created_at, finished_at, kpis {throughput_per_hour, lead_time_s, wip, bottleneck, "
                                              "bottleneck_utilization, replications}}")
    last_run = serializers.DictField(allow_null=True, help_text="Most recent run of any status: {id, status, progress}")


class CompareSerializer(serializers.Serializer):
    layout = serializers.DictField()
    against = serializers.DictField()
    runs = serializers.DictField(help_text="{layout: run summary or null, against: run summary or null}")
    same_params = serializers.BooleanField(allow_null=True, help_text="Both runs used the same horizon, warm-up, replications and seed.")
    kpis = serializers.ListField(child=serializers.DictField(), help_text="[{key, label, unit, better, layout {mean, ci95, n}, against {…}, "
                                 "delta, delta_pct, improved, significant, p_value, intervals_overlap, method}]")
    alpha = serializers.FloatField()
