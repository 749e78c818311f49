"""Job writes: launch (validate, create, enqueue after commit), cancel, and the state changes a
worker makes (claim, progress, finish, recover). Tasks call these; nothing else changes a Job."""

from __future__ import annotations

import logging
import math
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ml.core.scores import COMBINE_RULES, PERM_DIMENSIONS, judge_param_clean
from ml.models import Job, ModelKind, ModelVersion
from ml.services.inputs import (
    DEFAULT_SYSTEM_PROMPT,
    GENERATION_ITEM_KINDS,
    SCORING_ITEM_KINDS,
    SIMILARITY_ITEM_KINDS,
)

log = logging.getLogger(__name__)

TASK_FOR_KIND = {
    Job.Kind.GENERATION: "ml.tasks.gpu_generate",
    Job.Kind.SCORING: "ml.tasks.gpu_score",
    Job.Kind.EXPORT: "ml.tasks.export_labels",  # the default queue
    Job.Kind.REPORT: "ml.tasks.build_report",  # the default queue
    Job.Kind.TRAIN: "ml.tasks.gpu_train",
}
MODEL_KINDS_FOR_JOB = {Job.Kind.GENERATION: (ModelKind.GENERATOR,),
                       Job.Kind.SCORING: (ModelKind.SCORER, ModelKind.JUDGE, ModelKind.SIMILARITY)}
QUEUE_UNREACHABLE = "the job queue is not reachable: "
# How long a running job may go without a heartbeat before another worker may take it over.
STALE_AFTER_SECONDS = int(getattr(settings, "RESONANCE_JOB_STALE_SECONDS", 30 * 60))
BROKER_CONNECT_TIMEOUT = 2  # seconds: a launch never hangs on a dead broker

GENERATION_DEFAULTS = {"max_new_tokens": 64, "temperature": 0.7, "top_p": 0.9, "seed": 0, "batch_size": 32,
                       "system_prompt": DEFAULT_SYSTEM_PROMPT}
SCORING_DEFAULTS = {"batch_size": 32, "combine": "mean"}
# name: (type, minimum, maximum)
NUMBER_LIMITS = {"max_new_tokens": (int, 1, 4096), "temperature": (float, 0.0, 5.0), "top_p": (float, 0.01, 1.0),
                 "seed": (int, 0, 2**31 - 1), "batch_size": (int, 1, 1024)}


class JobError(ValueError):
    """A job cannot be launched or changed as asked; the message says which field and why."""


def params_clean(*, kind: str, raw: dict | None) -> dict:
    """Validates job parameters and fills defaults. Unknown keys are refused (typos must not pass silently).

    generation: max_new_tokens, temperature (0 = greedy), top_p, seed, batch_size, system_prompt.
    scoring: batch_size, combine (mean, weighted, geometric, harmonic), weights {dimension: w},
    dimensions (reward model outputs, in order) or perspectives (judge), default the four PERM ones;
    for a judge, judge_mode (expected, the default, or parsed) and rubrics {perspective: text}.
    """
    raw = dict(raw or {})
    if kind == Job.Kind.GENERATION:
        clean = dict(GENERATION_DEFAULTS)
        allowed = set(GENERATION_DEFAULTS)
    else:
        clean = {**SCORING_DEFAULTS, "dimensions": list(PERM_DIMENSIONS)}
        allowed = {"batch_size", "combine", "weights", "dimensions", "perspectives", "judge_mode", "rubrics"}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise JobError(f"params.{unknown[0]}: is not a parameter of a {kind} job (known: {', '.join(sorted(allowed))})")
    for name, value in raw.items():
        if name in NUMBER_LIMITS:
            clean[name] = number_clean(name, value, *NUMBER_LIMITS[name])
        elif name == "system_prompt":
            clean[name] = str(value)
        elif name == "combine":
            if value not in COMBINE_RULES:
                raise JobError(f"params.combine: must be one of {', '.join(COMBINE_RULES)}")
            clean[name] = value
        elif name in {"dimensions", "perspectives"}:
            if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
                raise JobError(f"params.{name}: must be a non-empty list of names")
            if "reward" in value or len(set(value)) != len(value):
                raise JobError(f"params.{name}: names must be distinct and not 'reward'")
            clean["dimensions"] = [v.strip() for v in value]
        elif name in {"judge_mode", "rubrics"}:
            try:
                clean[name] = judge_param_clean(name, value)
            except ValueError as exc:
                raise JobError(str(exc)) from None
        elif name == "weights":
            if not isinstance(value, dict) or not all(isinstance(w, int | float) and w >= 0 for w in value.values()):
                raise JobError("params.weights: must map dimension names to non-negative numbers")
            clean[name] = {str(k): float(w) for k, w in value.items()}
    if clean.get("combine") == "weighted" and not clean.get("weights"):
        raise JobError("params.weights: the weighted combination needs weights")
    stray = sorted(set(clean.get("rubrics") or {}) - set(clean.get("dimensions") or ()))
    if stray:
        raise JobError(f"params.rubrics.{stray[0]}: is not one of the job's perspectives")
    return clean


def number_clean(name: str, value, cast: type, low: float, high: float) -> int | float:
    """``value`` as a ``cast`` from ``low`` to ``high``; ``JobError`` naming ``params.<name>`` otherwise."""
    try:
        number = cast(value)
    except (TypeError, ValueError) as exc:
        raise JobError(f"params.{name}: {value!r} is not a number") from exc
    if isinstance(number, float) and not math.isfinite(number) or not low <= number <= high:
        raise JobError(f"params.{name}: must be between {low} and {high}")
    return number


def job_queue(**fields) -> Job:
    """Creates the job row and publishes its task once the transaction commits (a launch's last step)."""
    job = Job.objects.create(**fields)
    transaction.on_commit(lambda: job_enqueue(job_id=job.pk))
    return job


@transaction.atomic
def job_launch(
    *,
    kind: str,
    model_version: ModelVersion,
    created_by,
    study=None,
    system_name: str = "",
    project=None,
    params: dict | None = None,
) -> Job:
    """Creates a queued job and enqueues it once the transaction commits.

    The caller has checked that ``created_by`` may use ``study`` / ``project`` (selectors). A
    generation job on a study writes one system's responses: ``system_name``, or the study's system
    whose model version is ``model_version``; the study must be closed. Raises ``JobError``.
    """
    if kind not in MODEL_KINDS_FOR_JOB:
        raise JobError(f"kind: must be one of {', '.join(MODEL_KINDS_FOR_JOB)}")
    if model_version.kind not in MODEL_KINDS_FOR_JOB[kind]:
        wanted = " or ".join(MODEL_KINDS_FOR_JOB[kind])
        raise JobError(f"model_version: {model_version.name} is a {model_version.kind}; a {kind} job needs a {wanted}")
    if (study is None) == (project is None):
        raise JobError("target: give either a study or an annotation project")
    clean = params_clean(kind=kind, raw=params)
    system_name = (system_name or "").strip()
    if study is not None:
        if model_version.kind == ModelKind.SIMILARITY:
            raise JobError(
                f"target: {model_version.name} is a similarity model; it scores the pair items of an "
                "annotation project, not a study's responses"
            )
        system_name = _check_study_target(kind=kind, study=study, system_name=system_name, version=model_version)
    else:
        kinds = _item_kinds_for(kind=kind, model_kind=model_version.kind)
        if not project.items.filter(role="task", kind__in=kinds).exists():
            raise JobError(f"project: {project.slug} has no items a {kind} job can use (kinds {', '.join(kinds)})")
    return job_queue(kind=kind, model_version=model_version, study=study, system_name=system_name,
                     project=project, params=clean, created_by=created_by)


def _item_kinds_for(*, kind: str, model_kind: str) -> tuple[str, ...]:
    if kind == Job.Kind.GENERATION:
        return GENERATION_ITEM_KINDS
    return SIMILARITY_ITEM_KINDS if model_kind == ModelKind.SIMILARITY else SCORING_ITEM_KINDS


def _check_study_target(*, kind: str, study, system_name: str, version: ModelVersion) -> str:
    systems = study.systems.all()
    if kind == Job.Kind.GENERATION:
        if study.is_open:
            raise JobError(f"study: {study.slug} is open; close it before generating new responses")
        if not system_name:
            match = systems.filter(model_version_id=version.pk).first()
            if match is None:
                raise JobError(f"system: name the system of {study.slug} to fill (none is linked to model "
                               f"version {version.pk})")
            return match.name
    if system_name and not systems.filter(name=system_name).exists():
        raise JobError(f"system: {system_name!r} is not a system of study {study.slug}")
    if kind == Job.Kind.GENERATION and not study.prompts.exists():
        raise JobError(f"study: {study.slug} has no prompts")
    if kind == Job.Kind.SCORING:
        responses = study.responses.all()
        if system_name:
            responses = responses.filter(system__name=system_name)
        if not responses.exists():
            raise JobError(f"study: {study.slug} has no responses{' from ' + system_name if system_name else ''} to score")
    return system_name


def job_enqueue(*, job_id: int) -> bool:
    """Publishes the job's task. Never blocks long: a broker that cannot be reached within a couple of
    seconds marks the job failed with "the job queue is not reachable: ..." and returns False."""
    from webapp.celery import app

    job = Job.objects.filter(pk=job_id).only("kind").first()
    if job is None:
        return False
    try:
        # A fresh connection with short timeouts, so a dead broker fails fast instead of retrying.
        with app.connection_for_write(
            connect_timeout=BROKER_CONNECT_TIMEOUT,
            transport_options={"socket_connect_timeout": BROKER_CONNECT_TIMEOUT, "socket_timeout": 5,
                               "max_retries": 0},
        ) as connection:
            connection.ensure_connection(max_retries=1, timeout=BROKER_CONNECT_TIMEOUT)
            app.send_task(TASK_FOR_KIND[job.kind], args=[job_id], connection=connection, retry=False)
    except Exception as exc:  # noqa: BLE001 - any failure to publish is reported on the job, in words
        log.warning("job %s could not be enqueued: %s", job_id, exc)
        job_finish(job_id=job_id, status=Job.Status.FAILED, error=f"{QUEUE_UNREACHABLE}{exc}")
        return False
    return True


@transaction.atomic
def job_requeue(*, job: Job) -> Job:
    """Puts a failed or cancelled job back in the queue (its finished inputs stay done)."""
    job = Job.objects.select_for_update().get(pk=job.pk)
    if job.status not in (Job.Status.FAILED, Job.Status.CANCELLED):
        raise JobError(f"status: only failed or cancelled jobs can be retried (this one is {job.status})")
    job.status, job.error, job.cancel_requested, job.finished_at, job.worker = Job.Status.QUEUED, "", False, None, ""
    job.save(update_fields=["status", "error", "cancel_requested", "finished_at", "worker"])
    transaction.on_commit(lambda: job_enqueue(job_id=job.pk))
    return job


@transaction.atomic
def job_cancel(*, job: Job) -> Job:
    """A queued job is cancelled at once; a running one stops after its current batch."""
    job = Job.objects.select_for_update().get(pk=job.pk)
    if job.status == Job.Status.QUEUED:
        job.status, job.finished_at, job.cancel_requested = Job.Status.CANCELLED, timezone.now(), True
        job.save(update_fields=["status", "finished_at", "cancel_requested"])
    elif job.status == Job.Status.RUNNING:
        job.cancel_requested = True
        job.save(update_fields=["cancel_requested"])
    return job


@transaction.atomic
def job_claim(*, job_id: int, worker: str) -> Job | None:
    """Marks the job running on ``worker`` and returns it, or None when there is nothing to do: it is
    gone, finished, cancelled (then marked so), or held by another worker whose heartbeat is fresh."""
    job = Job.objects.select_for_update().filter(pk=job_id).first()
    if job is None or job.is_finished:
        return None
    now = timezone.now()
    if job.cancel_requested:
        job.status, job.finished_at = Job.Status.CANCELLED, now
        job.save(update_fields=["status", "finished_at"])
        return None
    fresh = job.heartbeat_at is not None and now - job.heartbeat_at < timedelta(seconds=STALE_AFTER_SECONDS)
    if job.status == Job.Status.RUNNING and job.worker != worker and fresh:
        return None
    job.status, job.worker, job.heartbeat_at, job.error = Job.Status.RUNNING, worker, now, ""
    job.started_at = job.started_at or now
    job.attempts += 1
    job.save(update_fields=["status", "worker", "heartbeat_at", "error", "started_at", "attempts"])
    return job


@transaction.atomic
def job_progress(*, job_id: int, worker: str, done: int, total: int) -> bool:
    """Records progress and a heartbeat; returns False when the job should stop (cancel requested, or
    another worker has taken it over)."""
    job = Job.objects.select_for_update().only("status", "worker", "cancel_requested").get(pk=job_id)
    if job.status != Job.Status.RUNNING or job.worker != worker:
        return False
    Job.objects.filter(pk=job_id).update(done=done, total=total, heartbeat_at=timezone.now())
    return not job.cancel_requested


@transaction.atomic
def job_finish(*, job_id: int, status: str, error: str = "", result: dict | None = None) -> Job | None:
    """Ends the job with ``status`` (succeeded, failed or cancelled) and the error in words."""
    job = Job.objects.select_for_update().filter(pk=job_id).first()
    if job is None:
        return None
    job.status, job.error, job.finished_at = status, error[:4000], timezone.now()
    fields = ["status", "error", "finished_at"]
    if result is not None:
        job.result = {**job.result, **result}
        fields.append("result")
    job.save(update_fields=fields)
    return job


def jobs_recover(*, worker: str | None = None, stale_after_seconds: int = STALE_AFTER_SECONDS) -> list[int]:
    """Re-enqueues running jobs whose worker died: those last held by ``worker`` (called as that worker
    starts, so they cannot be running there) and those with no heartbeat for ``stale_after_seconds``
    (also swept every few minutes by beat: ``ml.tasks.recover_stale_jobs``). Their finished inputs
    stay done. Returns the job ids."""
    cutoff = timezone.now() - timedelta(seconds=stale_after_seconds)
    orphaned = Q(heartbeat_at__lt=cutoff) | (Q(worker=worker) if worker else Q(pk__in=[]))
    with transaction.atomic():
        orphans = list(
            Job.objects.select_for_update()
            .filter(status=Job.Status.RUNNING)
            .filter(orphaned)
            .values_list("pk", flat=True)
        )
        Job.objects.filter(pk__in=orphans).update(status=Job.Status.QUEUED, worker="")
        for job_id in orphans:
            transaction.on_commit(lambda job_id=job_id: job_enqueue(job_id=job_id))
    return orphans
