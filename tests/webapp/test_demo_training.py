"""The demo's closed loop (`manage.py demo`): an earlier round of labels in two demo projects, a reward model and a
bi-encoder trained on them through the ordinary job path, each registered with its lineage and shown on its page,
and a rerun that changes nothing. Tiny models from configs stand in for MiniLM (`--reward-base`,
`--bi-encoder-base`); the worker's part is played by ``job_run``, as in the other training tests."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from annotations.models import Item, Label, Project
from ml.models import MlJobKind, ModelJob, ModelVersion
from ml.services import model_version_register
from tests.ml.conftest import save_tiny_bert_regressor, save_tiny_sentence_encoder
from webapp.jobs.models import Job
from webapp.jobs.services import job_finish, job_run
from webapp.people.models import User

pytestmark = pytest.mark.django_db
ROUND_ITEMS = 48  # webapp.demo.synthetic's default count per project
PERSPECTIVES = {"resonation", "expression", "reception"}


@pytest.fixture
def tiny_bases(settings, tmp_path, monkeypatch):
    monkeypatch.setenv("RESONANCE_DEMO_PASSWORD", "demo-pass-123")
    settings.RESONANCE_MODEL_STORE = str(tmp_path / "store")
    settings.RESONANCE_DEVICE = "cpu"
    scorer = model_version_register(name="tiny-scorer", kind="scorer", base="tiny",
                                    path=save_tiny_bert_regressor(tmp_path / "scorer"))
    encoder = model_version_register(name="tiny-encoder", kind="similarity", base="tiny-st",
                                     path=save_tiny_sentence_encoder(tmp_path / "st" / "model"))
    return scorer, encoder


def _demo(*options: str, bi_encoder_base: str = "tiny-encoder") -> str:
    out = io.StringIO()
    call_command("demo", "--reward-base", "tiny-scorer", "--bi-encoder-base", bi_encoder_base, *options, stdout=out)
    return out.getvalue()


def _train_jobs() -> dict[str, ModelJob]:
    return {job.params["recipe"]: job for job in ModelJob.objects.filter(kind=MlJobKind.TRAIN)}


def _state() -> tuple[int, ...]:
    return (Item.objects.count(), Label.objects.count(), Job.objects.count(), ModelVersion.objects.count())


def test_demo_trains_a_reward_model_and_a_bi_encoder_with_lineage_pages_and_a_rerun_adds_nothing(tiny_bases, client):
    scorer_base, encoder_base = tiny_bases
    _demo()
    jobs = _train_jobs()
    assert set(jobs) == {"reward-model", "bi-encoder"}
    for job in jobs.values():
        assert job.status == Job.Status.QUEUED and job.created_by.username == "researcher"
        finished = job_run(job_id=job.pk, worker="test-worker")
        assert finished.status == Job.Status.SUCCEEDED, finished.error

    expected = {"reward-model": (scorer_base, "scorer", "demo-multi-perspective-empathy", PERSPECTIVES),
                "bi-encoder": (encoder_base, "similarity", "demo-narrative-pair-similarity", {"empathy"})}
    versions = {}
    for recipe, (parent, kind, slug, dimensions) in expected.items():
        job = ModelJob.objects.get(pk=jobs[recipe].pk)
        version = versions[recipe] = ModelVersion.objects.get(pk=job.result["version_id"])
        trained = version.training_settings
        snapshot = jobs[recipe].params["snapshot"]
        assert (version.kind, version.parent, version.base, version.is_active) == (kind, parent, parent.base, False)
        assert trained["project"] == slug and trained["recipe"] == recipe
        assert version.export == f"sha256:{snapshot['sha256']}" == f"sha256:{trained['snapshot']['sha256']}"
        # The snapshot holds the earlier round's labels: three raters on each of its items, nothing else.
        assert trained["snapshot"]["manifest"]["labels"] == 3 * ROUND_ITEMS
        assert sum(trained["split"]["sizes"].values()) == ROUND_ITEMS
        assert set(version.metrics["heldout"]) == set(version.metrics["parent"]) == dimensions

    researcher = User.objects.get(username="researcher")
    client.force_login(researcher)
    for recipe, version in versions.items():
        page = client.get(reverse("ml:model_detail", args=[version.pk]))
        assert page.status_code == 200
        text = page.content.decode()
        heldout = version.training_settings["split"]["sizes"]["heldout"]
        assert 'data-testid="metrics"' in text and expected[recipe][0].name in text
        assert all(f"{dimension} (n={heldout})" in text for dimension in expected[recipe][3])

    before = _state()
    rerun = _demo()
    assert _state() == before
    assert set(_train_jobs()) == {"reward-model", "bi-encoder"}
    assert rerun.count("launched by an earlier demo") == 2
    for version in versions.values():
        assert f"trained {version.name} in " in rerun and reverse("ml:model_detail", args=[version.pk]) in rerun


def test_a_failed_demo_run_is_launched_again_and_a_queued_one_is_kept(tiny_bases):
    _demo()
    first = _train_jobs()
    job_finish(job_id=first["bi-encoder"].pk, status=Job.Status.FAILED, error="worker ran out of memory")
    _demo()
    again = ModelJob.objects.filter(kind=MlJobKind.TRAIN)
    assert again.count() == 3
    assert again.filter(params__recipe="reward-model").get() == first["reward-model"]
    assert again.filter(params__recipe="bi-encoder", status=Job.Status.QUEUED).exclude(pk=first["bi-encoder"].pk).exists()


def test_no_training_loads_the_round_but_launches_nothing(tiny_bases):
    output = _demo("--no-training")
    assert not Job.objects.exists() and "Training on the demo labels" not in output
    round_items = Item.objects.filter(external_id__startswith="round1-")
    assert round_items.count() == 2 * ROUND_ITEMS and not round_items.filter(is_full=False).exists()
    open_items = Item.objects.filter(project__in=Project.objects.filter(slug__in=(
        "demo-multi-perspective-empathy", "demo-narrative-pair-similarity")), role=Item.Role.TASK, is_full=False)
    assert open_items.count() == 24  # the hand-written demo items stay open for the demo's annotators


def test_a_run_that_cannot_launch_is_named_and_the_other_still_launches(tiny_bases):
    output = _demo(bi_encoder_base="tiny-scorer")
    assert "bi-encoder not launched: base: tiny-scorer is a scorer; bi-encoder trains from a similarity" in output
    assert set(_train_jobs()) == {"reward-model"}
