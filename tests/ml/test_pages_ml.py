"""Registry and job pages and API: the permission matrix of every endpoint (owner, other researcher,
annotator, participant, anonymous), live progress, and a dead broker reported in words while the
annotation pages keep working."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from ml import services
from ml.models import ModelVersion
from tests.celery_worker import point_publisher_at
from tests.ml import test_jobs_support as support
from tests.ml.test_jobs_support import make_project, make_study
from webapp.jobs import services as job_services
from webapp.jobs.models import Job
from webapp.management.commands.model_managers import model_managers_group

generator_version = support.generator_version  # a fixture shared with the other ml test modules

ROLES = ("owner", "other_researcher", "annotator", "participant", "anonymous")


@pytest.fixture
def world(researcher, other_researcher, annotator, participant, generator_version):
    study = make_study(owner=researcher, model_version=generator_version, n_prompts=2)
    project = make_project(owner=researcher)
    job = services.model_job_launch(kind="generation", model_version=generator_version, study=study,
                              created_by=researcher)
    users = {"owner": researcher, "other_researcher": other_researcher, "annotator": annotator,
             "participant": participant, "anonymous": None}
    return {"study": study, "project": project, "job": job, "version": generator_version, "users": users}


def page_client(client, user):
    if user is not None:
        client.force_login(user)
    return client


def api_client(user):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


LAB_WIDE = {"owner": 200, "other_researcher": 200, "annotator": 403, "participant": 403, "anonymous": 302}
OWNER_ONLY = {"owner": 200, "other_researcher": 403, "annotator": 403, "participant": 403, "anonymous": 302}
# another group's study or project is not revealed: 404, as for one that does not exist
TARGET_ONLY = {**OWNER_ONLY, "other_researcher": 404}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name, url, expected", [
    ("models", lambda w: reverse("ml:models"), LAB_WIDE),
    ("jobs", lambda w: reverse("jobs:jobs"), LAB_WIDE),
    ("job detail", lambda w: reverse("jobs:job_detail", args=[w["job"].pk]), OWNER_ONLY),
    ("new job on a study", lambda w: reverse("ml:job_new") + f"?study={w['study'].slug}", TARGET_ONLY),
    ("new job on a project", lambda w: reverse("ml:job_new") + f"?project={w['project'].slug}", TARGET_ONLY),
])
def test_page_get_permissions(client, world, role, name, url, expected):
    response = page_client(client, world["users"][role]).get(url(world))

    assert response.status_code == expected[role], name
    if expected[role] == 302:
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name, url, expected", [
    # promoting is the model managers' role, not every researcher's (tests/ml/test_model_managers.py)
    ("promote", lambda w: reverse("ml:model_promote", args=[w["version"].pk]),
     {"owner": 403, "other_researcher": 403, "annotator": 403, "participant": 403, "anonymous": 302}),
    ("cancel", lambda w: reverse("jobs:job_cancel", args=[w["job"].pk]),
     {"owner": 302, "other_researcher": 403, "annotator": 403, "participant": 403, "anonymous": 302}),
    ("retry", lambda w: reverse("jobs:job_retry", args=[w["job"].pk]),
     {"owner": 302, "other_researcher": 403, "annotator": 403, "participant": 403, "anonymous": 302}),
    ("register", lambda w: reverse("ml:model_register"),
     {"owner": 422, "other_researcher": 422, "annotator": 403, "participant": 403, "anonymous": 302}),
])
def test_page_post_permissions(client, world, role, name, url, expected):
    response = page_client(client, world["users"][role]).post(url(world), {})

    assert response.status_code == expected[role], name
    if role == "anonymous":
        assert response["Location"].startswith(reverse("login"))


API_LAB_WIDE = {"owner": 200, "other_researcher": 200, "annotator": 403, "participant": 403, "anonymous": 401}
API_OWNER = {"owner": 200, "other_researcher": 403, "annotator": 403, "participant": 403, "anonymous": 401}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method, url, body, expected", [
    ("get", lambda w: reverse("ml:api_models"), None, API_LAB_WIDE),
    ("get", lambda w: reverse("ml:api_model_detail", args=[w["version"].pk]), None, API_LAB_WIDE),
    ("post", lambda w: reverse("ml:api_model_promote", args=[w["version"].pk]), {},
     {**API_LAB_WIDE, "owner": 403, "other_researcher": 403}),
    ("get", lambda w: reverse("jobs:api_jobs"), None, API_LAB_WIDE),
    ("get", lambda w: reverse("jobs:api_job_detail", args=[w["job"].pk]), None, API_OWNER),
    ("get", lambda w: reverse("ml:api_job_scores", args=[w["job"].pk]), None, API_OWNER),
    ("post", lambda w: reverse("jobs:api_job_cancel", args=[w["job"].pk]), {}, API_OWNER),
    ("post", lambda w: reverse("jobs:api_jobs"),
     lambda w: {"kind": "generation", "model_version": w["version"].pk, "study": w["study"].slug},
     {**API_OWNER, "owner": 201, "other_researcher": 404}),
    ("post", lambda w: reverse("ml:api_models"), {"name": "x", "kind": "generator", "path": "/nowhere"},
     {**API_LAB_WIDE, "owner": 403, "other_researcher": 403}),  # registering is the model managers' role
])
def test_api_permissions(world, role, method, url, body, expected):
    payload = body(world) if callable(body) else body
    response = getattr(api_client(world["users"][role]), method)(url(world), payload, format="json")

    assert response.status_code == expected[role], response.content[:300]


def test_api_job_list_shows_only_jobs_the_researcher_may_see(world):
    mine = api_client(world["users"]["owner"]).get(reverse("jobs:api_jobs")).json()
    theirs = api_client(world["users"]["other_researcher"]).get(reverse("jobs:api_jobs")).json()

    assert [job["id"] for job in mine] == [world["job"].pk]
    assert theirs == []


def test_api_register_refuses_a_folder_that_is_not_a_model_with_the_reason(world, tmp_path, settings):
    settings.RESONANCE_MODEL_STORE = tmp_path
    (tmp_path / "empty").mkdir()
    model_managers_group().user_set.add(world["users"]["owner"])
    response = api_client(world["users"]["owner"]).post(
        reverse("ml:api_models"), {"name": "empty", "kind": "generator", "path": "empty"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"path": ["path: not a loadable generator: model store/empty has no config.json"]}
    assert not ModelVersion.objects.filter(name="empty").exists()


def test_job_progress_fragment_polls_every_2s_until_the_job_finishes(client, world):
    client.force_login(world["users"]["owner"])
    url = reverse("jobs:job_detail", args=[world["job"].pk])

    running = client.get(url, headers={"HX-Request": "true"})
    job_services.job_finish(job_id=world["job"].pk, status=Job.Status.FAILED, error="out of patience")
    finished = client.get(url, headers={"HX-Request": "true"})

    assert running.status_code == 200 and 'hx-trigger="every 2s"' in running.text
    assert "<html" not in running.text  # a fragment, not the page
    assert 'hx-trigger' not in finished.text and finished["HX-Refresh"] == "true"
    assert "out of patience" in client.get(url).text


def test_models_page_lists_versions_and_links_from_the_top_nav(client, world):
    client.force_login(world["users"]["owner"])

    page = client.get(reverse("ml:models"))

    assert world["version"].name in page.text
    assert f'href="{reverse("ml:models")}"' in client.get(reverse("dashboard")).text


def test_register_form_refuses_a_bad_folder_and_says_why(client, world, tmp_path, settings):
    settings.RESONANCE_MODEL_STORE = tmp_path
    (tmp_path / "empty").mkdir()
    model_managers_group().user_set.add(world["users"]["owner"])
    client.force_login(world["users"]["owner"])

    response = client.post(reverse("ml:model_register"), {"name": "bad", "kind": "scorer", "path": "empty"})

    assert response.status_code == 422
    assert "model store/empty has no config.json" in response.text and str(tmp_path) not in response.text


def test_with_the_broker_down_launch_says_so_and_annotation_pages_still_work(
        client, world, annotator, django_capture_on_commit_callbacks):
    client.force_login(world["users"]["owner"])
    restore = point_publisher_at("redis://127.0.0.1:1/0", {})
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("ml:job_new"), {
                "study": world["study"].slug, "kind": "generation", "model_version": world["version"].pk,
                "system": "tiny", "batch_size": 4, "max_new_tokens": 8, "temperature": 0.5, "seed": 1,
                "combine": "mean"})
        job = Job.objects.latest("pk")
        detail = client.get(response["Location"])
        project_page = client.get(reverse("annotations:project_detail", args=[world["project"].slug]))
        client.force_login(annotator)
        join_page = client.get(reverse("annotations:join", args=[world["project"].slug]), follow=True)
    finally:
        restore()

    assert response.status_code == 302 and job.status == Job.Status.FAILED
    assert "the job queue is not reachable:" in detail.text
    assert project_page.status_code == 200
    assert join_page.status_code == 200


def test_launch_form_offers_only_generation_and_scoring_and_says_a_refusal_once(client, world):
    client.force_login(world["users"]["owner"])
    url = reverse("ml:job_new") + f"?study={world['study'].slug}"
    page = client.get(url).text
    assert 'value="generation"' in page and 'value="scoring"' in page
    for other in ("export", "report", "train"):
        assert f'value="{other}"' not in page
    assert f"{world['version'].name} (generator" in page
    # a generator cannot score: the service refuses, and the page says so once
    response = client.post(reverse("ml:job_new"), {
        "study": world["study"].slug, "kind": "scoring", "model_version": world["version"].pk, "batch_size": 4,
        "combine": "mean"})
    assert response.status_code == 422
    refusal = f"{world['version'].name} is a generator; a scoring job needs a"
    assert response.text.count(refusal) == 1, response.text
