"""Model registry and jobs: model versions, generation/scoring jobs, their outputs and scores.

Every output row is keyed by (job, input key), so a task that runs again after a crash upserts
what it already wrote and skips inputs already done.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class ModelKind(models.TextChoices):
    GENERATOR = "generator", "Generator"
    SCORER = "scorer", "Reward model scorer"
    JUDGE = "judge", "LLM judge"
    SIMILARITY = "similarity", "Pair similarity encoder"


class ModelVersion(models.Model):
    """A model the workers can load from a local folder. At most one active version per kind."""

    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=16, choices=ModelKind.choices)
    path = models.CharField(max_length=1000, help_text="absolute path of the model folder on the workers")
    base = models.CharField(max_length=200, blank=True, default="", help_text="the base model it started from")
    parent = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children")
    export = models.CharField(max_length=500, blank=True, default="", help_text="the export it was trained from")
    training_settings = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                      related_name="registered_models")
    is_active = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    promoted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["kind"], condition=Q(is_active=True), name="one_active_model_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class Job(models.Model):
    """One piece of background work: generation and scoring on the ``gpu`` queue, label exports and
    statistical reports on the ``default`` queue. Its state lives here (the dashboard polls this row), never only in Celery."""

    class Kind(models.TextChoices):
        GENERATION = "generation", "Generation"
        SCORING = "scoring", "Scoring"
        EXPORT = "export", "Label export"
        REPORT = "report", "Statistical report"
        TRAIN = "train", "Training"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    model_version = models.ForeignKey(  # none for an export or a report
        ModelVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="jobs")
    # The target: a study (optionally one of its systems) or an annotation project.
    study = models.ForeignKey("studies.Study", on_delete=models.CASCADE, null=True, blank=True, related_name="jobs")
    system_name = models.CharField(max_length=100, blank=True, default="")
    project = models.ForeignKey("annotations.Project", on_delete=models.CASCADE, null=True, blank=True,
                                related_name="jobs")
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
                                   related_name="ml_jobs")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(study__isnull=True) | Q(project__isnull=True),
                                   name="job_one_target"),
        ]
        indexes = [models.Index(fields=["status", "worker"], name="job_running_idx")]

    def __str__(self) -> str:
        return f"job {self.pk} ({self.kind}, {self.status})"

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
        from django.utils import timezone

        return round(((self.finished_at or timezone.now()) - self.started_at).total_seconds(), 1)


class GeneratedText(models.Model):
    """One generated answer of a generation job, for one prompt (study) or item (project)."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="generations")
    input_key = models.CharField(max_length=64)  # "prompt:<id>" or "item:<id>"
    prompt = models.ForeignKey("studies.Prompt", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    item = models.ForeignKey("annotations.Item", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    text = models.TextField()
    new_tokens = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["job", "id"]
        constraints = [models.UniqueConstraint(fields=["job", "input_key"], name="one_generation_per_job_input")]


class Score(models.Model):
    """A scorer's value for one response (study) or item (project) on one dimension; ``reward`` is the
    combined score. ``value`` is null when the scorer gave none (an unparseable judge answer)."""

    REWARD = "reward"

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="scores")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="scores")
    input_key = models.CharField(max_length=64)  # "response:<id>" or "item:<id>"
    response = models.ForeignKey("studies.Response", on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="scores")
    item = models.ForeignKey("annotations.Item", on_delete=models.CASCADE, null=True, blank=True,
                             related_name="model_scores")
    dimension = models.CharField(max_length=60)
    value = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["job", "id"]
        constraints = [
            models.UniqueConstraint(fields=["job", "input_key", "dimension"], name="one_score_per_job_input_dim"),
        ]
