"""Schemathesis over the OpenAPI schema, all of its checks, at a bounded and derandomized budget, for two roles.

A researcher owns the project and the study `demo` (so a slug reaches real objects); an annotator is enrolled in the
project and must be refused everywhere else. The stateful phase then chains operations along the links schemathesis
infers (the list's slugs into detail, update, share and delete), so a scenario acts on what earlier steps returned. Any answer the schema does not describe fails the test, naming the
operation, the check and why. See tests/webapp/api_fuzz_support.py for how the phases are driven.
"""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from rest_framework.authtoken.models import Token
from schemathesis.config._checks import POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES

from annotations.api_annotate import assignment_token
from annotations.services import flow
from annotations.services.turn import turn_next
from ml.models import ModelJob, ModelVersion
from studies import services as study_services
from tests.studies.conftest import responses_jsonl, run_participant, study_spec
from tests.webapp.api_fuzz_support import (
    Budget,
    Findings,
    RealObjects,
    StatefulBudget,
    all_checks,
    run_operation,
    run_stateful,
)

pytestmark = pytest.mark.django_db
BUDGET = Budget(coverage_cases=20, fuzzed_cases=4)
STATEFUL = StatefulBudget(scenarios=25, steps=6)
OPERATIONS_AT_LEAST = 50

# Operations whose input is checked beyond what a JSON schema can say: there a request of the right shape may be
# refused with a field-keyed 400, and positive_data_acceptance takes that answer too. Every other check still applies.
CHECKED_BEYOND_THE_SCHEMA = {
    "POST /api/token/": "the credentials must be a real user's",
    "POST /api/projects/": "the spec is a document with its own language",
    "PUT /api/projects/{slug}/": "the spec is a document with its own language",
    "POST /api/studies/": "the spec is a document with its own language",
    "PUT /api/studies/{slug}/": "the spec is a document with its own language",
    "POST /api/projects/{slug}/items/": "the file is parsed in its format",
    "POST /api/projects/{slug}/labels/": "the file is parsed in its format",
    "POST /api/studies/{slug}/responses/": "the JSONL lines and rows must name the study's prompts and systems",
    "POST /api/projects/{slug}/share/": "the username must be a researcher's",
    "POST /api/studies/{slug}/share/": "the username must be a researcher's",
    "POST /api/annotate/{slug}/submit/": "the assignment id must be one the server gave out, the values the spec's",
    "POST /api/annotate/{slug}/skip/": "the assignment id must be one the server gave out",
    "POST /api/studies/participate/{token}/judgments/": "the answers must name the study's criteria, the slot the one shown",
    "POST /api/jobs/": "each kind of job has its own fields and target",
    "POST /api/ml/train/": "each recipe needs its own target and base",
    "POST /api/ml/models/": "the path must be a loadable model folder",
    "GET /api/projects/{slug}/agreement/": "regroup rules have their own grammar and name recorded attributes",
    "GET /api/studies/{slug}/report/": "regroup rules have their own grammar and name recorded attributes",
}


# What an annotator's token may get a 2xx from (the token endpoint and a participation need what a fuzzer cannot
# guess: a password, a participant's token); everything else must refuse them.
OPEN_TO_ANNOTATORS = {"GET /api/annotate/{slug}/next/", "POST /api/annotate/{slug}/skip/",
                      "POST /api/annotate/{slug}/submit/"}


def _schemathesis_config() -> schemathesis.Config:
    accepted = [*POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES, "400"]
    return schemathesis.Config.from_dict({"operations": [
        {"include-name": label, "checks": {"positive_data_acceptance": {"expected-statuses": accepted}}}
        for label in CHECKED_BEYOND_THE_SCHEMA
    ]})


@pytest.fixture
def api_schema(db):
    from webapp.wsgi import application

    # as Django's test client does: the test's transaction must outlive each request
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", application, config=_schemathesis_config())
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def demo_study(researcher):
    spec = study_spec(slug="demo")
    study = study_services.study_load(spec=spec, owner=researcher)
    study_services.responses_import(study=study, lines=responses_jsonl(spec), source="responses.jsonl")
    return study


def _fuzz(api_schema, user, real_objects: RealObjects) -> Findings:
    token, _ = Token.objects.get_or_create(user=user)
    headers = {"Authorization": f"Token {token.key}"}
    findings, checks = Findings(), all_checks()
    for result in api_schema.get_all_operations():
        run_operation(result.ok(), budget=BUDGET, headers=headers, real_objects=real_objects, checks=checks,
                      findings=findings)
    run_stateful(api_schema, budget=STATEFUL, headers=headers, checks=checks, findings=findings)
    return findings


@pytest.fixture
def scoring_job(researcher, demo_study):
    """A failed scoring job of the researcher's study, by a model version they registered (ids reach real rows)."""
    version = ModelVersion.objects.create(name="fuzz-scorer", kind="scorer", path="/nowhere", registered_by=researcher)
    return ModelJob.objects.create(kind="scoring", queue="gpu", status="failed", error="the model did not load",
                                   target=demo_study, created_by=researcher, model_version=version)


def test_every_operation_answers_a_researcher_as_the_schema_says(api_schema, project, demo_study, scoring_job,
                                                                  researcher, other_researcher, annotator, participant):
    demo_study.collaborators.add(other_researcher)
    project.collaborators.add(other_researcher)
    flow.enrollment_open(project=project, user=annotator)
    judging = run_participant(study_services.study_open(study=demo_study), participant, stop_after=0)
    objects = RealObjects(
        everywhere={"slug": "demo", "username": other_researcher.username, "pseudonym": annotator.pseudonym,
                    "external_id": project.items.first().external_id, "token": judging.token},
        under={"/api/jobs/": {"id": scoring_job.id}, "/api/ml/jobs/": {"id": scoring_job.id},
               "/api/ml/models/": {"id": scoring_job.model_version_id}},
    )
    findings = _fuzz(api_schema, researcher, objects)
    assert len(findings.operations) >= OPERATIONS_AT_LEAST and findings.cases >= 10 * len(findings.operations)
    assert set(CHECKED_BEYOND_THE_SCHEMA) <= findings.operations
    if findings.failures:
        pytest.fail(findings.report("researcher"), pytrace=False)
    reads = {operation for operation in findings.operations if operation.startswith("GET ")}
    assert reads - findings.succeeded() == {"GET /api/annotate/{slug}/next/"}, "a read never reached a real object"
    assert findings.scenario_steps >= STATEFUL.scenarios, "the stateful phase sent (almost) nothing"
    assert len(findings.reached_by_link) >= 5, f"scenarios chained too little: {sorted(findings.reached_by_link)}"
    print(f"researcher: {len(findings.operations)} operations, {findings.cases} cases, {findings.scenario_steps} in "
          f"scenarios, {len(findings.reached_by_link)} operations reached by a link")


def test_every_operation_answers_an_annotator_as_the_schema_says(api_schema, project, demo_study, annotator):
    enrollment = flow.enrollment_open(project=project, user=annotator)
    held, _ = turn_next(enrollment=enrollment, resume=True)
    objects = RealObjects(everywhere={"slug": "demo", "pseudonym": annotator.pseudonym},
                          in_bodies={"assignment": assignment_token(held), "values": {"empathy": 3}})
    findings = _fuzz(api_schema, annotator, objects)
    assert len(findings.operations) >= OPERATIONS_AT_LEAST and findings.cases >= 10 * len(findings.operations)
    if findings.failures:
        pytest.fail(findings.report("annotator"), pytrace=False)
    assert findings.succeeded() == OPEN_TO_ANNOTATORS, "an annotator reached researcher-only answers, or not theirs"
    assert findings.scenario_steps >= STATEFUL.scenarios, "the stateful phase sent (almost) nothing"
    print(f"annotator: {len(findings.operations)} operations, {findings.cases} cases, {findings.scenario_steps} in "
          f"scenarios")
