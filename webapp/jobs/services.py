"""Job writes: queue (create, enqueue after commit), launch (a registered kind's own launch), cancel,
retry, and the state changes a worker makes (claim, progress, finish, run, recover). Tasks and the
apps' launches call these; nothing else changes a Job."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone

from webapp.jobs.broker import embedded_broker_folders_make
from webapp.jobs.errors import Cancelled, JobError
from webapp.jobs.models import Job, Queue
from webapp.jobs.registry import job_kind, job_kinds

log = logging.getLogger(__name__)

# One task per queue claims the job and calls its kind's runner (``webapp.jobs.tasks``).
TASK_FOR_QUEUE = {Queue.DEFAULT: "jobs.run_default", Queue.GPU: "jobs.run_gpu"}
QUEUE_UNREACHABLE = "the job queue is not reachable: "
# How long a running job may go without a heartbeat before another worker may take it over.
STALE_AFTER_SECONDS = int(getattr(settings, "RESONANCE_JOB_STALE_SECONDS", 30 * 60))
BROKER_CONNECT_TIMEOUT = 2  # seconds: a launch never hangs on a dead broker
# Worth retrying later: the database or a connection was briefly unavailable (the task retries with backoff).
TRANSIENT_ERRORS = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


def _kind_or_error(kind: str):
    try:
        return job_kind(kind)
    except LookupError:
        known = ", ".join(sorted(job_kinds())) or "none"
        raise JobError(f"{kind!r} is not a kind of job (known: {known})", field="kind") from None


def job_queue(*, kind: str, target=None, created_by=None, params: dict | None = None, row: type[Job] = Job,
              **fields) -> Job:
    """Creates the job row (of ``row``, ``Job`` or an app's subclass carrying its own ``fields``) on the
    kind's queue and publishes its task once the transaction commits (a launch's last step). Raises
    ``JobError`` for a kind nobody registered or a target the kind does not take."""
    spec = _kind_or_error(kind)
    if spec.targets and not isinstance(target, spec.targets):
        names = " or ".join(model._meta.verbose_name for model in spec.targets)
        raise JobError(f"a {spec.label.lower()} job runs on a {names}", field="target")
    job = row.objects.create(kind=kind, queue=spec.queue, target=target, created_by=created_by,
                             params=params or {}, **fields)
    transaction.on_commit(lambda: job_enqueue(job_id=job.pk))
    return job


@transaction.atomic
def job_launch(*, kind: str, created_by, target=None, data: dict | None = None) -> Job:
    """Launches a job of any registered kind: the kind's own launch cleans ``data`` (the launch's fields
    besides kind and target) and queues it. The caller has checked that ``created_by`` may use
    ``target``. Raises ``JobError`` naming the field (``kind`` for a kind nobody registered)."""
    spec = _kind_or_error(kind)
    if spec.targets and not isinstance(target, spec.targets):
        names = " or ".join(model._meta.verbose_name for model in spec.targets)
        raise JobError(f"a {spec.label.lower()} job runs on a {names}", field="target")
    return spec.launch(target=target, created_by=created_by, data=dict(data or {}))


def job_enqueue(*, job_id: int) -> bool:
    """Publishes the job's task on its queue. Never blocks long: a broker that cannot be reached within a
    couple of seconds marks the job failed with "the job queue is not reachable: ..." and returns False."""
    from celery import current_app as app  # the site's app (webapp/celery.py), without importing the site

    job = Job.objects.filter(pk=job_id).only("queue").first()
    if job is None:
        return False
    try:
        embedded_broker_folders_make(app)
        # A fresh connection with short timeouts, so a dead broker fails fast instead of retrying.
        with app.connection_for_write(
            connect_timeout=BROKER_CONNECT_TIMEOUT,
            transport_options={"socket_connect_timeout": BROKER_CONNECT_TIMEOUT, "socket_timeout": 5,
                               "max_retries": 0},
        ) as connection:
            connection.ensure_connection(max_retries=1, timeout=BROKER_CONNECT_TIMEOUT)
            app.send_task(TASK_FOR_QUEUE[job.queue], args=[job_id], queue=job.queue, connection=connection,
                          retry=False)
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
        raise JobError(f"only failed or cancelled jobs can be retried (this one is {job.status})", field="status")
    job.status, job.error, job.cancel_requested, job.finished_at, job.worker = Job.Status.QUEUED, "", False, None, ""
    job.save(update_fields=["status", "error", "cancel_requested", "finished_at", "worker"])
    transaction.on_commit(lambda: job_enqueue(job_id=job.pk))
    return job


def _on_ended(job: Job) -> None:
    """Calls the kind's ``ended`` hook once the transaction that ended ``job`` commits."""
    found = job_kinds().get(job.kind)
    if found is not None and found.ended is not None:
        transaction.on_commit(lambda: found.ended(job))


@transaction.atomic
def job_cancel(*, job: Job) -> Job:
    """A queued job is cancelled at once; a running one stops after its current batch."""
    job = Job.objects.select_for_update().get(pk=job.pk)
    if job.status == Job.Status.QUEUED:
        job.status, job.finished_at, job.cancel_requested = Job.Status.CANCELLED, timezone.now(), True
        job.save(update_fields=["status", "finished_at", "cancel_requested"])
        _on_ended(job)
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
        _on_ended(job)
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
    """Ends the job with ``status`` (succeeded, failed or cancelled) and the error in words; the kind's
    ``ended`` hook runs once that commits."""
    job = Job.objects.select_for_update().filter(pk=job_id).first()
    if job is None:
        return None
    job.status, job.error, job.finished_at = status, error[:4000], timezone.now()
    fields = ["status", "error", "finished_at"]
    if result is not None:
        job.result = {**job.result, **result}
        fields.append("result")
    job.save(update_fields=fields)
    _on_ended(job)
    return job


def job_result_record(*, job_id: int, result: dict) -> None:
    """Merges ``result`` into the job's row without committing: call it inside the transaction of the
    writes it describes, so that the work and the record of it commit together and a redelivered or
    re-run job finds ``job.result`` filled instead of writing twice. Locks the job row until that
    transaction ends, so call it last."""
    job = Job.objects.select_for_update().only("result").get(pk=job_id)
    Job.objects.filter(pk=job_id).update(result={**job.result, **result})


def job_run(*, job_id: int, worker: str) -> Job | None:
    """Claims and runs one job on this worker with its kind's runner; returns the job as it ended, or
    None when there was nothing to do. ``JobError`` and ``ValueError`` (the job's own fault) end it
    ``failed`` with the reason; ``Cancelled`` ends it ``cancelled`` (or leaves it to the worker that took
    it over); transient errors (database or connection trouble) propagate so the task retries with
    backoff; anything else ends it ``failed`` with the exception's name."""
    job = job_claim(job_id=job_id, worker=worker)
    if job is None:
        return None
    try:
        spec = job_kind(job.kind)
    except LookupError as exc:
        return job_finish(job_id=job_id, status=Job.Status.FAILED, error=str(exc))

    def on_batch(done: int, total: int) -> bool:
        return job_progress(job_id=job_id, worker=worker, done=done, total=total)

    try:
        result = spec.run(job, on_batch)
    except Cancelled:
        job.refresh_from_db(fields=["cancel_requested", "worker"])
        if not job.cancel_requested and job.worker != worker:
            log.warning("job %s was taken over by %s; this worker stops", job_id, job.worker)
            return None
        return job_finish(job_id=job_id, status=Job.Status.CANCELLED, error="cancelled on request")
    except (JobError, ValueError) as exc:
        return job_finish(job_id=job_id, status=Job.Status.FAILED, error=str(exc))
    except TRANSIENT_ERRORS:
        raise
    except Exception as exc:  # noqa: BLE001 - an unexpected crash still ends the job, with its reason
        log.exception("job %s crashed", job_id)
        return job_finish(job_id=job_id, status=Job.Status.FAILED, error=f"{type(exc).__name__}: {exc}")
    job = job_finish(job_id=job_id, status=Job.Status.SUCCEEDED, result=result)
    if job is not None and spec.after is not None:
        spec.after(job)
    return job


def job_file(job: Job) -> str | None:
    """The file a succeeded job left for download; None for a job whose kind leaves none, or not succeeded."""
    found = job_kinds().get(job.kind)
    if found is None or found.file is None or job.status != Job.Status.SUCCEEDED:
        return None
    return found.file.path(job)


def jobs_recover(*, worker: str | None = None, stale_after_seconds: int = STALE_AFTER_SECONDS) -> list[int]:
    """Re-enqueues running jobs whose worker died: those last held by ``worker`` (called as that worker
    starts, so they cannot be running there) and those with no heartbeat for ``stale_after_seconds``
    (also swept every few minutes by beat: ``jobs.recover_stale_jobs``). Their finished inputs stay
    done. Returns the job ids."""
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
