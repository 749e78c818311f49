"""For management commands that launch jobs: announce the queued job, follow its progress in the
terminal, and ``--background`` launches (``job_launch_from_command``)."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.core.management.base import CommandError
from django.urls import reverse

from webapp.jobs.errors import JobError
from webapp.jobs.models import Job

BAR_WIDTH = 30


def progress_line(job: Job) -> str:
    filled = int(BAR_WIDTH * job.done / job.total) if job.total else 0
    return f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {job.done}/{job.total} {job.status:<9}"


def job_follow(command, job: Job, *, poll_seconds: float = 1.0, timeout: float | None = None) -> Job:
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


def job_announce(command, job: Job) -> None:
    """Prints the queued job's id, what it is and the path of its page; CommandError when it failed at
    once (no queue)."""
    job.refresh_from_db()
    if job.status == Job.Status.FAILED:
        raise CommandError(f"job {job.pk} failed: {job.error}")
    described = job.described
    what = f"{job.kind} with {described['with']}" if described.get("with") else job.get_kind_display().lower()
    command.stdout.write(f"job {job.pk} queued ({what}): {reverse('jobs:job_detail', args=[job.pk])}")


def job_launch_from_command(command, launch: Callable[[], Job]) -> Job:
    """Runs ``launch()`` (a service that queues a job) and announces the job; a refused launch is a
    CommandError with the reason, naming the field."""
    try:
        job = launch()
    except JobError as exc:
        raise CommandError(str(exc)) from exc
    job_announce(command, job)
    return job
