"""An experiment (CONTRACT.md §8): many points of one layout, each a variant of its parameters that runs as
an ordinary simulation run with the experiment's seed, so that every point uses the same random numbers."""
from django.conf import settings
from django.db import models

from .plant import Layout
from .simulation import SimulationRun


class Experiment(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    layout = models.ForeignKey(Layout, on_delete=models.CASCADE, related_name="experiments")
    layout_revision = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    factors = models.JSONField(default=list)
    objective = models.JSONField(default=dict)
    search = models.JSONField(default=dict)
    params = models.JSONField(default=dict)  # horizon_s, warmup_s, replications, seed, calendar, model
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["layout", "-created_at"])]

    def __str__(self):
        return f"Experiment {self.pk} '{self.name}' of {self.layout} [{self.status}]"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.SUCCEEDED, self.Status.FAILED, self.Status.CANCELLED}


class ExperimentPoint(models.Model):
    """One combination of factor values; `values[k]` is the value of factor k. Its run holds the results."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="points")
    index = models.PositiveIntegerField()
    values = models.JSONField()
    run = models.OneToOneField(SimulationRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="experiment_point")

    class Meta:
        ordering = ["experiment", "index"]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "index"], name="experiment_point_index_once"),
            models.UniqueConstraint(fields=["experiment", "values"], name="experiment_point_values_once"),
        ]

    def __str__(self):
        return f"Point {self.index} of experiment {self.experiment_id}"
