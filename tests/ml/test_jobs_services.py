"""Jobs run in this process (no broker): launch checks, generation and scoring results, idempotent
re-runs, cancellation, recovery of orphaned jobs, and a dead broker reported in words."""

from __future__ import annotations

import math
import shutil
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from ml import services
from ml.core.judge import LLMJudgeScorer
from ml.core.reward_model import RewardModelScorer
from ml.models import GeneratedText, Score
from ml.selectors import job_score_table
from studies.models import Response
from tests.celery_worker import point_publisher_at
from tests.factories import ItemFactory, LabelFactory, ProjectFactory
from tests.ml import test_jobs_support as support
from tests.ml.test_jobs_support import make_project, make_study
from webapp.jobs import services as job_services
from webapp.jobs.errors import JobError
from webapp.jobs.models import Job

generator_version, scorer_version, judge_version, similarity_version = (  # fixtures shared with other modules
    support.generator_version, support.scorer_version, support.judge_version, support.similarity_version)

WORKER = "in-process@test"


def launch(**kwargs) -> Job:
    return services.model_job_launch(created_by=kwargs.pop("created_by", None), **kwargs)


def test_generation_job_fills_the_linked_study_system_with_one_response_per_prompt(researcher, generator_version):
    study = make_study(owner=researcher, model_version=generator_version, n_prompts=5)
    job = launch(kind="generation", model_version=generator_version, study=study,
                 params={"max_new_tokens": 6, "batch_size": 2, "temperature": 0})

    finished = job_services.job_run(job_id=job.pk, worker=WORKER)

    assert finished.status == Job.Status.SUCCEEDED, finished.error
    assert (finished.done, finished.total, finished.attempts) == (5, 5, 1)
    assert job.system_name == "tiny"
    responses = Response.objects.filter(study=study, system__name="tiny")
    assert responses.count() == 5
    assert set(responses.values_list("model_version_id", flat=True)) == {generator_version.pk}
    generated = dict(GeneratedText.objects.filter(job=job).values_list("prompt__external_id", "text"))
    assert generated == dict(responses.values_list("prompt__external_id", "text"))
    assert all(metadata["job"] == job.pk for metadata in responses.values_list("metadata", flat=True))


def test_rerun_after_a_crash_redoes_only_missing_inputs_and_adds_no_duplicates(researcher, generator_version):
    study = make_study(owner=researcher, model_version=generator_version, n_prompts=6)
    job = launch(kind="generation", model_version=generator_version, study=study,
                 params={"max_new_tokens": 6, "batch_size": 2, "temperature": 0})
    job_services.job_run(job_id=job.pk, worker=WORKER)
    first = {row.input_key: (row.pk, row.text) for row in GeneratedText.objects.filter(job=job)}
    # As if the worker died after its first two batches: the last batch's rows never got written.
    last_batch = GeneratedText.objects.filter(job=job).order_by("-id")[:2]
    lost = {row.input_key for row in last_batch}
    GeneratedText.objects.filter(job=job, input_key__in=lost).delete()
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, done=4)

    again = job_services.job_run(job_id=job.pk, worker=WORKER)  # the same worker, restarted

    assert again.status == Job.Status.SUCCEEDED and again.attempts == 2
    rows = {row.input_key: (row.pk, row.text) for row in GeneratedText.objects.filter(job=job)}
    assert len(rows) == 6 and Response.objects.filter(study=study, system__name="tiny").count() == 6
    kept = set(first) - lost
    assert all(rows[key] == first[key] for key in kept)  # untouched, not regenerated
    assert all(rows[key][1] == first[key][1] and rows[key][0] != first[key][0] for key in lost)


def test_a_finished_job_delivered_again_is_left_alone(researcher, generator_version):
    study = make_study(owner=researcher, model_version=generator_version, n_prompts=2)
    job = launch(kind="generation", model_version=generator_version, study=study, params={"max_new_tokens": 4})
    job_services.job_run(job_id=job.pk, worker=WORKER)

    assert job_services.job_run(job_id=job.pk, worker=WORKER) is None
    job.refresh_from_db()
    assert job.attempts == 1 and GeneratedText.objects.filter(job=job).count() == 2


def test_reward_model_scores_each_response_per_dimension_as_the_scorer_does(researcher, scorer_version,
                                                                          tiny_regressor_path):
    study = make_study(owner=researcher, n_prompts=4)
    Response.objects.filter(study=study, system__name="baseline", prompt__external_id="p1").update(
        text="you are not alone in this and it will get better")
    from studies.services import responses_store

    responses_store(study=study, system_name="tiny", rows=[{"prompt_id": f"p{i}", "text": "that must be painful"}
                                                          for i in range(4)])
    job = launch(kind="scoring", model_version=scorer_version, study=study, params={"batch_size": 3})

    finished = job_services.job_run(job_id=job.pk, worker=WORKER)

    assert finished.status == Job.Status.SUCCEEDED, finished.error
    assert (finished.done, finished.total) == (8, 8)
    assert Score.objects.filter(job=job).count() == 8 * 5  # four PERM dimensions and the reward
    responses = list(Response.objects.filter(study=study).select_related("prompt").order_by("pk"))
    expected = RewardModelScorer(tiny_regressor_path, device="cpu").score(
        [r.text for r in responses], [r.prompt.context[0]["text"] for r in responses])
    for index, response in enumerate(responses):
        stored = dict(Score.objects.filter(job=job, response=response).values_list("dimension", "value"))
        for dimension in expected.dimensions:
            assert stored[dimension] == pytest.approx(expected.per_dimension[dimension][index], abs=1e-5)
        assert stored["reward"] == pytest.approx(expected.reward[index], abs=1e-5)
    table = job_score_table(job=job)
    assert [row["label"] for row in table["rows"]] == ["baseline", "tiny"]
    assert table["dimensions"][-1] == "reward"
    baseline_rewards = [expected.reward[i] for i, r in enumerate(responses) if r.system.name == "baseline"]
    assert table["rows"][0]["means"]["reward"] == pytest.approx(sum(baseline_rewards) / 4, abs=1e-4)


def test_judge_answers_without_a_score_are_stored_empty_and_counted(researcher, judge_version, tiny_llama_path):
    project = make_project(owner=researcher, n_items=3)
    job = launch(kind="scoring", model_version=judge_version, project=project,
                 params={"perspectives": ["resonation", "reception"], "judge_mode": "parsed"})

    finished = job_services.job_run(job_id=job.pk, worker=WORKER)

    assert finished.status == Job.Status.SUCCEEDED, finished.error
    items = list(project.items.order_by("pk"))
    direct = LLMJudgeScorer(tiny_llama_path, perspectives=("resonation", "reception"), device="cpu").score(
        [i.data["response"] for i in items], [i.data["context"] for i in items])
    for index, item in enumerate(items):
        stored = dict(Score.objects.filter(job=job, item=item).values_list("dimension", "value"))
        assert set(stored) == {"resonation", "reception", "reward"}
        for dimension in ("resonation", "reception"):
            value = direct.per_dimension[dimension][index]
            assert stored[dimension] is None if math.isnan(value) else stored[dimension] == pytest.approx(value)
    assert finished.result["unparseable"] == direct.unparseable
    assert job_score_table(job=job)["rows"][0]["label"] == "items"


def test_a_model_folder_gone_since_registration_fails_the_job_with_the_reason(researcher, tmp_path, tiny_llama_path):
    folder = shutil.copytree(tiny_llama_path, tmp_path / "model")
    version = services.model_version_register(name="doomed", kind="generator", path=folder)
    study = make_study(owner=researcher, model_version=version, n_prompts=2)
    job = launch(kind="generation", model_version=version, study=study)
    shutil.rmtree(folder)

    finished = job_services.job_run(job_id=job.pk, worker=WORKER)

    assert finished.status == Job.Status.FAILED
    assert finished.error.startswith("the model could not be loaded: ")
    assert "does not exist" in finished.error and str(folder) in finished.error
    assert finished.finished_at is not None


@pytest.mark.parametrize("change, message", [
    ({"kind": "scoring"}, "model_version: tiny-llama is a generator; a scoring job needs a scorer or judge"),
    ({"system_name": "nope"}, "system: 'nope' is not a system of study ml-study"),
    ({"params": {"max_tokens": 5}}, "params.max_tokens: is not a parameter of a generation job"),
    ({"params": {"temperature": -1}}, "params.temperature: must be between 0.0 and 5.0"),
    ({"study": None}, "target: give either a study or an annotation project"),
])
def test_launch_refuses_what_cannot_run_and_says_why(researcher, generator_version, change, message):
    study = make_study(owner=researcher, model_version=generator_version, n_prompts=2)
    arguments = {"kind": "generation", "model_version": generator_version, "study": study, **change}

    with pytest.raises(JobError, match="^" + message.replace(".", r"\.").replace("(", r"\(")):
        launch(**arguments)
    assert not Job.objects.exists()


def test_generation_into_an_open_study_is_refused(researcher, generator_version):
    study = make_study(owner=researcher, model_version=generator_version, n_prompts=2, open_it=True)

    with pytest.raises(JobError, match="is open; close it"):
        launch(kind="generation", model_version=generator_version, study=study)


def test_cancelling_a_queued_job_ends_it_and_a_later_delivery_does_nothing(researcher, generator_version):
    study = make_study(owner=researcher, model_version=generator_version, n_prompts=2)
    job = launch(kind="generation", model_version=generator_version, study=study)

    job_services.job_cancel(job=job)

    assert job_services.job_run(job_id=job.pk, worker=WORKER) is None
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED and not GeneratedText.objects.filter(job=job).exists()


def test_a_job_held_by_a_live_worker_is_not_taken_but_a_restarted_worker_recovers_its_own(
        researcher, generator_version, django_capture_on_commit_callbacks):
    study = make_study(owner=researcher, model_version=generator_version, n_prompts=2)
    job = launch(kind="generation", model_version=generator_version, study=study)
    assert job_services.job_claim(job_id=job.pk, worker="w1@host") is not None

    assert job_services.job_claim(job_id=job.pk, worker="w2@host") is None
    assert job_services.jobs_recover(worker="w2@host") == []
    with django_capture_on_commit_callbacks() as callbacks:
        assert job_services.jobs_recover(worker="w1@host") == [job.pk]

    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED and job.worker == "" and len(callbacks) == 1


def test_launch_with_the_broker_down_fails_the_job_quickly_and_says_so(researcher, generator_version,
                                                                       django_capture_on_commit_callbacks):
    study = make_study(owner=researcher, model_version=generator_version, n_prompts=2)
    restore = point_publisher_at("redis://127.0.0.1:1/0", {})  # nothing listens on port 1
    try:
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            job = launch(kind="generation", model_version=generator_version, study=study)
        elapsed = time.monotonic() - started
    finally:
        restore()

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error.startswith(job_services.QUEUE_UNREACHABLE)
    assert elapsed < 10


def test_beat_sweep_re_enqueues_jobs_with_a_stale_heartbeat_and_leaves_live_ones(
    researcher, generator_version, django_capture_on_commit_callbacks
):
    from django.conf import settings

    from webapp.jobs.tasks import recover_stale_jobs

    study = make_study(owner=researcher, model_version=generator_version, n_prompts=2)
    other = make_study(owner=researcher, slug="ml-study-2", model_version=generator_version, n_prompts=2)
    stale = launch(kind="generation", model_version=generator_version, study=study)
    live = launch(kind="generation", model_version=generator_version, study=other)
    job_services.job_claim(job_id=stale.pk, worker="gone@host")
    job_services.job_claim(job_id=live.pk, worker="busy@host")
    Job.objects.filter(pk=stale.pk).update(heartbeat_at=timezone.now() - timedelta(hours=2))

    with django_capture_on_commit_callbacks() as callbacks:
        assert recover_stale_jobs() == [stale.pk]

    stale.refresh_from_db()
    live.refresh_from_db()
    assert stale.status == Job.Status.QUEUED and stale.worker == "" and len(callbacks) == 1
    assert live.status == Job.Status.RUNNING and live.worker == "busy@host"
    schedule = settings.CELERY_BEAT_SCHEDULE["recover-stale-jobs"]
    assert schedule["task"] == recover_stale_jobs.name and schedule["schedule"] > 0


def make_pair_project(*, owner) -> object:
    """Pairs on a 1-4 scale: one pair of identical narratives, two of different ones."""
    project = ProjectFactory(owner=owner, slug="pairs", kind="pair")
    texts = [
        ("my dog died", "my dog died"),
        ("my dog died", "the weather was nice"),
        ("I lost my job", "I feel lost"),
    ]
    for i, (left, right) in enumerate(texts):
        ItemFactory(project=project, kind="pair", external_id=f"p{i}", data={"text_a": left, "text_b": right})
    return project


def test_similarity_job_scores_each_pair_item_on_the_projects_scale(researcher, similarity_version):
    from ml.core.similarity import PairSimilarity, to_scale

    project = make_pair_project(owner=researcher)
    project.spec = {**project.spec, "dimensions": [{**project.spec["dimensions"][0], "min": 1, "max": 4}]}
    project.save(update_fields=["spec"])
    job = launch(kind="scoring", model_version=similarity_version, project=project)

    finished = job_services.job_run(job_id=job.pk, worker=WORKER)

    assert finished.status == Job.Status.SUCCEEDED, finished.error
    assert finished.result["scale"] == [1.0, 4.0]
    encoder = PairSimilarity(similarity_version.path, device="cpu")
    for item in project.items.order_by("external_id"):
        scores = dict(Score.objects.filter(job=job, item=item).values_list("dimension", "value"))
        expected = encoder.score([(item.data["text_a"], item.data["text_b"])])[0]
        assert scores["cosine"] == pytest.approx(expected, abs=1e-5)
        assert scores["similarity"] == pytest.approx(to_scale(expected, 1, 4), abs=1e-5)
        assert scores[Score.REWARD] == scores["similarity"]
    identical = project.items.get(external_id="p0")
    assert Score.objects.get(job=job, item=identical, dimension="similarity").value == pytest.approx(
        4.0, abs=1e-4
    )
    assert job_services.job_run(job_id=job.pk, worker=WORKER) is None  # finished: a redelivery does nothing
    assert Score.objects.filter(job=job).count() == 3 * 3


def test_similarity_models_score_pair_projects_and_other_scorers_do_not(
    researcher, similarity_version, scorer_version, generator_version
):
    pairs = make_pair_project(owner=researcher)
    study = make_study(owner=researcher, model_version=generator_version, n_prompts=2)

    with pytest.raises(JobError, match="similarity model; it scores the pair items"):
        launch(kind="scoring", model_version=similarity_version, study=study)
    with pytest.raises(JobError, match="has no items a scoring job can use"):
        launch(kind="scoring", model_version=scorer_version, project=pairs)
    with pytest.raises(JobError, match="has no items a scoring job can use \\(kinds pair\\)"):
        launch(kind="scoring", model_version=similarity_version, project=make_project(owner=researcher))


def test_similarity_job_page_compares_the_model_with_the_annotators_mean_ratings(
    client, researcher, similarity_version
):
    from django.urls import reverse

    from ml.selectors import job_similarity_vs_annotators

    project = make_pair_project(owner=researcher)
    job = launch(kind="scoring", model_version=similarity_version, project=project)
    job_services.job_run(job_id=job.pk, worker=WORKER)
    similarity = dict(Score.objects.filter(job=job, dimension="similarity").values_list("item_id", "value"))
    ranked = sorted(project.items.all(), key=lambda item: similarity[item.pk])
    dimension = project.spec["dimensions"][0]["name"]
    for rank, item in enumerate(ranked):  # annotators rank the pairs as the model does
        for annotator, offset in (("a1", 0), ("a2", 1)):
            LabelFactory(item=item, annotator__username=annotator, values={dimension: 1 + rank + offset})
    assert len(set(similarity.values())) == 3  # distinct, so the ranking is a real test

    rows = job_similarity_vs_annotators(job=job)

    assert rows == [{"dimension": dimension, "spearman": pytest.approx(1.0), "n": 3}]
    client.force_login(researcher)
    page = client.get(reverse("jobs:job_detail", args=[job.pk]))
    assert 'data-testid="versus-annotators"' in page.text and "1.000" in page.text
