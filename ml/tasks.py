"""Celery tasks: thin. A job id comes in, ``ml.services.job_run`` does the work on the job row.

``ml.tasks.gpu_*`` are routed to the ``gpu`` queue (webapp/celery.py). Effects are idempotent
(upserts keyed by job and input), so ``acks_late`` redelivery and retries are safe. When a worker
starts, jobs it held before it died are re-enqueued (``jobs_recover``): the broker cannot be
trusted to redeliver them (the filesystem transport forgets a fetched message, Redis waits for
its visibility timeout). Jobs of a worker that never returns are swept by beat
(``recover_stale_jobs``) once their heartbeat is stale.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_ready

from ml.services import job_finish, job_run, jobs_recover
from ml.services.running import TRANSIENT_ERRORS

log = logging.getLogger(__name__)

MAX_RETRIES = 5
BACKOFF_SECONDS = (5, 15, 45, 120, 300)


def _run(task, job_id: int) -> str:
    worker = task.request.hostname or "unknown-worker"
    try:
        job = job_run(job_id=int(job_id), worker=worker)
    except TRANSIENT_ERRORS as exc:
        retries = task.request.retries
        if retries >= MAX_RETRIES:
            job_finish(job_id=job_id, status="failed", error=f"gave up after {retries + 1} tries: {exc}")
            return "failed"
        log.warning("job %s hit a transient error (%s); retry %s", job_id, exc, retries + 1)
        raise task.retry(exc=exc, countdown=BACKOFF_SECONDS[min(retries, len(BACKOFF_SECONDS) - 1)],
                         max_retries=MAX_RETRIES) from exc
    return "skipped" if job is None else job.status


@shared_task(bind=True, name="ml.tasks.gpu_generate", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def gpu_generate(self, job_id: int) -> str:
    """Generates responses for a generation job's prompts or items."""
    return _run(self, job_id)


@shared_task(bind=True, name="ml.tasks.gpu_score", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def gpu_score(self, job_id: int) -> str:
    """Scores a scoring job's responses or items."""
    return _run(self, job_id)


@shared_task(bind=True, name="ml.tasks.gpu_train", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def gpu_train(self, job_id: int) -> str:
    """Trains a new model version from a training job's frozen snapshot, in a child process."""
    return _run(self, job_id)


@shared_task(bind=True, name="ml.tasks.export_labels", acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)
def export_labels(self, job_id: int) -> str:
    """Writes an export job's label file (the default queue: no GPU needed)."""
    return _run(self, job_id)


@shared_task(bind=True, name="ml.tasks.build_report", acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)
def build_report(self, job_id: int) -> str:
    """Computes a report job's statistics and writes them as JSON (the default queue: no GPU needed)."""
    return _run(self, job_id)


@shared_task(name="ml.tasks.recover_stale_jobs", ignore_result=True)
def recover_stale_jobs() -> list[int]:
    """Run by beat (``CELERY_BEAT_SCHEDULE``): re-enqueues running jobs whose worker stopped
    sending heartbeats, for workers that never come back to recover their own."""
    recovered = jobs_recover()
    if recovered:
        log.warning("re-enqueued jobs with no heartbeat: %s", recovered)
    return recovered


@worker_ready.connect
def recover_orphaned_jobs(sender=None, **kwargs) -> None:
    hostname = getattr(sender, "hostname", None)
    if not hostname:
        return
    try:
        recovered = jobs_recover(worker=hostname)
    except Exception:  # noqa: BLE001 - a worker must start even when the database is briefly away
        log.exception("could not look for orphaned jobs")
        return
    if recovered:
        log.warning("re-enqueued jobs orphaned by a previous worker: %s", recovered)
