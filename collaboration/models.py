"""Comments pinned in 3D and the tamper-evident, per-factory audit chain."""
from django.conf import settings
from django.db import models

from twins.models import Asset, Factory, Layout


class Comment(models.Model):
    layout = models.ForeignKey(Layout, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(max_length=4000)
    asset = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.SET_NULL, related_name="comments")
    position = models.JSONField(null=True, blank=True)
    camera = models.JSONField(null=True, blank=True)
    resolved = models.BooleanField(default=False)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies")
    mentions = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["layout", "created_at"])]

    def __str__(self):
        return f"{self.author}: {self.text[:40]}"


class AuditEntry(models.Model):
    """One link of a factory's hash chain: hash = sha256(prev_hash + canonical JSON of the content)."""

    factory = models.ForeignKey(Factory, on_delete=models.CASCADE, related_name="audit_entries")
    seq = models.PositiveIntegerField()
    ts = models.DateTimeField()
    actor = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=32, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    layout_id_ref = models.PositiveBigIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["factory", "seq"]
        verbose_name_plural = "audit entries"
        constraints = [models.UniqueConstraint(fields=["factory", "seq"], name="audit_seq_unique_in_factory")]

    def __str__(self):
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id} by {self.actor}"


class AuditHead(models.Model):
    """The newest link of a factory's chain, moved by every append in the same transaction: deleting the
    newest entries leaves it pointing past the end of the chain, which a shorter valid chain cannot show."""

    factory = models.OneToOneField(Factory, on_delete=models.CASCADE, primary_key=True, related_name="audit_head")
    seq = models.PositiveIntegerField()
    hash = models.CharField(max_length=64)
    updated_at = models.DateTimeField()

    def __str__(self):
        return f"head of factory {self.factory_id}: #{self.seq} {self.hash[:12]}"
