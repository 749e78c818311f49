"""Statistical reports as background jobs: the settings a launch accepts, the JSON a run writes (the same
figures as the report computed directly), who may launch and download it, the pages and the commands."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.urls import reverse

from annotations.agreement.load import project_agreement_report
from annotations.jobs import AnnotationJobKind, agreement_report_file, agreement_report_job_launch
from annotations.services.quality import annotator_exclude
from studies.analysis.load import study_report_for
from studies.jobs import StudyJobKind, study_report_file, study_report_job_launch
from studies.services import judgments_import
from tests.celery_worker import point_publisher_at
from tests.factories import ItemFactory, LabelFactory, ProjectFactory, UserFactory
from tests.ml import test_exports
from tests.ml.test_exports import WORKER, stored_text
from tests.ml.test_jobs_support import make_study
from webapp.jobs import selectors as job_selectors
from webapp.jobs import services as job_services
from webapp.jobs.errors import Cancelled, JobError
from webapp.jobs.files import MANIFEST_SUFFIX
from webapp.jobs.models import Job

media_root = test_exports.media_root  # autouse: each test writes into its own MEDIA_ROOT

ROLES = ("owner", "other_researcher", "annotator", "participant", "anonymous")
JUDGMENTS_HEADER = "participant_id,prompt_id,system_a,system_b,choice,left,criterion"
REPORT_KINDS = (AnnotationJobKind.AGREEMENT_REPORT, StudyJobKind.STUDY_REPORT)


def report_job_launch(*, created_by, project=None, study=None, **settings) -> Job:
    """The report launch of the target's own app: the agreement report of a project, the report of a study."""
    if project is not None:
        return agreement_report_job_launch(project=project, created_by=created_by, **settings)
    return study_report_job_launch(study=study, created_by=created_by, **settings)


def report_file(job: Job) -> str:
    return agreement_report_file(job) if job.kind == AnnotationJobKind.AGREEMENT_REPORT else study_report_file(job)


def report_launch_url(target: str, slug: str) -> str:
    return reverse("annotations:agreement_report_launch" if target == "project" else "studies:study_report_launch", args=[slug])


@pytest.fixture
def rated_project(researcher):
    """Five narratives rated by three annotators from two countries, who mostly agree."""
    project = ProjectFactory(owner=researcher, slug="to-report")
    raters = [UserFactory(username=f"rater-{i}", attributes={"country": "UK" if i < 2 else "IE"}) for i in range(3)]
    for i in range(5):
        item = ItemFactory(project=project, external_id=f"n{i}")
        for j, rater in enumerate(raters):
            LabelFactory(item=item, annotator=rater, values={"empathy": 1 + (i + (j == 2 and i % 2)) % 5})
    return project


@pytest.fixture
def judged_study(researcher):
    study = make_study(owner=researcher, slug="to-report-study", n_prompts=4)
    rows = [f"w{k},p{i},tiny,baseline,{'a' if k < 2 else 'b'},{'ab'[(i + k) % 2]},overall"
            for i in range(4) for k in range(3)]
    judgments_import(study=study, lines=[JUDGMENTS_HEADER, *rows], source="t.csv")
    return study


def launched(django_capture_on_commit_callbacks, **launch) -> Job:
    with django_capture_on_commit_callbacks() as callbacks:
        job = report_job_launch(**launch)
    assert len(callbacks) == 1  # enqueued once the row is committed
    return job


def stored_json(name: str) -> dict:
    return json.loads(stored_text(name))


def same_as_json(report: dict) -> dict:
    """The report as its JSON file reads back (tuples become lists, keys strings)."""
    return json.loads(json.dumps(report, allow_nan=False))


def test_a_launch_keeps_its_settings_as_the_job_params(rated_project, judged_study, researcher,
                                                       django_capture_on_commit_callbacks):
    agreement = launched(django_capture_on_commit_callbacks, project=rated_project, created_by=researcher)
    study = launched(django_capture_on_commit_callbacks, study=judged_study, created_by=researcher,
                     n_bootstrap="300", seed="4", include_ended=True)  # a form's strings

    assert (agreement.kind, agreement.status, agreement.target, study.kind) == (
        AnnotationJobKind.AGREEMENT_REPORT, Job.Status.QUEUED, rated_project, StudyJobKind.STUDY_REPORT)
    assert agreement.params == {"report": "agreement", "n_bootstrap": 2000, "seed": 0, "by": []}
    assert study.params == {"report": "study", "n_bootstrap": 300, "seed": 4, "include_ended": True}


@pytest.mark.parametrize("launch, message", [
    ({"n_bootstrap": 99}, "params.n_bootstrap: must be between 100 and 20000"),
    ({"n_bootstrap": 20001}, "params.n_bootstrap: must be between 100 and 20000"),
    ({"n_bootstrap": "many"}, "params.n_bootstrap: 'many' is not a number"),
    ({"seed": -1}, "params.seed: must be between 0 and 2147483647"),
    ({"by": "country"}, "params.by: must be a list of annotator attribute names"),
    ({"by": ["country", " country"]}, "params.by: names must be distinct"),
    ({"include_ended": True}, "params.include_ended: only a study's report"),
    ({"study": "to-report-study"}, "study: give one target, not project and study"),
    ({"project": None}, "target: a statistical report job runs on a project"),
])
def test_bad_settings_are_refused_naming_the_field_before_anything_is_queued(
        rated_project, judged_study, researcher, launch, message):
    data = {"project": rated_project.slug, **launch}  # as the jobs API takes them
    with pytest.raises(JobError, match=message):
        target = job_selectors.job_target_for_user(user=researcher, data=data)
        job_services.job_launch(kind=AnnotationJobKind.AGREEMENT_REPORT, created_by=researcher, target=target,
                                data={key: value for key, value in data.items() if key not in ("project", "study")})
    assert not Job.objects.exists()


def test_a_study_report_refuses_an_annotator_breakdown(judged_study, researcher):
    with pytest.raises(JobError, match="params.by: only an agreement report"):
        job_services.job_launch(kind=StudyJobKind.STUDY_REPORT, created_by=researcher, target=judged_study,
                                data={"by": ["country"]})


def test_the_agreement_report_job_writes_the_figures_of_the_report_computed_directly(
        rated_project, researcher, django_capture_on_commit_callbacks):
    careless = UserFactory(username="rater-2")  # the fixture's rater from IE
    annotator_exclude(project=rated_project, annotator=careless, reason="careless", created_by=researcher)
    job = launched(django_capture_on_commit_callbacks, project=rated_project, created_by=researcher,
                   n_bootstrap=150, seed=7, by=["country"])

    job = job_services.job_run(job_id=job.pk, worker=WORKER)

    assert job.status == Job.Status.SUCCEEDED, job.error
    name = report_file(job)
    assert name == f"reports/job-{job.pk}/to-report-agreement-report.json"
    direct = project_agreement_report(project=rated_project, by=["country"], n_bootstrap=150, seed=7)
    written = stored_json(name)
    assert written == same_as_json(direct)
    assert written["settings"]["bootstrap"] == 150 and written["excluded_annotators"] == [careless.pseudonym]
    assert set(written["groups"]["country"]) == {"UK"}  # the excluded rater was the only one from IE
    assert job.result == {"file": "to-report-agreement-report.json", "report": "agreement", "items": 5,
                          "labels": 10, "n_bootstrap": 150, "seed": 7}
    manifest = stored_json(name + MANIFEST_SUFFIX)
    assert (manifest["job"], manifest["project"], manifest["spec_hash"], manifest["by"]) == (
        job.pk, "to-report", rated_project.spec_hash, ["country"])


def test_the_study_report_job_writes_the_figures_of_study_report_for(
        judged_study, researcher, django_capture_on_commit_callbacks):
    job = launched(django_capture_on_commit_callbacks, study=judged_study, created_by=researcher,
                   n_bootstrap=120, seed=3)

    job = job_services.job_run(job_id=job.pk, worker=WORKER)

    assert job.status == Job.Status.SUCCEEDED, job.error
    name = report_file(job)
    assert name == f"reports/job-{job.pk}/to-report-study-study-report.json"
    written = stored_json(name)
    assert written == same_as_json(study_report_for(judged_study, n_bootstrap=120, seed=3))
    [comparison] = written["comparisons"]
    # 4 prompts: w0 and w1 chose tiny, w2 baseline (a pair is reported winner first)
    assert [comparison[key] for key in ("system_a", "system_b", "wins_a", "wins_b")] == ["tiny", "baseline", 8, 4]
    assert job.result == {"file": "to-report-study-study-report.json", "report": "study", "judgments": 12,
                          "participants": 3, "n_bootstrap": 120, "seed": 3}
    assert stored_json(name + MANIFEST_SUFFIX)["study"] == "to-report-study"


def test_a_report_job_cancelled_before_it_starts_writes_nothing(rated_project, researcher,
                                                                django_capture_on_commit_callbacks):
    job = launched(django_capture_on_commit_callbacks, project=rated_project, created_by=researcher,
                   n_bootstrap=100)

    with pytest.raises(Cancelled, match="stopped before the statistical report started"):
        job.spec.run(job, lambda done, total: False)

    assert not default_storage.exists(report_file(job))


def test_reports_go_to_the_default_queue():
    from webapp.celery import app
    from webapp.jobs.registry import job_kind
    from webapp.jobs.services import TASK_FOR_QUEUE

    for kind in REPORT_KINDS:
        assert job_kind(kind).queue == "default"
    assert app.amqp.router.route({}, TASK_FOR_QUEUE["default"])["queue"].name == "default"


def test_the_pages_offer_the_report_and_the_job_page_the_download(
        client, rated_project, judged_study, researcher, django_capture_on_commit_callbacks):
    client.force_login(researcher)
    agreement = client.get(reverse("annotations:agreement_page", args=[rated_project.slug]) + "?by=country").text
    results = client.get(reverse("studies:study_results", args=[judged_study.slug]) + "?bootstrap=0").text
    assert 'data-testid="report-form"' in agreement and 'name="by" value="country"' in agreement
    assert "Full report in the background (" in agreement and 'value="2000"' in agreement
    assert 'data-testid="report-form"' in results and 'name="study" value="to-report-study"' in results

    with django_capture_on_commit_callbacks():
        response = client.post(report_launch_url("project", rated_project.slug), {"by": "country",
                                                             "n_bootstrap": "100"})
    job = Job.objects.get(kind__in=REPORT_KINDS)
    assert response.status_code == 302 and response["Location"] == reverse("jobs:job_detail", args=[job.pk])
    assert job.params == {"report": "agreement", "n_bootstrap": 100, "seed": 0, "by": ["country"]}
    download = reverse("jobs:job_download", args=[job.pk])
    assert 'data-testid="report-download"' not in client.get(response["Location"]).text
    assert client.get(download).status_code == 404  # not written yet

    job_services.job_run(job_id=job.pk, worker=WORKER)

    page = client.get(response["Location"]).text
    assert 'data-testid="report-download"' in page and "statistical report" in page
    assert "5 items, 15 labels; 100 bootstrap replicates, seed 0" in page
    response = client.get(download)
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert json.loads(b"".join(response.streaming_content))["project"] == rated_project.slug
    assert client.get(download + "?manifest=1").status_code == 200


def test_a_refused_launch_goes_back_to_the_page_and_says_why(client, judged_study, researcher):
    client.force_login(researcher)

    response = client.post(report_launch_url("study", judged_study.slug), {"n_bootstrap": "50"},
                           follow=True)

    assert response.redirect_chain[-1][0] == reverse("studies:study_results", args=[judged_study.slug])
    assert "params.n_bootstrap: must be between 100 and 20000" in response.text
    assert not Job.objects.exists()


@pytest.fixture
def finished_reports(rated_project, judged_study, researcher, other_researcher, annotator, participant,
                     django_capture_on_commit_callbacks):
    jobs = {}
    for target in ({"project": rated_project}, {"study": judged_study}):
        job = launched(django_capture_on_commit_callbacks, created_by=researcher, n_bootstrap=100, **target)
        jobs[next(iter(target))] = job_services.job_run(job_id=job.pk, worker=WORKER)
    users = {"owner": researcher, "other_researcher": other_researcher, "annotator": annotator,
             "participant": participant, "anonymous": None}
    return jobs, users


LAUNCH = {"owner": 302, "other_researcher": 404, "annotator": 403, "participant": 403, "anonymous": 302}
DOWNLOAD = {"owner": 200, "other_researcher": 403, "annotator": 403, "participant": 403, "anonymous": 302}


@pytest.mark.parametrize("target", ["project", "study"])
@pytest.mark.parametrize("role", ROLES)
def test_only_the_targets_researchers_launch_and_download_reports(
        client, finished_reports, role, target, django_capture_on_commit_callbacks):
    jobs, users = finished_reports
    job = jobs[target]
    if users[role] is not None:
        client.force_login(users[role])
    slug = job.target.slug

    with django_capture_on_commit_callbacks():
        launch = client.post(report_launch_url(target, slug), {"n_bootstrap": "100"})
    download = client.get(reverse("jobs:job_download", args=[job.pk]))
    manifest = client.get(reverse("jobs:job_download", args=[job.pk]) + "?manifest=1")

    assert launch.status_code == LAUNCH[role]
    assert download.status_code == manifest.status_code == DOWNLOAD[role]
    if role == "anonymous":
        assert reverse("login") in launch["Location"] and reverse("login") in download["Location"]
    assert Job.objects.filter(kind__in=REPORT_KINDS).count() == 2 + (role == "owner")


def test_a_collaborator_on_the_study_sees_its_report_and_downloads_it(client, finished_reports, judged_study):
    collaborator = UserFactory(username="collaborator", role="researcher")
    judged_study.collaborators.add(collaborator)
    client.force_login(collaborator)
    job = finished_reports[0]["study"]

    page = client.get(reverse("jobs:job_detail", args=[job.pk])).text
    assert "12 judgments by 3 participants; 100 bootstrap replicates, seed 0" in page
    assert client.get(reverse("jobs:job_download", args=[job.pk])).status_code == 200


def test_with_the_broker_down_the_launch_says_so_and_the_agreement_page_still_works(
        client, rated_project, researcher, django_capture_on_commit_callbacks):
    client.force_login(researcher)
    restore = point_publisher_at("redis://127.0.0.1:1/0", {})  # nothing listens on port 1
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(report_launch_url("project", rated_project.slug))
        detail = client.get(response["Location"])
        page = client.get(reverse("annotations:agreement_page", args=[rated_project.slug]))
    finally:
        restore()

    job = Job.objects.get(kind__in=REPORT_KINDS)
    assert response.status_code == 302 and job.status == Job.Status.FAILED
    assert "the job queue is not reachable:" in detail.text
    assert page.status_code == 200 and 'data-testid="report-form"' in page.text


def test_background_flags_queue_the_report_and_print_the_job_page(rated_project, judged_study,
                                                                   django_capture_on_commit_callbacks):
    out = StringIO()
    with django_capture_on_commit_callbacks():  # not run: no broker needed to queue the row
        call_command("agreement", rated_project.slug, "--background", "--by", "country", "--seed", "5",
                     stdout=out)
        call_command("study_report", judged_study.slug, "--background", "--bootstrap", "400", "--include-ended",
                     stdout=out)

    agreement, study = Job.objects.filter(kind__in=REPORT_KINDS).order_by("pk")
    assert out.getvalue().splitlines() == [
        f"job {agreement.pk} queued (statistical report): /jobs/{agreement.pk}/",
        f"job {study.pk} queued (statistical report): /jobs/{study.pk}/",
    ]
    assert agreement.params == {"report": "agreement", "n_bootstrap": 1000, "seed": 5, "by": ["country"]}
    assert study.params == {"report": "study", "n_bootstrap": 400, "seed": 0, "include_ended": True}


def test_background_flags_refuse_what_a_report_job_cannot_do(rated_project):
    with pytest.raises(CommandError, match="params.n_bootstrap: must be between 100 and 20000"):
        call_command("agreement", rated_project.slug, "--background", "--bootstrap", "50", stdout=StringIO())
    with pytest.raises(CommandError, match="--background: a report job uses declared levels"):
        call_command("agreement", rated_project.slug, "--background", "--level", "interval", stdout=StringIO())
    assert not Job.objects.exists()
