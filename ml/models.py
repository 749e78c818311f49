"""Model registry and model jobs: model versions, the model side of generation/scoring/training jobs,
their outputs and scores.

Every output row is keyed by (job, input key), so a task that runs again after a crash upserts
what it already wrote and skips inputs already done.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from webapp.jobs.models import Job


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


class MlJobKind(models.TextChoices):
    """The kinds of job ml registers (``ml.jobs``); all run on the ``gpu`` queue."""

    GENERATION = "generation", "Generation"
    SCORING = "scoring", "Scoring"
    TRAIN = "train", "Training"


class ModelJob(Job):
    """The model side of a generation, scoring or training job (a child row of the job system's ``Job``):
    the model version it runs (or trains from), which cannot be deleted while the job exists, and for a
    study generation the system it fills. Its target is a study or an annotation project."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="jobs")
    system_name = models.CharField(max_length=100, blank=True, default="")

    @classmethod
    def of(cls, job: Job) -> ModelJob:
        """The model job of ``job`` (itself when it already is one); DoesNotExist for a job of another kind."""
        return job if isinstance(job, cls) else cls.objects.select_related("model_version").get(pk=job.pk)

    def _target_of(self, model) -> object | None:
        target = self.target
        return target if isinstance(target, model) else None

    @property
    def study(self):
        from studies.models import Study

        return self._target_of(Study)

    @property
    def project(self):
        from annotations.models import Project

        return self._target_of(Project)

    @property
    def study_id(self) -> int | None:
        return self.target_id if self.study is not None else None

    @property
    def project_id(self) -> int | None:
        return self.target_id if self.project is not None else None


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
    answer = models.TextField(blank=True, default="")  # an LLM judge's raw answer it was parsed from
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["job", "id"]
        constraints = [
            models.UniqueConstraint(fields=["job", "input_key", "dimension"], name="one_score_per_job_input_dim"),
        ]
