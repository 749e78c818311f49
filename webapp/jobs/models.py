"""The Job row: one piece of background work, its state (the pages poll this row, never Celery), its
progress and heartbeat, and its target (any registered model row, see the package docstring)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone


def targeting(target: models.Model) -> models.Q:
    """The filter for the jobs whose target is ``target`` (``Job.objects.filter(targeting(study))``)."""
    return models.Q(target_type=ContentType.objects.get_for_model(target), target_id=target.pk)


class Queue(models.TextChoices):
    """Queues by hardware: ``gpu`` for generation, scoring and training; ``default`` for the rest."""

    DEFAULT = "default", "Default"
    GPU = "gpu", "GPU"


class Job(models.Model):
    """One job of a registered kind (``webapp.jobs.registry``). ``kind`` has no database choices: the
    apps register their kinds, and a launch refuses a kind nobody registered."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    kind = models.CharField(max_length=32)
    queue = models.CharField(max_length=16, choices=Queue.choices, default=Queue.DEFAULT)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    target_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    target_id = models.PositiveBigIntegerField(null=True, blank=True)
    target = GenericForeignKey("target_type", "target_id")
    params = models.JSONField(default=dict, blank=True)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    result = models.JSONField(default=dict, blank=True)
    cancel_requested = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True, default="", help_text="the worker holding the job")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="jobs")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "worker"], name="jobs_running_idx"),
                   models.Index(fields=["target_type", "target_id"], name="jobs_target_idx")]

    def __str__(self) -> str:
        return f"job {self.pk} ({self.kind}, {self.status})"

    @property
    def spec(self):
        """The registered kind (``registry.JobKind``); ``LookupError`` for a kind nobody registered."""
        from webapp.jobs.registry import job_kind

        return job_kind(self.kind)

    def get_kind_display(self) -> str:
        from webapp.jobs.registry import job_kinds

        found = job_kinds().get(self.kind)
        return found.label if found else self.kind

    @property
    def described(self) -> dict:
        """What the kind says about this job for the pages: ``{"with": ..., "note": ...}`` (both optional)."""
        from webapp.jobs.registry import job_kinds

        found = job_kinds().get(self.kind)
        return found.describe(self) if found and found.describe else {}

    @property
    def target_name(self) -> str:
        """The registered name of the target's kind (``project``, ``study``), or ``""``."""
        from webapp.jobs.registry import target_for_model

        found = target_for_model(type(self.target)) if self.target is not None else None
        return found.name if found else ""

    @property
    def target_url(self) -> str:
        from webapp.jobs.registry import target_for_model

        found = target_for_model(type(self.target)) if self.target is not None else None
        return found.url(self.target) if found and found.url else ""

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def percent(self) -> float:
        return round(100 * self.done / self.total, 1) if self.total else (100.0 if self.is_finished else 0.0)

    @property
    def seconds(self) -> float | None:
        if self.started_at is None:
            return None
        return round(((self.finished_at or timezone.now()) - self.started_at).total_seconds(), 1)
