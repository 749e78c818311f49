"""Celery tasks: one per queue. A job id comes in, ``job_run`` claims the job and calls its kind's runner.

``jobs.run_gpu`` is routed to the ``gpu`` queue, ``jobs.run_default`` to ``default`` (webapp/celery.py;
``job_enqueue`` also names the queue). Runners' effects are idempotent (upserts keyed by job and
input), so ``acks_late`` redelivery and retries are safe. Transient errors (the database or the broker
briefly away) are retried by Celery with exponential backoff; when the retries run out the job ends
``failed`` saying so. When a worker starts, jobs it held before it died are re-enqueued
(``jobs_recover``): the broker cannot be trusted to redeliver them (the filesystem transport forgets a
fetched message, Redis waits for its visibility timeout). Jobs of a worker that never returns are
swept by beat (``recover_stale_jobs``) once their heartbeat is stale.
"""

from __future__ import annotations

import logging

from celery import Task, shared_task
from celery.signals import worker_ready

from webapp.jobs.models import Job
from webapp.jobs.services import TRANSIENT_ERRORS, job_finish, job_run, jobs_recover

log = logging.getLogger(__name__)

MAX_RETRIES = 5
RETRY_BACKOFF_SECONDS = 5  # then 10, 20, 40, 80 (capped at RETRY_BACKOFF_MAX)
RETRY_BACKOFF_MAX = 300


class JobTask(Task):
    """Runs one job; when Celery gives up retrying a transient error, the job says so instead of
    staying ``running`` until the sweep."""

    autoretry_for = TRANSIENT_ERRORS
    retry_backoff = RETRY_BACKOFF_SECONDS
    retry_backoff_max = RETRY_BACKOFF_MAX
    retry_jitter = False
    max_retries = MAX_RETRIES
    acks_late = True
    reject_on_worker_lost = True
    ignore_result = True

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        if args and isinstance(exc, TRANSIENT_ERRORS):
            job_finish(job_id=int(args[0]), status=Job.Status.FAILED,
                       error=f"gave up after {self.request.retries + 1} tries: {exc}")


def _run(task: Task, job_id: int) -> str:
    job = job_run(job_id=int(job_id), worker=task.request.hostname or "unknown-worker")
    return "skipped" if job is None else job.status


@shared_task(bind=True, base=JobTask, name="jobs.run_default")
def run_default(self, job_id: int) -> str:
    """Runs a job of a kind registered on the ``default`` queue (exports, reports: no GPU needed)."""
    return _run(self, job_id)


@shared_task(bind=True, base=JobTask, name="jobs.run_gpu")
def run_gpu(self, job_id: int) -> str:
    """Runs a job of a kind registered on the ``gpu`` queue (generation, scoring, training)."""
    return _run(self, job_id)


@shared_task(name="jobs.recover_stale_jobs", ignore_result=True)
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
