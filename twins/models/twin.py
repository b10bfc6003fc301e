"""Digital twins: the latest state of each physical machine, its telemetry history and its alarms."""
from django.conf import settings
from django.db import models

from .plant import Factory, Layout


class Twin(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running"
        IDLE = "idle"
        BLOCKED = "blocked"
        STARVED = "starved"
        DOWN = "down"
        OFFLINE = "offline"
        UNKNOWN = "unknown"

    factory = models.ForeignKey(Factory, on_delete=models.CASCADE, related_name="twins")
    key = models.SlugField(max_length=80)
    name = models.CharField(max_length=120)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UNKNOWN)
    values = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["factory", "key"]
        constraints = [models.UniqueConstraint(fields=["factory", "key"], name="twin_key_unique_in_factory")]

    def __str__(self):
        return f"{self.key} ({self.factory.slug})"


class TelemetryPoint(models.Model):
    # The hottest table: every reading is a row. No index of its own (telemetry_series_idx starts with twin and
    # serves every lookup by twin) and no database-level foreign key: its per-row check at commit halves COPY
    # throughput on PostgreSQL. Ingestion resolves twins inside its transaction with the twin rows locked
    # (select_for_update), and deleting a twin deletes its points through the ORM's CASCADE.
    twin = models.ForeignKey(Twin, on_delete=models.CASCADE, related_name="points", db_index=False, db_constraint=False)
    name = models.CharField(max_length=64)
    ts = models.DateTimeField()
    value = models.FloatField(null=True, blank=True)
    text = models.CharField(max_length=64, blank=True)
    anomaly = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["twin", "name", "ts"], name="telemetry_series_idx"), models.Index(fields=["ts"])]

    def __str__(self):
        return f"{self.twin_id}.{self.name}@{self.ts:%Y-%m-%d %H:%M:%S}"


class TelemetryRollup(models.Model):
    """Hourly min/max/mean of raw points older than the retention window."""

    twin = models.ForeignKey(Twin, on_delete=models.CASCADE, related_name="rollups")
    name = models.CharField(max_length=64)
    bucket_start = models.DateTimeField()
    bucket_s = models.PositiveIntegerField(default=3600)
    count = models.PositiveIntegerField()
    min = models.FloatField()
    max = models.FloatField()
    mean = models.FloatField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["twin", "name", "bucket_start", "bucket_s"], name="one_rollup_per_bucket")]
        indexes = [models.Index(fields=["twin", "name", "bucket_start"])]


class AlarmRule(models.Model):
    class Op(models.TextChoices):
        GT = ">"
        LT = "<"

    class Severity(models.TextChoices):
        INFO = "info"
        WARNING = "warning"
        CRITICAL = "critical"

    factory = models.ForeignKey(Factory, on_delete=models.CASCADE, related_name="alarm_rules")
    twin = models.ForeignKey(Twin, on_delete=models.CASCADE, related_name="alarm_rules")
    name = models.CharField(max_length=64, help_text="The telemetry value this rule watches.")
    op = models.CharField(max_length=1, choices=Op.choices)
    threshold = models.FloatField()
    hysteresis = models.FloatField(default=0.0)
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.WARNING)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["factory", "twin", "name"]

    def __str__(self):
        return f"{self.twin.key}.{self.name} {self.op} {self.threshold}"


class Alarm(models.Model):
    """A threshold alarm comes from a rule on one twin's value; a drift alarm (CONTRACT §9) has no rule: it is
    raised on a layout whose output leaves its plan, and names the sink twin where that output is counted."""

    class Kind(models.TextChoices):
        THRESHOLD = "threshold"
        DRIFT = "drift"

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.THRESHOLD)
    rule = models.ForeignKey(AlarmRule, null=True, blank=True, on_delete=models.CASCADE, related_name="alarms")
    twin = models.ForeignKey(Twin, on_delete=models.CASCADE, related_name="alarms")
    layout = models.ForeignKey(Layout, null=True, blank=True, on_delete=models.CASCADE, related_name="alarms")
    severity = models.CharField(max_length=16, choices=AlarmRule.Severity.choices)
    message = models.CharField(max_length=255)
    value = models.FloatField(null=True)
    active = models.BooleanField(default=True)
    raised_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)
    acked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    acked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at"]
        indexes = [models.Index(fields=["twin", "active"]), models.Index(fields=["layout", "kind", "raised_at"], name="alarm_layout_kind_idx")]

    def __str__(self):
        return self.message
