"""The preference export as a background job: the file and manifest a worker leaves equal what the export service
writes directly with the same filters; a bad setting is refused naming it; the jobs API launches it; only the
study's researchers launch or fetch it."""

import json

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from rest_framework.test import APIClient

from studies.export import export_filters, export_lines
from studies.jobs import StudyJobKind, preference_export_file, preference_export_job_launch
from tests.studies.test_export_preferences import ALPHA, BETA, import_judgments, prompt
from webapp.jobs import services as job_services
from webapp.jobs.errors import JobError
from webapp.jobs.files import MANIFEST_SUFFIX
from webapp.jobs.models import Job

pytestmark = pytest.mark.django_db
WORKER = "in-process@test"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def judged(make_study):
    study = make_study()
    import_judgments(study, [("w1", prompt(0), ALPHA, BETA, "a", "a", "overall"),
                             ("w2", prompt(0), ALPHA, BETA, "a", "b", "overall"),
                             ("w3", prompt(1), BETA, ALPHA, "b", "a", "overall"),
                             ("w1", prompt(2), ALPHA, BETA, "tie", "a", "overall")])
    return study


def _stored(name: str) -> str:
    with default_storage.open(name, "rb") as handle:
        return handle.read().decode()


@pytest.mark.parametrize("fmt, switches", [("dpo", {}), ("dpo", {"per_judgment": True}),
                                           ("raw", {"with_attributes": True})])
def test_the_job_leaves_the_same_export_as_the_service(judged, researcher, django_capture_on_commit_callbacks,
                                                       fmt, switches):
    with django_capture_on_commit_callbacks() as queued:
        job = preference_export_job_launch(study=judged, created_by=researcher, fmt=fmt, **switches)
    assert len(queued) == 1 and job.queue == "default"
    job = job_services.job_run(job_id=job.pk, worker=WORKER)

    assert job.status == Job.Status.SUCCEEDED, job.error
    name = preference_export_file(job)
    filters = export_filters(judged, **switches)
    assert _stored(name) == "".join(export_lines(judged, format=fmt, filters=filters))
    manifest = json.loads(_stored(name + MANIFEST_SUFFIX))
    assert manifest["study"] == judged.slug and manifest["format"] == fmt and manifest["filters"] == filters
    assert job.result == {"file": name.rsplit("/", 1)[-1], "format": fmt, "records": manifest["counts"]["records"],
                          "sha256": manifest["sha256"]}
    assert job.result["records"] == len(_stored(name).splitlines()) > 0


@pytest.mark.parametrize("options, field", [
    ({"fmt": "csv"}, "format"),
    ({"include_ended": "yes"}, "params.include_ended"),
    ({"criteria": ["warmth"]}, "params.criteria"),
    ({"shuffle": True}, "params.shuffle"),
])
def test_a_bad_setting_is_refused_naming_it_and_nothing_is_queued(judged, researcher, options, field):
    with pytest.raises(JobError) as refused:
        preference_export_job_launch(study=judged, created_by=researcher, **options)
    assert refused.value.field == field and not Job.objects.exists()


def test_the_jobs_api_and_the_page_launch_it_for_the_studys_researchers_only(client, judged, researcher,
                                                                           other_researcher):
    api = APIClient()
    api.force_authenticate(researcher)
    made = api.post(reverse("jobs:api_jobs"), {"kind": StudyJobKind.PREFERENCE_EXPORT, "study": judged.slug,
                                               "format": "raw", "include_ended": True}, format="json")
    assert made.status_code == 201, made.content
    assert made.json()["params"] == {"format": "raw", "criteria": [], "include_ended": True,
                                     "exclude_one_sided": False, "per_judgment": False, "with_attributes": False}
    api.force_authenticate(other_researcher)
    assert api.post(reverse("jobs:api_jobs"), {"kind": StudyJobKind.PREFERENCE_EXPORT, "study": judged.slug},
                    format="json").status_code == 404

    client.force_login(researcher)
    page = client.post(reverse("studies:preference_export_launch", args=[judged.slug]),
                       {"format": "dpo", "per_judgment": "1"})
    job = Job.objects.filter(kind=StudyJobKind.PREFERENCE_EXPORT).latest("pk")
    assert page.status_code == 302 and page["Location"] == reverse("jobs:job_detail", args=[job.pk])
    assert job.params["per_judgment"] is True and job.params["include_ended"] is False
    client.force_login(other_researcher)
    assert client.post(reverse("studies:preference_export_launch", args=[judged.slug])).status_code == 404
