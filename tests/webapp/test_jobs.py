"""The job system on its own (``webapp.jobs``): a kind registered by a test module (``job_kinds``) is
queued, claimed, run, cancelled, retried and swept like any app's; the launch API refuses what no app
registered with the field at fault; a job goes with its target; and the kernel names no domain app."""

from __future__ import annotations

import ast
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import OperationalError
from django.db.models import ProtectedError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from annotations.jobs import AnnotationJobKind, export_job_launch
from ml.models import GeneratedText, ModelJob, ModelVersion
from ml.services import model_job_launch
from tests.factories import ProjectFactory
from tests.ml.test_jobs_support import make_project, make_study
from tests.webapp import job_kinds
from webapp.jobs import services
from webapp.jobs.errors import JobError
from webapp.jobs.models import Job
from webapp.jobs.tasks import recover_stale_jobs

pytestmark = pytest.mark.django_db
WORKER = "test-worker"
KERNEL = Path(__file__).resolve().parents[2] / "webapp" / "jobs"
DOMAIN_APPS = ("annotations", "studies", "ml")


def count_job(django_capture_on_commit_callbacks, *, target=None, **data) -> Job:
    with django_capture_on_commit_callbacks() as callbacks:
        job = services.job_launch(kind=job_kinds.COUNT, created_by=None, target=target, data=data)
    assert len(callbacks) == 1  # published once the row is committed
    return job


def test_a_kind_registered_outside_the_apps_runs_with_its_progress_and_result(django_capture_on_commit_callbacks):
    job = count_job(django_capture_on_commit_callbacks, to=4)
    assert (job.kind, job.queue, job.status, job.params["to"]) == ("test_count", "default", "queued", 4)

    finished = services.job_run(job_id=job.pk, worker=WORKER)

    assert finished.status == Job.Status.SUCCEEDED, finished.error
    assert (finished.done, finished.total, finished.attempts) == (4, 4, 1)
    assert finished.result == {"counted": 4, "attempts": 1}
    assert services.job_run(job_id=job.pk, worker=WORKER) is None  # a redelivery of a finished job does nothing


def test_cancel_stops_a_queued_job_at_once_and_a_running_one_at_its_next_batch(django_capture_on_commit_callbacks):
    queued = count_job(django_capture_on_commit_callbacks)
    services.job_cancel(job=queued)
    queued.refresh_from_db()
    assert queued.status == Job.Status.CANCELLED
    assert services.job_run(job_id=queued.pk, worker=WORKER) is None

    running = count_job(django_capture_on_commit_callbacks, to=5)
    services.job_claim(job_id=running.pk, worker=WORKER)
    services.job_cancel(job=running)  # requested while it runs: it stops when it next reports progress
    assert services.job_progress(job_id=running.pk, worker=WORKER, done=1, total=5) is False
    running.refresh_from_db()
    assert running.status == Job.Status.RUNNING and running.cancel_requested


def test_a_failed_job_is_retried_and_succeeds_keeping_its_attempts(django_capture_on_commit_callbacks):
    job = count_job(django_capture_on_commit_callbacks, to=2)
    services.job_claim(job_id=job.pk, worker=WORKER)
    services.job_finish(job_id=job.pk, status=Job.Status.FAILED, error="the disk was full")
    with pytest.raises(JobError, match="status: only failed or cancelled jobs can be retried"):
        services.job_requeue(job=Job.objects.create(kind=job_kinds.COUNT))

    with django_capture_on_commit_callbacks() as callbacks:
        services.job_requeue(job=job)
    job.refresh_from_db()
    assert len(callbacks) == 1 and (job.status, job.error) == (Job.Status.QUEUED, "")

    finished = services.job_run(job_id=job.pk, worker=WORKER)
    assert finished.status == Job.Status.SUCCEEDED and finished.attempts == 2


def test_the_sweep_re_enqueues_a_non_model_job_whose_worker_went_silent(django_capture_on_commit_callbacks):
    stale = count_job(django_capture_on_commit_callbacks)
    live = count_job(django_capture_on_commit_callbacks)
    for job in (stale, live):
        services.job_claim(job_id=job.pk, worker="gone-worker")
    Job.objects.filter(pk=stale.pk).update(heartbeat_at=timezone.now() - timedelta(hours=2))

    with django_capture_on_commit_callbacks() as callbacks:
        assert recover_stale_jobs() == [stale.pk]
    stale.refresh_from_db()
    live.refresh_from_db()
    assert (stale.status, stale.worker) == (Job.Status.QUEUED, "") and len(callbacks) == 1
    assert live.status == Job.Status.RUNNING

    assert services.job_run(job_id=stale.pk, worker=WORKER).status == Job.Status.SUCCEEDED


def test_a_transient_error_propagates_for_the_task_to_retry_and_a_bug_fails_the_job(
        django_capture_on_commit_callbacks):
    from django.db import OperationalError

    job = count_job(django_capture_on_commit_callbacks, transient_until=1)
    with pytest.raises(OperationalError):
        services.job_run(job_id=job.pk, worker=WORKER)
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING  # left for the retry, which the same worker may claim
    assert services.job_run(job_id=job.pk, worker=WORKER).result == {"counted": 3, "attempts": 2}


def test_the_ended_hook_runs_once_a_job_ends_whatever_the_outcome_and_not_while_it_will_be_retried(
        django_capture_on_commit_callbacks):
    job_kinds.ENDED.clear()
    succeeded, transient, queued = (count_job(django_capture_on_commit_callbacks, **data)
                                    for data in ({"to": 1}, {"transient_until": 1}, {}))
    with django_capture_on_commit_callbacks(execute=True):
        services.job_run(job_id=succeeded.pk, worker=WORKER)
        with pytest.raises(OperationalError):
            services.job_run(job_id=transient.pk, worker=WORKER)
    assert job_kinds.ENDED == [(succeeded.pk, Job.Status.SUCCEEDED)]  # the task will retry the other
    with django_capture_on_commit_callbacks(execute=True):
        services.job_finish(job_id=transient.pk, status=Job.Status.FAILED, error="gave up after 6 tries")
        services.job_cancel(job=queued)

    assert job_kinds.ENDED == [(succeeded.pk, Job.Status.SUCCEEDED), (transient.pk, Job.Status.FAILED),
                               (queued.pk, Job.Status.CANCELLED)]


def test_the_task_retries_transient_errors_with_celerys_backoff_and_gives_up_saying_so():
    from django.db import OperationalError

    from webapp.jobs.tasks import MAX_RETRIES, run_default, run_gpu

    for task in (run_default, run_gpu):
        assert task.autoretry_for == (OperationalError, *task.autoretry_for[1:])
        assert task.retry_backoff and task.max_retries == MAX_RETRIES and task.acks_late
    job = Job.objects.create(kind=job_kinds.COUNT, status=Job.Status.RUNNING)

    run_default.on_failure(OperationalError("still away"), "task-id", [job.pk], {}, None)

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "gave up after" in job.error and "still away" in job.error


def test_a_launch_of_a_kind_nobody_registered_is_refused_naming_the_kind():
    with pytest.raises(JobError) as refused:
        services.job_launch(kind="telepathy", created_by=None)
    assert refused.value.as_dict()["field"] == "kind" and "'telepathy' is not a kind of job" in str(refused.value)
    assert "test_count" in refused.value.message and not Job.objects.exists()


def test_a_kind_refuses_a_target_it_does_not_run_on(researcher):
    study = make_study(owner=researcher, n_prompts=2)
    with pytest.raises(JobError, match="target: a label export job runs on a project"):
        services.job_launch(kind=AnnotationJobKind.EXPORT, created_by=researcher, target=study)
    assert not Job.objects.exists()


@pytest.fixture
def generator_version():
    """A registered generator; nothing here loads it (launches check kinds and targets, not the folder)."""
    return ModelVersion.objects.create(name="unloaded-generator", kind="generator", path="/nowhere")


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_api_refuses_an_unknown_kind_with_a_400_naming_the_field(researcher):
    response = api(researcher).post(reverse("jobs:api_jobs"), {"kind": "telepathy"}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["kind"] and "'telepathy' is not a kind of job" in response.json()["kind"][0]
    assert not Job.objects.exists()


def test_the_api_launches_any_registered_kind_and_names_the_field_it_refuses(
        researcher, other_researcher, django_capture_on_commit_callbacks):
    project = ProjectFactory(owner=researcher, slug="api-jobs")
    url = reverse("jobs:api_jobs")
    with django_capture_on_commit_callbacks():
        made = api(researcher).post(url, {"kind": job_kinds.COUNT, "project": project.slug, "to": 2}, format="json")
        export = api(researcher).post(url, {"kind": "export", "project": project.slug, "format": "csv"}, format="json")
    bad = api(researcher).post(url, {"kind": job_kinds.COUNT, "to": 1000}, format="json")
    typo = api(researcher).post(url, {"kind": "export", "project": project.slug, "format": "xlsx"}, format="json")
    theirs = api(other_researcher).post(url, {"kind": "export", "project": project.slug}, format="json")

    assert made.status_code == 201, made.content
    assert (made.json()["kind"], made.json()["target_type"], made.json()["target"]) == ("test_count", "project",
                                                                                       "api-jobs")
    assert export.status_code == 201 and export.json()["params"] == {"format": "csv", "aggregate": "none"}
    assert bad.status_code == 400 and bad.json() == {"params": ["params.to: must be between 1 and 100"]}
    assert typo.status_code == 400 and list(typo.json()) == ["format"]
    assert theirs.status_code == 404  # not among their projects
    kinds = api(researcher).get(reverse("jobs:api_job_kinds")).json()
    names = {kind["name"]: kind for kind in kinds}
    assert {"generation", "scoring", "train", "export", "agreement_report", "study_report", "test_count"} <= set(names)
    assert names["train"]["queue"] == "gpu" and names["export"]["targets"] == ["project"]


def test_retrying_a_job_that_has_not_failed_is_a_409_naming_its_state_and_a_failed_one_is_queued_again(
        researcher, django_capture_on_commit_callbacks):
    queued = count_job(django_capture_on_commit_callbacks)
    queued.created_by = researcher
    queued.save(update_fields=["created_by"])
    refused = api(researcher).post(reverse("jobs:api_job_retry", args=[queued.pk]))
    assert refused.status_code == 409
    assert refused.json() == {"status": ["status: only failed or cancelled jobs can be retried (this one is queued)"]}
    Job.objects.filter(pk=queued.pk).update(status=Job.Status.FAILED, error="boom")
    with django_capture_on_commit_callbacks():
        again = api(researcher).post(reverse("jobs:api_job_retry", args=[queued.pk]))
    assert again.status_code == 200 and again.json()["status"] == Job.Status.QUEUED


def test_a_job_on_a_project_is_seen_by_whoever_may_see_the_project(
        researcher, other_researcher, django_capture_on_commit_callbacks):
    project = ProjectFactory(owner=researcher, slug="seen-jobs")
    job = count_job(django_capture_on_commit_callbacks, target=project)
    url = reverse("jobs:job_detail", args=[job.pk])

    assert api(other_researcher).get(reverse("jobs:api_job_detail", args=[job.pk])).status_code == 403
    project.collaborators.add(other_researcher)
    detail = api(other_researcher).get(reverse("jobs:api_job_detail", args=[job.pk]))
    assert detail.status_code == 200 and detail.json()["target"] == "seen-jobs"
    from django.test import Client

    page = Client()
    page.force_login(other_researcher)
    text = page.get(url).text
    assert "Job #" in text and f'href="{reverse("annotations:project_detail", args=["seen-jobs"])}"' in text


def test_deleting_a_project_deletes_its_jobs_and_what_they_wrote(researcher, generator_version,
                                                                django_capture_on_commit_callbacks):
    project = make_project(owner=researcher, slug="doomed-project")
    other = make_project(owner=researcher, slug="kept-project")
    with django_capture_on_commit_callbacks():
        export = export_job_launch(project=project, created_by=researcher)
        generation = model_job_launch(kind="generation", model_version=generator_version, project=project,
                                      created_by=researcher)
        kept = export_job_launch(project=other, created_by=researcher)
    GeneratedText.objects.create(job=generation, input_key="item:1", text="written")

    project.delete()

    assert not Job.objects.filter(pk__in=[export.pk, generation.pk]).exists()
    assert not ModelJob.objects.exists() and not GeneratedText.objects.exists()
    assert Job.objects.filter(pk=kept.pk).exists()


def test_a_model_version_with_jobs_cannot_be_deleted(researcher, generator_version,
                                                    django_capture_on_commit_callbacks):
    project = make_project(owner=researcher, slug="protects")
    with django_capture_on_commit_callbacks():
        model_job_launch(kind="generation", model_version=generator_version, project=project, created_by=researcher)
    with pytest.raises(ProtectedError):
        generator_version.delete()


def test_the_job_system_imports_no_domain_app_and_its_templates_link_only_its_own_pages():
    imported = []
    for path in sorted(KERNEL.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported += [(path.name, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.append((path.name, node.module))
    assert imported, "the walk found no imports: the path is wrong"
    domain = [(name, module) for name, module in imported if module.split(".")[0] in DOMAIN_APPS]
    assert domain == []
    urls = {name for path in KERNEL.rglob("*.html")
            for name in re.findall(r"{% url '([\w:]+)'", path.read_text(encoding="utf-8"))}
    assert urls and all(name.startswith("jobs:") for name in urls), urls
