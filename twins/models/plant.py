"""Factories, memberships, the asset catalogue, layouts, placed assets and their connections."""
import uuid

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    ENGINEER = "engineer", "Engineer"
    MANAGER = "manager", "Manager"
    OWNER = "owner", "Owner"

    @classmethod
    def rank(cls, role: str | None) -> int:
        order = [cls.VIEWER, cls.ENGINEER, cls.MANAGER, cls.OWNER]
        return order.index(role) + 1 if role in order else 0


class Factory(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    floor_width_m = models.FloatField(default=60.0, validators=[MinValueValidator(1.0)])
    floor_depth_m = models.FloatField(default=40.0, validators=[MinValueValidator(1.0)])
    baseline_layout = models.ForeignKey("Layout", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # CONTRACT §9: refresh a live forecast of the baseline this often (seconds); null = never (the default).
    forecast_every_s = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "factories"

    def __str__(self):
        return self.name


class Membership(models.Model):
    factory = models.ForeignKey(Factory, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["factory", "user"], name="one_membership_per_factory")]
        ordering = ["factory", "user__username"]

    def __str__(self):
        return f"{self.user} · {self.role} · {self.factory}"


class AssetType(models.Model):
    class Kind(models.TextChoices):
        SOURCE = "source"
        MACHINE = "machine"
        ASSEMBLY = "assembly"  # joins one part from every incoming connection's `quantity` into one (CONTRACT §7)
        BUFFER = "buffer"
        SINK = "sink"
        CONVEYOR = "conveyor"
        ROBOT = "robot"
        OPERATOR = "operator"
        DECOR = "decor"

    name = models.CharField(max_length=80, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    width_m = models.FloatField(default=1.0, validators=[MinValueValidator(0.05)])
    depth_m = models.FloatField(default=1.0, validators=[MinValueValidator(0.05)])
    # CONTRACT §11: the free space this type needs around its footprint (an asset's `clearance_m` param overrides it)
    clearance_m = models.FloatField(default=0.0, validators=[MinValueValidator(0.0)])
    height_m = models.FloatField(default=1.0, validators=[MinValueValidator(0.05)])
    color = models.CharField(max_length=7, default="#8899aa")
    # The model the workspace loads: the upload optimised (meshopt, textures resized) by twins.services.model_optimize;
    # the far level of detail beside it; the upload itself kept as it came; what the optimiser measured.
    model_file = models.FileField(upload_to="asset-models/", blank=True)
    model_far_file = models.FileField(upload_to="asset-models/", blank=True, editable=False)
    model_original = models.FileField(upload_to="asset-models/original/", blank=True, editable=False)
    model_stats = models.JSONField(default=dict, blank=True, editable=False)
    defaults = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self):
        return f"{self.name} ({self.kind})"

    @property
    def model_url(self) -> str | None:
        return self.model_file.url if self.model_file else None

    @property
    def model_far_url(self) -> str | None:
        return self.model_far_file.url if self.model_far_file else None


class Layout(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft"
        IN_REVIEW = "in_review"
        APPROVED = "approved"
        REJECTED = "rejected"
        ARCHIVED = "archived"

    factory = models.ForeignKey(Factory, on_delete=models.CASCADE, related_name="layouts")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="branches")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    revision = models.PositiveIntegerField(default=0)
    # The revision of the last change that can alter simulation results (twins.services.common.is_content_kind):
    # a run of an older revision is stale; renames and review transitions leave it alone.
    content_revision = models.PositiveIntegerField(default=0)
    reject_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["factory", "-updated_at"]
        indexes = [models.Index(fields=["factory", "status"])]

    def __str__(self):
        return f"{self.name} [{self.status}]"

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT


class Asset(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, editable=False)
    layout = models.ForeignKey(Layout, on_delete=models.CASCADE, related_name="assets")
    asset_type = models.ForeignKey(AssetType, on_delete=models.PROTECT, related_name="assets")
    name = models.CharField(max_length=120)
    twin_key = models.CharField(max_length=80, blank=True)
    x = models.FloatField(default=0.0)
    z = models.FloatField(default=0.0)
    rotation_deg = models.FloatField(default=0.0)
    params = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["layout", "id"]
        constraints = [models.UniqueConstraint(fields=["layout", "uid"], name="asset_uid_unique_in_layout")]
        indexes = [models.Index(fields=["layout", "twin_key"])]

    def __str__(self):
        return self.name


class Connection(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, editable=False)
    layout = models.ForeignKey(Layout, on_delete=models.CASCADE, related_name="connections")
    source = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="outgoing")
    target = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="incoming")
    buffer_capacity = models.PositiveIntegerField(null=True, blank=True)
    transport_speed_mps = models.FloatField(null=True, blank=True, validators=[MinValueValidator(0.001)])
    weight = models.FloatField(default=1.0, validators=[MinValueValidator(0.0)])
    # CONTRACT §7: the part types this connection accepts (null = every type), and how many parts of it an
    # assembly target takes per cycle (other targets ignore it).
    part_types = models.JSONField(null=True, blank=True, default=None)
    quantity = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["layout", "id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "target"], name="one_connection_per_pair"),
            models.CheckConstraint(condition=~models.Q(source=models.F("target")), name="connection_not_to_itself"),
        ]

    def __str__(self):
        return f"{self.source} → {self.target}"
