"""A simulation run of one layout revision and its finished replications; the engine lives in twins.simulation."""
from django.conf import settings
from django.db import models

from .plant import Layout


class SimulationRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    layout = models.ForeignKey(Layout, on_delete=models.CASCADE, related_name="simulations")
    layout_revision = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0)
    params = models.JSONField(default=dict)
    results = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    queue = models.CharField(max_length=200, blank=True)  # the Celery queue it runs on ("" = the default)
    attempts = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["layout", "-created_at"])]

    def __str__(self):
        return f"Run {self.pk} of {self.layout} r{self.layout_revision} [{self.status}]"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.SUCCEEDED, self.Status.FAILED, self.Status.CANCELLED}


class SimulationReplication(models.Model):
    """One finished replication of a run that has not ended yet: kept in the database, not in Redis, so that
    a Redis restart loses no finished work. Deleted when the run ends (its results hold what counts)."""

    run = models.ForeignKey(SimulationRun, on_delete=models.CASCADE, related_name="replications")
    index = models.PositiveIntegerField()
    data = models.JSONField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="simulation_replication_once")]

    def __str__(self):
        return f"Replication {self.index} of run {self.run_id}"
