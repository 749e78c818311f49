"""Shared set-up for the job, registry and page tests (no tests here): a study with prompts and
systems, and tiny model versions registered from the ML core's config-built models."""

from __future__ import annotations

import time

import pytest

from ml import services
from studies import services as study_services
from studies.spec import spec_parse
from tests.factories import ItemFactory, ProjectFactory
from webapp.jobs.models import Job

SEEKER_LINES = [
    "I lost my job today and I feel lost",
    "my dog died last week and the house is so quiet",
    "I feel lost",
    "the house is so quiet",
    "I lost my job",
    "my dog died",
]


def make_study(*, owner, slug: str = "ml-study", n_prompts: int = 6, model_version=None, open_it: bool = False):
    """A closed study with ``n_prompts`` prompts, a model system ``tiny`` (linked to ``model_version``
    when given) and an imported system ``baseline`` whose responses are imported."""
    tiny = {"name": "tiny", "kind": "model", "model_version": model_version.pk} if model_version else \
        {"name": "tiny", "kind": "imported"}
    spec = spec_parse({
        "slug": slug, "title": "ML study",
        "prompts": [{"id": f"p{i}", "context": [{"speaker": "seeker", "text": SEEKER_LINES[i % len(SEEKER_LINES)]
                                                 + f" ({i})"}]} for i in range(n_prompts)],
        "systems": [tiny, {"name": "baseline", "kind": "imported"}],
        "pairs_per_participant": 2, "judgments_per_pair": 1,
    })
    study = study_services.study_load(spec=spec, owner=owner)
    study_services.responses_store(study=study, system_name="baseline", rows=[
        {"prompt_id": f"p{i}", "text": "I am sorry to hear that , it sounds really hard"} for i in range(n_prompts)
    ])
    if open_it:
        study_services.responses_store(study=study, system_name="tiny", rows=[
            {"prompt_id": f"p{i}", "text": "you are not alone in this"} for i in range(n_prompts)])
        study_services.study_open(study=study)
    return study


def make_project(*, owner, slug: str = "ml-project", n_items: int = 4):
    project = ProjectFactory(owner=owner, slug=slug, kind="response")
    for i in range(n_items):
        ItemFactory(project=project, kind="response", external_id=f"r{i}",
                    data={"context": SEEKER_LINES[i % len(SEEKER_LINES)], "response": "that must be painful"})
    return project


@pytest.fixture
def generator_version(db, tiny_llama_path):
    return services.model_version_register(name="tiny-llama", kind="generator", path=tiny_llama_path)


@pytest.fixture
def scorer_version(db, tiny_regressor_path):
    return services.model_version_register(name="tiny-regressor", kind="scorer", path=tiny_regressor_path)


@pytest.fixture
def judge_version(db, tiny_llama_path):
    return services.model_version_register(name="tiny-judge", kind="judge", path=tiny_llama_path)


def wait_for(job: Job, *, until=lambda job: job.is_finished, timeout: float = 120.0, poll: float = 0.05) -> Job:
    """Polls the job row (written by another process) until ``until(job)``; fails with its state."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if until(job):
            return job
        time.sleep(poll)
    raise AssertionError(f"job {job.pk} still {job.status} ({job.done}/{job.total}, error {job.error!r}) "
                         f"after {timeout} s")


@pytest.fixture
def similarity_version(db, tiny_sentence_encoder_path):
    return services.model_version_register(
        name="tiny-encoder", kind="similarity", path=tiny_sentence_encoder_path
    )
