"""Large imports as background jobs, on the real database: the rows, the summary the inline import shows, progress
every few thousand rows, an error naming the researcher's file, line and field with nothing stored, a re-run that
stores nothing twice, cancel, and who may launch or see the job (page and API)."""

from __future__ import annotations

import html
import json

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from annotations.jobs_import import PROGRESS_EVERY, import_job_launch, run_import
from annotations.models import Item, Label, ProjectAnnotator
from tests.factories import ItemFactory, ProjectFactory
from webapp.jobs import services as job_services
from webapp.jobs.errors import Cancelled
from webapp.jobs.models import Job

pytestmark = pytest.mark.django_db
WORKER = "in-process@test"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stories(count: int, *, start: int = 0) -> bytes:
    return "".join(json.dumps({"id": f"s{i}", "text": f"Story {i}."}) + "\n" for i in range(start, start + count)).encode()


def launched(project, user, name: str, content: bytes, django_capture_on_commit_callbacks, **options) -> Job:
    with django_capture_on_commit_callbacks() as callbacks:
        job = import_job_launch(project=project, created_by=user, upload=SimpleUploadedFile(name, content),
                                what=options.pop("what", "items"), **options)
    assert len(callbacks) == 1  # enqueued once the row and its file are committed
    return job


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_an_items_job_stores_every_row_reports_progress_every_few_thousand_rows_and_removes_its_file(
        researcher, media_root, django_capture_on_commit_callbacks):
    project = ProjectFactory(owner=researcher, slug="big-import")
    job = launched(project, researcher, "many stories.jsonl", stories(4500), django_capture_on_commit_callbacks)
    stored = job.params["upload"]
    assert default_storage.exists(stored) and job.params["file"] == "many stories.jsonl"
    job = job_services.job_claim(job_id=job.pk, worker=WORKER)
    reports = []

    def on_batch(done: int, total: int) -> bool:
        reports.append((done, total))
        return job_services.job_progress(job_id=job.pk, worker=WORKER, done=done, total=total)

    result = run_import(job, on_batch)

    assert PROGRESS_EVERY == 2000 and reports == [(0, 4500), (2000, 4500), (4000, 4500), (4500, 4500)]
    assert result == {"what": "items", "file": "many stories.jsonl", "imported": 4500}
    assert Item.objects.filter(project=project).count() == 4500
    assert Item.objects.get(project=project, external_id="s4499").data == {"text": "Story 4499."}
    assert default_storage.exists(stored)  # until the job has ended
    with django_capture_on_commit_callbacks(execute=True):
        job_services.job_finish(job_id=job.pk, status=Job.Status.SUCCEEDED, result=result)
    assert not default_storage.exists(stored) and not (media_root / "imports" / f"job-{job.pk}").exists()


def test_a_bad_line_fails_the_job_naming_the_uploaded_file_line_and_field_with_nothing_stored(
        researcher, django_capture_on_commit_callbacks):
    project = ProjectFactory(owner=researcher, slug="bad-import")
    content = stories(2999) + b'{"id": "broken"}\n' + stories(10, start=3000)
    job = launched(project, researcher, "my stories.jsonl", content, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        failed = job_services.job_run(job_id=job.pk, worker=WORKER)

    assert failed.status == Job.Status.FAILED
    assert failed.error == "my stories.jsonl, line 3000, field 'text': is required"
    assert not Item.objects.filter(project=project).exists()
    assert not default_storage.exists(job.params["upload"])
    owner = Client()
    owner.force_login(researcher)
    page = html.unescape(owner.get(reverse("jobs:job_detail", args=[job.pk])).content.decode())
    assert "my stories.jsonl, line 3000, field 'text': is required" in page and "Nothing was imported." in page
    with django_capture_on_commit_callbacks():
        job_services.job_requeue(job=failed)
    retried = job_services.job_run(job_id=job.pk, worker=WORKER)
    assert retried.status == Job.Status.FAILED and "removed when this job ended; upload it again" in retried.error


def test_an_error_found_only_while_storing_rolls_back_the_batches_already_inserted(
        researcher, django_capture_on_commit_callbacks):
    project = ProjectFactory(owner=researcher, slug="clash-import")
    ItemFactory(project=project, external_id="s2500")
    job = launched(project, researcher, "clash.jsonl", stories(3000), django_capture_on_commit_callbacks)

    failed = job_services.job_run(job_id=job.pk, worker=WORKER)

    assert failed.status == Job.Status.FAILED
    assert failed.error.startswith("clash.jsonl, line 2501, field 'id': 's2500' is already an item of project")
    assert list(Item.objects.filter(project=project).values_list("external_id", flat=True)) == ["s2500"]


def test_a_job_run_again_after_its_rows_committed_stores_nothing_twice(
        researcher, django_capture_on_commit_callbacks):
    project = ProjectFactory(owner=researcher, slug="rerun-import")
    job = launched(project, researcher, "once.jsonl", stories(5), django_capture_on_commit_callbacks)
    first = job_services.job_run(job_id=job.pk, worker=WORKER)
    assert first.status == Job.Status.SUCCEEDED, first.error
    # the worker died after the commit and before it finished the job: the sweep puts it back in the queue
    Job.objects.filter(pk=job.pk).update(status=Job.Status.QUEUED, finished_at=None)

    again = job_services.job_run(job_id=job.pk, worker="another-worker")

    assert again.status == Job.Status.SUCCEEDED and again.attempts == 2
    assert again.result == first.result == {"what": "items", "file": "once.jsonl", "imported": 5}
    assert Item.objects.filter(project=project).count() == 5


def test_a_cancelled_import_stops_while_reading_with_nothing_stored_and_its_file_removed(
        researcher, django_capture_on_commit_callbacks):
    project = ProjectFactory(owner=researcher, slug="cancel-import")
    job = launched(project, researcher, "stop.jsonl", stories(10), django_capture_on_commit_callbacks)
    running = job_services.job_claim(job_id=job.pk, worker=WORKER)
    job_services.job_cancel(job=running)

    with pytest.raises(Cancelled):
        run_import(running, lambda done, total: job_services.job_progress(
            job_id=job.pk, worker=WORKER, done=done, total=total))

    assert not Item.objects.filter(project=project).exists()
    with django_capture_on_commit_callbacks(execute=True):  # as job_run ends a job its runner cancelled
        job_services.job_finish(job_id=job.pk, status=Job.Status.CANCELLED, error="cancelled on request")
    assert not default_storage.exists(job.params["upload"])


def test_an_import_cancelled_before_a_worker_took_it_removes_its_file(researcher, django_capture_on_commit_callbacks):
    project = ProjectFactory(owner=researcher, slug="cancel-queued")
    job = launched(project, researcher, "never.jsonl", stories(10), django_capture_on_commit_callbacks)
    assert default_storage.exists(job.params["upload"])

    with django_capture_on_commit_callbacks(execute=True):
        job_services.job_cancel(job=job)

    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED and not default_storage.exists(job.params["upload"])
    assert job_services.job_run(job_id=job.pk, worker=WORKER) is None and not Item.objects.exists()


def test_a_labels_job_keeps_the_attribute_columns_and_reports_them_as_the_inline_import_does(
        researcher, django_capture_on_commit_callbacks):
    project = ProjectFactory(owner=researcher, slug="labels-import")
    for name in ("n1", "n2"):
        ItemFactory(project=project, external_id=name)
    content = b"item_id,annotator_id,dimension,value,country\nn1,a1,empathy,3,PT\nn2,a1,empathy,2,PT\nn1,a2,empathy,4,KE\n"
    job = launched(project, researcher, "ratings.csv", content, django_capture_on_commit_callbacks, what="labels")

    done = job_services.job_run(job_id=job.pk, worker=WORKER)

    assert done.status == Job.Status.SUCCEEDED, done.error
    assert done.result == {"what": "labels", "file": "ratings.csv", "imported": 3, "attributes": ["country"]}
    assert sorted(Label.objects.filter(project=project).values_list("item__external_id", "values__empathy")) == [
        ("n1", 3), ("n1", 4), ("n2", 2)]
    assert sorted(ProjectAnnotator.objects.filter(project=project).values_list("attributes__country", flat=True)) == [
        "KE", "PT"]


def test_the_api_answers_202_with_the_job_for_a_large_file_and_the_job_then_stores_the_rows(
        researcher, settings, django_capture_on_commit_callbacks):
    settings.RESONANCE_IMPORT_INLINE_BYTES = 100
    project = ProjectFactory(owner=researcher, slug="api-import")
    upload = SimpleUploadedFile("api stories.jsonl", stories(30))
    with django_capture_on_commit_callbacks():
        response = api(researcher).post(f"/api/projects/{project.slug}/items/", {"file": upload}, format="multipart")

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["url"] == reverse("jobs:api_job_detail", args=[body["job"]]) and body["status"] == "queued"
    assert body["page"] == f"/jobs/{body['job']}/" and not Item.objects.filter(project=project).exists()
    job_services.job_run(job_id=body["job"], worker=WORKER)
    followed = api(researcher).get(body["url"]).json()
    assert followed["status"] == "succeeded" and followed["kind"] == "import"
    assert followed["result"] == {"what": "items", "file": "api stories.jsonl", "imported": 30}
    assert Item.objects.filter(project=project).count() == 30


def test_the_api_still_imports_a_small_file_inside_the_request(researcher, settings):
    settings.RESONANCE_IMPORT_INLINE_BYTES = 10_000
    project = ProjectFactory(owner=researcher, slug="api-inline")
    upload = SimpleUploadedFile("few.jsonl", stories(3))
    response = api(researcher).post(f"/api/projects/{project.slug}/items/", {"file": upload}, format="multipart")
    assert response.status_code == 201 and response.json() == {"imported": 3}
    assert not Job.objects.exists()


def test_the_labels_api_answers_202_and_refuses_a_format_for_items_naming_the_field(
        researcher, settings, django_capture_on_commit_callbacks):
    settings.RESONANCE_IMPORT_INLINE_BYTES = 10
    project = ProjectFactory(owner=researcher, slug="api-labels")
    ItemFactory(project=project, external_id="n1")
    content = b"item_id,annotator_id,dimension,value\nn1,a1,empathy,3\n"
    with django_capture_on_commit_callbacks():
        queued = api(researcher).post(f"/api/projects/{project.slug}/labels/",
                                      {"file": SimpleUploadedFile("l.csv", content)}, format="multipart")
        refused = api(researcher).post(f"/api/projects/{project.slug}/labels/",
                                       {"file": SimpleUploadedFile("l.csv", content), "format": "jsonl"},
                                       format="multipart")
    assert queued.status_code == 202
    assert refused.status_code == 400 and list(refused.json()) == ["format"]
    job = job_services.job_run(job_id=queued.json()["job"], worker=WORKER)
    assert job.result == {"what": "labels", "file": "l.csv", "imported": 1, "attributes": []}


def test_the_page_sends_a_large_file_to_its_job_page_and_only_the_projects_researchers_may_launch_or_see_it(
        researcher, other_researcher, settings, django_capture_on_commit_callbacks):
    settings.RESONANCE_IMPORT_INLINE_BYTES = 100
    project = ProjectFactory(owner=researcher, slug="page-import")
    url = reverse("annotations:project_import", args=[project.slug])
    outsider = Client()
    outsider.force_login(other_researcher)
    assert outsider.post(url, {"file": SimpleUploadedFile("x.jsonl", stories(30))}).status_code == 404
    assert api(other_researcher).post(f"/api/projects/{project.slug}/items/",
                                      {"file": SimpleUploadedFile("x.jsonl", stories(30))},
                                      format="multipart").status_code == 404
    assert not Job.objects.exists()

    owner = Client()
    owner.force_login(researcher)
    with django_capture_on_commit_callbacks():
        plain = owner.post(url, {"file": SimpleUploadedFile("page.jsonl", stories(30))})
        htmx = owner.post(url, {"file": SimpleUploadedFile("again.jsonl", stories(30, start=30))}, HTTP_HX_REQUEST="true")
    first, second = Job.objects.order_by("pk")
    assert plain.status_code == 302 and plain["Location"] == reverse("jobs:job_detail", args=[first.pk])
    assert htmx.status_code == 200 and htmx["HX-Redirect"] == reverse("jobs:job_detail", args=[second.pk])
    job_services.job_run(job_id=first.pk, worker=WORKER)
    page = owner.get(reverse("jobs:job_detail", args=[first.pk])).content.decode()
    assert "Imported 30 items from page.jsonl." in page and reverse("annotations:project_items", args=[project.slug]) in page
    assert outsider.get(reverse("jobs:job_detail", args=[first.pk])).status_code == 403

    project.collaborators.add(other_researcher)
    assert "Imported 30 items from page.jsonl." in outsider.get(reverse("jobs:job_detail", args=[first.pk])).content.decode()
    with django_capture_on_commit_callbacks():
        shared = outsider.post(url, {"file": SimpleUploadedFile("theirs.jsonl", stories(30, start=60))})
    assert shared.status_code == 302 and Job.objects.count() == 3


def test_a_file_over_the_upload_limit_is_refused_on_the_page_naming_it(researcher, settings):
    settings.RESONANCE_MAX_UPLOAD_BYTES = 100
    project = ProjectFactory(owner=researcher, slug="too-big")
    owner = Client()
    owner.force_login(researcher)
    response = owner.post(reverse("annotations:project_import", args=[project.slug]),
                          {"file": SimpleUploadedFile("huge.jsonl", stories(30))})
    assert response.status_code == 422 and "huge.jsonl is 0.0 MiB; an import file may be at most" in response.text
    assert not Item.objects.filter(project=project).exists() and not Job.objects.exists()
