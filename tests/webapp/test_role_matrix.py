"""Every URL pattern and API operation, for every role, by GET and by POST on real objects: never a 5xx, and
researcher pages and APIs never answer a non-researcher with success."""

import re

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver
from rest_framework.test import APIClient

from annotations.services import flow
from ml import services as ml_services
from studies import services as study_services
from tests.ml import test_jobs_support as support
from tests.ml.conftest import save_tiny_llama
from tests.ml.test_jobs_support import make_project, make_study
from tests.studies.conftest import responses_jsonl, study_spec

pytestmark = pytest.mark.django_db
generator_version = support.generator_version  # fixture


@pytest.fixture(scope="module")
def tiny_llama_path(tmp_path_factory):
    return save_tiny_llama(tmp_path_factory.mktemp("tiny-llama"))

RESEARCHER_ONLY = re.compile(r"^(dashboard/|projects/|studies/|models/|jobs/|reports/|api/projects/|api/ml/|api/jobs/|"
                             r"api/studies/(?!participate/))")
SUCCESS = {200, 201, 204}


def _routes(patterns=None, prefix=""):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern)


def _url(route: str, world: dict) -> str:
    studies_route = route.startswith(("s/", "studies/", "api/studies/"))

    def fill(match):
        name = match.group(2)
        if name == "slug":
            return world["study"].slug if studies_route else world["project"].slug
        if name == "token":
            return world["participant"].token
        if name == "pk":
            return str(world["version"].pk if "models/" in route else world["job"].pk)
        return {"external_id": "r0", "pseudonym": "a1"}.get(name, "x")

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", fill, route)


@pytest.fixture
def world(researcher, other_researcher, annotator, participant, generator_version):
    spec = study_spec(slug="matrix")
    study = study_services.study_load(spec=spec, owner=researcher)
    study_services.responses_import(study=study, lines=responses_jsonl(spec), source="responses.jsonl")
    study = study_services.study_open(study=study)
    project = make_project(owner=researcher)
    flow.enrollment_open(project=project, user=annotator)
    generated = make_study(owner=researcher, model_version=generator_version, n_prompts=2)
    job = ml_services.model_job_launch(kind="generation", model_version=generator_version, study=generated,
                                 created_by=researcher)
    enrolled = study_services.participant_enroll(study=study, user=participant)
    return {"study": study, "project": project, "job": job, "version": generator_version, "participant": enrolled,
            "users": {"owner": researcher, "other_researcher": other_researcher, "annotator": annotator,
                      "participant": participant, "anonymous": None}}


@pytest.mark.parametrize("role", ["owner", "other_researcher", "annotator", "participant", "anonymous"])
def test_every_route_answers_every_role_without_a_server_error_or_a_leak(world, role):
    user = world["users"][role]
    routes = [route for route in _routes() if not route.startswith("admin/")]
    assert len(routes) > 60
    failures = []
    for route in routes:
        url = _url(route, world)
        client = APIClient() if url.startswith("/api/") else Client()
        if user is not None:
            client.force_login(user)
        for method in ("get", "post"):
            response = getattr(client, method)(url, {}, **({"format": "json"} if url.startswith("/api/") else {}))
            if response.status_code >= 500:
                failures.append(f"{method.upper()} {url}: {response.status_code}")
            elif (role in {"annotator", "participant", "anonymous"} and RESEARCHER_ONLY.match(route)
                  and response.status_code in SUCCESS):
                failures.append(f"{method.upper()} {url}: {response.status_code} for {role}")
    assert not failures, failures
