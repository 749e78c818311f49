"""A training job on a real Celery worker: SIGKILL of the worker mid-run, then a restart, resumes
from the last checkpoint and registers exactly one version; cancel on the worker registers none."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from ml import services
from ml.models import ModelVersion
from ml.services.training import train_job_launch
from tests import celery_worker as worker_fixtures
from tests.factories import UserFactory
from tests.ml.test_jobs_support import wait_for
from tests.ml.training_support import learnable_items, likert, project_with_labels
from webapp.jobs import services as job_services
from webapp.jobs.models import Job

celery_worker = worker_fixtures.celery_worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_worker, pytest.mark.slow]
LONG = {"max_steps": 400, "batch_size": 4, "save_steps": 20, "logging_steps": 1}


@pytest.fixture
def launch(transactional_db, tiny_regressor_path):
    owner = UserFactory(username="ml-owner", role="researcher")
    base = services.model_version_register(name="tiny-scorer", kind="scorer", path=tiny_regressor_path)
    project = project_with_labels(kind="narrative", dimensions=[likert("empathy")],
                                  items=learnable_items("narrative", 20))
    return lambda **more: train_job_launch(recipe="reward-model", created_by=owner, project=project, base=base,
                                           overrides={**LONG, **more})


def test_worker_killed_mid_training_resumes_from_the_checkpoint_and_registers_one_version(celery_worker, launch):
    job = launch()
    wait_for(job, until=lambda job: job.done >= 50, timeout=180)
    celery_worker.kill()
    celery_worker.start()
    job = wait_for(job, timeout=300)
    assert job.status == Job.Status.SUCCEEDED, f"{job.error}\n{celery_worker.log[-3000:]}"
    assert job.attempts == 2 and job.done == job.total == 400
    resumed = job.result["resumed_from"]
    assert resumed is not None and int(resumed.rsplit("-", 1)[1]) >= 40
    assert ModelVersion.objects.filter(parent__name="tiny-scorer").count() == 1


def test_a_data_parallel_run_killed_with_its_worker_resumes_as_a_group_and_registers_one_version(celery_worker,
                                                                                                 launch):
    job = launch(processes=2, max_steps=120)
    wait_for(job, until=lambda job: job.done >= 25, timeout=180)
    celery_worker.kill()  # the group's processes notice the orphaned child, stop together and keep the checkpoints
    celery_worker.start()
    job = wait_for(job, timeout=300)
    assert job.status == Job.Status.SUCCEEDED, f"{job.error}\n{celery_worker.log[-3000:]}"
    assert job.attempts == 2 and job.done == job.total == 120
    assert int(job.result["resumed_from"].rsplit("-", 1)[1]) >= 20
    version = ModelVersion.objects.get(parent__name="tiny-scorer")
    assert version.training_settings["record"]["processes"] == 2, version.training_settings
    client = Client()
    client.force_login(job.created_by)
    page = client.get(reverse("ml:model_detail", args=[version.pk])).content.decode()
    assert "in 2 data-parallel processes" in page


def test_cancel_on_the_worker_stops_the_run_and_registers_nothing(celery_worker, launch):
    job = launch()
    wait_for(job, until=lambda job: job.done >= 5, timeout=180)
    job_services.job_cancel(job=job)
    job = wait_for(job, timeout=120)
    assert job.status == Job.Status.CANCELLED and job.done < 400
    assert not ModelVersion.objects.filter(parent__name="tiny-scorer").exists()


def test_train_command_waits_on_the_worker_and_prints_the_new_version_with_its_parents_metrics(
        celery_worker, launch, capsys):
    import json

    from django.core.management import call_command

    job = launch()  # makes the base, the project and its owner; this first job is cancelled at once
    job_services.job_cancel(job=job)
    call_command("train", job.project.slug, "--recipe", "reward-model", "--base", "tiny-scorer", "--wait", "--json",
                 "--set", "max_steps=4", "--set", "batch_size=4", "--timeout", "240")
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1].split("\r")[-1])
    version = ModelVersion.objects.get(name=printed["version"])
    assert printed["parent"] == "tiny-scorer" and not version.is_active
    assert printed["metrics"] == version.metrics["heldout"] and "empathy" in printed["parent_metrics"]
