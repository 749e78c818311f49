"""Shared by the job commands (and the report commands' ``--background``): launching, and
following a job's progress in the terminal."""

from __future__ import annotations

import time

from django.core.management.base import CommandError
from django.urls import reverse

from ml.models import Job, ModelVersion
from ml.services import JobError, report_job_launch

BAR_WIDTH = 30


def version_by_name_or_active(name: str | None, kinds: tuple[str, ...]) -> ModelVersion:
    """The version called ``name``, or the active one of the first kind in ``kinds`` that has one."""
    if name:
        version = ModelVersion.objects.filter(name=name).first()
        if version is None:
            raise CommandError(f"--model: no model version called {name!r} (see /models/)")
        return version
    for kind in kinds:
        version = ModelVersion.objects.filter(kind=kind, is_active=True).first()
        if version is not None:
            return version
    raise CommandError(f"--model: no active {' or '.join(kinds)}; name one or run register_defaults")


def progress_line(job: Job) -> str:
    filled = int(BAR_WIDTH * job.done / job.total) if job.total else 0
    return f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {job.done}/{job.total} {job.status:<9}"


def follow(command, job: Job, *, poll_seconds: float = 1.0, timeout: float | None = None) -> Job:
    """Prints a progress bar until the job finishes; raises CommandError unless it succeeded."""
    started = time.monotonic()
    while True:
        job.refresh_from_db()
        command.stdout.write(progress_line(job), ending="")
        command.stdout.flush()
        if job.is_finished:
            break
        if timeout is not None and time.monotonic() - started > timeout:
            command.stdout.write("")
            raise CommandError(f"job {job.pk} is still {job.status} after {timeout:.0f} s (it keeps running)")
        time.sleep(poll_seconds)
    command.stdout.write("")
    if job.status != Job.Status.SUCCEEDED:
        raise CommandError(f"job {job.pk} {job.status}: {job.error or 'no reason recorded'}")
    return job


def report_launch(command, job: Job) -> None:
    """Prints the queued job's id and the path of its page; CommandError when it failed at once (no queue)."""
    job.refresh_from_db()
    if job.status == Job.Status.FAILED:
        raise CommandError(f"job {job.pk} failed: {job.error}")
    what = job.get_kind_display().lower()
    if job.model_version:
        what = f"{job.kind} with {job.model_version.name}"
    command.stdout.write(f"job {job.pk} queued ({what}): {reverse('ml:job_detail', args=[job.pk])}")


def report_in_background(command, **launch) -> Job:
    """For the report commands' ``--background``: queues the report (``report_job_launch(**launch)``) and
    prints the job's id and page instead of computing it in the terminal."""
    try:
        job = report_job_launch(**launch)
    except JobError as exc:
        raise CommandError(str(exc)) from exc
    report_launch(command, job)
    return job
