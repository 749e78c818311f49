"""Jobs end to end through a real Celery worker process (tests/celery_worker.py) on Redis, or on the
filesystem broker when Redis is down (announced loudly; CI=true makes a missing Redis an error)."""

from __future__ import annotations

import json
import shutil

import pytest

from annotations.jobs import (
    agreement_report_file,
    agreement_report_job_launch,
    export_file,
    export_job_launch,
)
from ml import services
from ml.models import GeneratedText, Score
from ml.selectors import job_score_table
from studies.models import Response
from tests import celery_worker as worker_fixtures
from tests.factories import UserFactory
from tests.ml.test_jobs_support import make_project, make_study, wait_for
from webapp.jobs import services as job_services
from webapp.jobs.models import Job

celery_worker = worker_fixtures.celery_worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_worker, pytest.mark.slow]


@pytest.fixture
def owner(transactional_db):
    return UserFactory(username="ml-owner", role="researcher")


def test_generation_job_runs_on_the_worker_and_fills_the_study_system(celery_worker, owner, tiny_llama_path):
    version = services.model_version_register(name="tiny-llama", kind="generator", path=tiny_llama_path)
    study = make_study(owner=owner, model_version=version, n_prompts=5)

    job = services.model_job_launch(kind="generation", model_version=version, study=study, created_by=owner,
                              params={"max_new_tokens": 6, "batch_size": 2})
    job = wait_for(job)

    assert job.status == Job.Status.SUCCEEDED, f"{job.error}\n{celery_worker.log[-3000:]}"
    assert (job.done, job.total, job.attempts) == (5, 5, 1)
    assert job.worker.startswith("test-")
    assert Response.objects.filter(study=study, system__name="tiny", model_version_id=version.pk).count() == 5
    assert job.started_at <= job.finished_at


def test_scoring_job_runs_on_the_worker_and_gives_means_per_system(celery_worker, owner, tiny_regressor_path):
    version = services.model_version_register(name="tiny-regressor", kind="scorer", path=tiny_regressor_path)
    study = make_study(owner=owner, n_prompts=3)
    from studies.services import responses_store

    responses_store(study=study, system_name="tiny", rows=[{"prompt_id": f"p{i}", "text": "I feel lost"}
                                                          for i in range(3)])

    job = wait_for(services.model_job_launch(kind="scoring", model_version=version, study=study, created_by=owner))

    assert job.status == Job.Status.SUCCEEDED, f"{job.error}\n{celery_worker.log[-3000:]}"
    assert Score.objects.filter(job=job).count() == 6 * 5
    table = job_score_table(job=job)
    assert [(row["label"], row["n"]) for row in table["rows"]] == [("baseline", 3), ("tiny", 3)]
    # The three "tiny" responses are the same text; their prompts differ, so the means are per-system
    # aggregates of distinct rows, not one row repeated.
    tiny_rewards = list(Score.objects.filter(job=job, dimension="reward", response__system__name="tiny")
                        .values_list("value", flat=True))
    assert table["rows"][1]["means"]["reward"] == pytest.approx(sum(tiny_rewards) / 3, abs=1e-4)


def test_worker_killed_mid_job_and_restarted_finishes_it_without_duplicates(celery_worker, owner, tiny_llama_path):
    version = services.model_version_register(name="tiny-llama", kind="generator", path=tiny_llama_path)
    project = make_project(owner=owner, n_items=30)

    job = services.model_job_launch(kind="generation", model_version=version, project=project, created_by=owner,
                              params={"max_new_tokens": 16, "batch_size": 1})
    wait_for(job, until=lambda job: job.done >= 5)
    celery_worker.pause()  # freeze it mid-job, so what it had written can be looked at
    job.refresh_from_db()
    before = {row.input_key: (row.pk, row.text) for row in GeneratedText.objects.filter(job=job)}
    assert job.status == Job.Status.RUNNING and 5 <= len(before) < 30, "the job must be caught mid-way"
    celery_worker.kill()

    celery_worker.start()
    job = wait_for(job)

    assert job.status == Job.Status.SUCCEEDED, f"{job.error}\n{celery_worker.log[-3000:]}"
    assert job.attempts == 2 and (job.done, job.total) == (30, 30)
    rows = {row.input_key: (row.pk, row.text) for row in GeneratedText.objects.filter(job=job)}
    assert len(rows) == 30 == GeneratedText.objects.filter(job=job).count()
    assert all(rows[key] == value for key, value in before.items())  # nothing written before the kill redone
    assert "re-enqueued jobs orphaned by a previous worker" in celery_worker.log


def test_cancel_stops_a_running_job_after_its_batch_and_keeps_what_it_wrote(celery_worker, owner, tiny_llama_path):
    version = services.model_version_register(name="tiny-llama", kind="generator", path=tiny_llama_path)
    project = make_project(owner=owner, n_items=30)
    job = services.model_job_launch(kind="generation", model_version=version, project=project, created_by=owner,
                              params={"max_new_tokens": 16, "batch_size": 1})
    wait_for(job, until=lambda job: job.done >= 2)

    job_services.job_cancel(job=job)
    job = wait_for(job)

    assert job.status == Job.Status.CANCELLED and job.error == "cancelled on request"
    assert 2 <= job.done < 30
    assert GeneratedText.objects.filter(job=job).count() == job.done


def test_a_bad_model_path_fails_the_job_with_a_clear_error(celery_worker, owner, tiny_llama_path, tmp_path):
    folder = shutil.copytree(tiny_llama_path, tmp_path / "gone")
    version = services.model_version_register(name="gone", kind="generator", path=folder)
    study = make_study(owner=owner, model_version=version, n_prompts=2)
    (folder / "config.json").unlink()

    job = wait_for(services.model_job_launch(kind="generation", model_version=version, study=study, created_by=owner))

    assert job.status == Job.Status.FAILED
    assert job.error == f"the model could not be loaded: {folder} has no config.json"
    assert not Response.objects.filter(study=study, system__name="tiny").exists()


def test_generate_command_waits_for_success_and_score_command_exits_non_zero_on_failure(
        celery_worker, owner, tiny_llama_path, tiny_regressor_path, tmp_path):
    from io import StringIO

    from django.core.management import CommandError, call_command

    version = services.model_version_register(name="tiny-llama", kind="generator", path=tiny_llama_path)
    study = make_study(owner=owner, model_version=version, n_prompts=3)
    broken = shutil.copytree(tiny_regressor_path, tmp_path / "broken")
    scorer = services.model_version_register(name="broken", kind="scorer", path=broken)
    (broken / "config.json").write_text("{not json")
    out = StringIO()

    call_command("generate", "--study", study.slug, "--model", version.name, "--params", '{"max_new_tokens": 4}', "--wait", stdout=out)
    with pytest.raises(CommandError, match="failed: the model could not be loaded: .*config.json is not valid JSON"):
        call_command("score", "--study", study.slug, "--model", scorer.name, "--wait", stdout=StringIO())

    assert "[##############################] 3/3 succeeded" in out.getvalue()
    assert Response.objects.filter(study=study, system__name="tiny").count() == 3


def taken_from_storage(name: str) -> bytes:
    """The file the worker stored as ``name`` in the storage the web reads (a shared MEDIA_ROOT); its job
    folder is removed after reading."""
    from django.core.files.storage import default_storage

    try:
        with default_storage.open(name, "rb") as handle:
            return handle.read()
    finally:
        shutil.rmtree(default_storage.path(name).rsplit("/", 1)[0], ignore_errors=True)


def test_export_job_runs_on_the_worker_and_leaves_the_file_for_download(celery_worker, owner):
    from tests.factories import LabelFactory

    project = make_project(owner=owner, n_items=3)
    for item in project.items.all():
        LabelFactory(item=item, annotator__username="exporter-a1", values={"empathy": 3})

    job = wait_for(export_job_launch(project=project, created_by=owner, fmt="csv"))

    assert job.status == Job.Status.SUCCEEDED, f"{job.error}\n{celery_worker.log[-3000:]}"
    assert len(taken_from_storage(export_file(job)).splitlines()) == 1 + 3 and job.result["rows"] == 3


def test_report_job_runs_on_the_default_queue_and_leaves_the_json_for_download(celery_worker, owner):
    from tests.factories import LabelFactory

    project = make_project(owner=owner, n_items=3)
    for item in project.items.all():
        for annotator, value in (("reporter-a1", 3), ("reporter-a2", 4)):
            LabelFactory(item=item, annotator__username=annotator, values={"empathy": value})

    job = wait_for(agreement_report_job_launch(project=project, created_by=owner, n_bootstrap=100, seed=1))

    assert job.status == Job.Status.SUCCEEDED, f"{job.error}\n{celery_worker.log[-3000:]}"
    report = json.loads(taken_from_storage(agreement_report_file(job)))
    assert (report["project"], report["settings"]["bootstrap"], report["settings"]["seed"]) == (project.slug, 100, 1)
    assert report["dimensions"]["empathy"]["n_labels"] == 6
    assert (job.result["items"], job.result["labels"], job.done, job.total) == (3, 6, 1, 1)
