"""A kind of job that belongs to no app, registered on import: by the tests of the job system, and by the
test worker they start (``--include tests.webapp.job_kinds``), so the kernel is exercised without any
domain runner. ``count`` counts to ``params.to`` in batches of one, on a project or on nothing;
``params.transient_until`` makes attempts before that number hit a (transient) database error, and
``params.hold_seconds`` waits that long in each batch (so a test can cancel it mid-run). Its ``ended`` hook
notes each job's end in ``ENDED``."""

from __future__ import annotations

import time

from django.db import OperationalError

from webapp.jobs.errors import Cancelled, JobError, number_clean
from webapp.jobs.models import Job, Queue
from webapp.jobs.registry import JobKind, job_kind_register
from webapp.jobs.services import job_queue

COUNT = "test_count"
ENDED: list[tuple[int, str]] = []  # (job id, status) as the kind's ``ended`` hook saw each job end


def count_launch(*, target, created_by, data: dict) -> Job:
    unknown = sorted(set(data) - {"to", "transient_until", "hold_seconds"})
    if unknown:
        raise JobError("is not a setting of a count job", field=f"params.{unknown[0]}")
    params = {"to": number_clean("to", data.get("to", 3), int, 1, 100),
              "transient_until": number_clean("transient_until", data.get("transient_until", 0), int, 0, 5),
              "hold_seconds": number_clean("hold_seconds", data.get("hold_seconds", 0), float, 0, 5)}
    return job_queue(kind=COUNT, target=target, created_by=created_by, params=params)


def count_run(job: Job, on_batch) -> dict:
    params = job.params
    job.refresh_from_db(fields=["attempts"])
    if job.attempts <= params["transient_until"]:
        raise OperationalError(f"the database went away (attempt {job.attempts})")
    for done in range(params["to"] + 1):
        if not on_batch(done, params["to"]):
            raise Cancelled(f"stopped at {done}")
        time.sleep(params["hold_seconds"])
    return {"counted": params["to"], "attempts": job.attempts}


def count_ended(job: Job) -> None:
    ENDED.append((job.pk, job.status))


KIND = job_kind_register(JobKind(
    name=COUNT, label="Count", queue=Queue.DEFAULT, run=count_run, launch=count_launch, ended=count_ended,
))
