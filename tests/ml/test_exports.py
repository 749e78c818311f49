"""Label exports as background jobs: the file, its download, who may fetch it, and the queue it runs on."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from annotations.jobs import AnnotationJobKind, export_file, export_job_launch
from tests.factories import ItemFactory, LabelFactory, ProjectFactory
from webapp.jobs import services as job_services
from webapp.jobs.errors import JobError
from webapp.jobs.files import MANIFEST_SUFFIX
from webapp.jobs.models import Job

WORKER = "in-process@test"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def stored_text(name: str) -> str:
    from django.core.files.storage import default_storage

    with default_storage.open(name, "rb") as handle:
        return handle.read().decode()


@pytest.fixture
def labelled_project(researcher):
    project = ProjectFactory(owner=researcher, slug="to-export")
    for i in range(3):
        item = ItemFactory(project=project, external_id=f"n{i}", data={"text": f"story {i}"})
        for annotator, value in (("a1", 1 + i), ("a2", 2 + i)):
            LabelFactory(item=item, annotator__username=annotator, values={"empathy": value})
    return project


def run_export(project, researcher, django_capture_on_commit_callbacks, **options) -> Job:
    with django_capture_on_commit_callbacks() as callbacks:
        job = export_job_launch(project=project, created_by=researcher, **options)
    assert len(callbacks) == 1  # enqueued once the row is committed
    return job_services.job_run(job_id=job.pk, worker=WORKER)


def test_an_export_job_writes_every_label_and_a_manifest(
    labelled_project, researcher, django_capture_on_commit_callbacks
):
    job = run_export(labelled_project, researcher, django_capture_on_commit_callbacks)

    assert job.status == Job.Status.SUCCEEDED, job.error
    name = export_file(job)
    rows = [json.loads(line) for line in stored_text(name).splitlines()]
    assert len(rows) == 6 and job.result == {"file": "to-export-labels.jsonl", "rows": 6, "labels": 6}
    assert sorted((row["item_id"], row["empathy"]) for row in rows) == [
        ("n0", 1),
        ("n0", 2),
        ("n1", 2),
        ("n1", 3),
        ("n2", 3),
        ("n2", 4),
    ]
    manifest = json.loads(stored_text(name + MANIFEST_SUFFIX))
    assert manifest["rows"] == 6


def test_an_aggregated_csv_export_has_one_row_per_item(
    labelled_project, researcher, django_capture_on_commit_callbacks
):
    job = run_export(
        labelled_project, researcher, django_capture_on_commit_callbacks, fmt="csv", aggregate="mean"
    )

    name = export_file(job)
    assert name == f"exports/job-{job.pk}/to-export-labels-mean.csv"
    lines = stored_text(name).splitlines()
    assert len(lines) == 1 + 3 and job.result["rows"] == 3


def test_bad_settings_are_refused_before_anything_is_queued(labelled_project, researcher):
    with pytest.raises(JobError, match="format: must be one of jsonl, csv"):
        export_job_launch(project=labelled_project, created_by=researcher, fmt="xlsx")
    with pytest.raises(JobError, match="aggregate: must be one of"):
        export_job_launch(project=labelled_project, created_by=researcher, aggregate="mode")
    assert not Job.objects.exists()


def test_the_page_launches_the_export_and_only_the_projects_researchers_download_it(
    client, labelled_project, researcher, other_researcher, django_capture_on_commit_callbacks
):
    client.force_login(researcher)
    assert (
        'data-testid="export-form"'
        in client.get(reverse("annotations:project_detail", args=[labelled_project.slug])).text
    )
    with django_capture_on_commit_callbacks():
        response = client.post(reverse("annotations:export_launch", args=[labelled_project.slug]), {"format": "jsonl"})
    job = Job.objects.get(kind=AnnotationJobKind.EXPORT)
    assert response.status_code == 302 and response["Location"] == reverse("jobs:job_detail", args=[job.pk])
    download = reverse("jobs:job_download", args=[job.pk])
    assert client.get(download).status_code == 404  # not written yet

    job_services.job_run(job_id=job.pk, worker=WORKER)

    page = client.get(reverse("jobs:job_detail", args=[job.pk])).text
    assert 'data-testid="export-download"' in page and "label export" in page
    response = client.get(download)
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert len(b"".join(response.streaming_content).splitlines()) == 6
    assert client.get(download + "?manifest=1").status_code == 200
    client.force_login(other_researcher)
    assert client.get(download).status_code == 403
    assert client.post(reverse("annotations:export_launch", args=[labelled_project.slug])).status_code == 404  # not among their projects


def test_exports_go_to_the_default_queue_and_model_work_to_the_gpu_queue():
    from ml.models import MlJobKind
    from webapp.celery import app
    from webapp.jobs.registry import job_kind
    from webapp.jobs.services import TASK_FOR_QUEUE

    def queue_of(task: str) -> str:
        route = app.amqp.router.route({}, task)
        return route["queue"].name

    def task_of(kind: str) -> str:
        return TASK_FOR_QUEUE[job_kind(kind).queue]

    assert queue_of(task_of(AnnotationJobKind.EXPORT)) == "default"
    assert queue_of(task_of(MlJobKind.GENERATION)) == queue_of(task_of(MlJobKind.SCORING)) == "gpu"
