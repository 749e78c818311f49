"""The job system through a real Celery worker process (tests/celery_worker.py), with a kind that
belongs to no app (``tests.webapp.job_kinds``, imported by the worker at start): the worker claims and
runs it, Celery retries a transient error with backoff, and a cancel stops it mid-run."""

from __future__ import annotations

import pytest

from tests.celery_worker import running_worker
from tests.ml.test_jobs_support import wait_for
from tests.webapp import job_kinds
from webapp.jobs import services
from webapp.jobs.models import Job

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_worker, pytest.mark.slow]


@pytest.fixture
def worker(transactional_db, tmp_path_factory):
    with running_worker(tmp_path_factory, include=("tests.webapp.job_kinds",)) as started:
        yield started


def launch(**data) -> Job:
    return services.job_launch(kind=job_kinds.COUNT, created_by=None, data=data)


def test_the_worker_runs_a_kind_registered_by_a_test_module(worker):
    job = wait_for(launch(to=3))

    assert job.status == Job.Status.SUCCEEDED, f"{job.error}\n{worker.log[-3000:]}"
    assert (job.done, job.total, job.result) == (3, 3, {"counted": 3, "attempts": 1})
    assert job.worker.startswith("test-") and job.queue == "default"


def test_a_transient_error_is_retried_by_celery_and_the_job_then_succeeds(worker):
    job = wait_for(launch(to=2, transient_until=1), timeout=60)

    assert job.status == Job.Status.SUCCEEDED, f"{job.error}\n{worker.log[-3000:]}"
    assert job.attempts == 2 and job.result == {"counted": 2, "attempts": 2}
    assert "Retry in" in worker.log


def test_a_cancel_stops_the_running_job_after_its_batch(worker):
    job = launch(to=50, hold_seconds=0.2)
    wait_for(job, until=lambda job: job.done >= 2, timeout=60)

    services.job_cancel(job=job)
    job = wait_for(job, timeout=60)

    assert job.status == Job.Status.CANCELLED, f"{job.error}\n{worker.log[-3000:]}"
    assert 2 <= job.done < 50 and job.error == "cancelled on request"
