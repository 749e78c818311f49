"""Training jobs through the commands and the job runner: the export is frozen at launch, the run
happens in a child process, the new version is registered inactive with its lineage and metrics,
the existing scoring and generation jobs use it, and bad input is refused at launch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ml.models import GeneratedText, MlJobKind, ModelJob, ModelVersion, Score
from ml.services import model_job_launch, model_version_register
from tests.factories import LabelFactory, UserFactory
from tests.ml.training_support import export_file, learnable_items, likert, project_with_labels
from tests.studies.conftest import make_study  # noqa: F401  (fixture)
from tests.studies.test_export_preferences import ALPHA, BETA, import_judgments, prompt
from webapp.jobs.models import Job
from webapp.jobs.services import job_cancel, job_run

pytestmark = pytest.mark.django_db
FAST = ["--set", "max_steps=4", "--set", "batch_size=4", "--set", "save_steps=2", "--set", "logging_steps=1"]


@pytest.fixture
def store(settings, tmp_path):
    settings.RESONANCE_MODEL_STORE = str(tmp_path / "store")
    settings.RESONANCE_DEVICE = "cpu"
    return tmp_path / "store"


@pytest.fixture
def scorer_base(tiny_regressor_path):
    return model_version_register(name="tiny-scorer", kind="scorer", path=tiny_regressor_path, base="tiny")


@pytest.fixture
def generator_base(tiny_llama_path):
    return model_version_register(name="tiny-llama", kind="generator", path=tiny_llama_path, base="tiny")


@pytest.fixture
def narrative_project():
    return project_with_labels(kind="narrative", dimensions=[likert("empathy")],
                               items=learnable_items("narrative", 20), countries=["A", "A", "B"])


def _launched(capsys) -> Job:
    assert "queued (train" in capsys.readouterr().out
    return Job.objects.get(kind=MlJobKind.TRAIN)


def test_train_command_registers_an_inactive_version_that_a_scoring_job_then_uses(
        store, scorer_base, narrative_project, capsys):
    call_command("train", narrative_project.slug, "--recipe", "reward-model", "--base", "tiny-scorer", *FAST)
    job = _launched(capsys)
    snapshot = job.params["snapshot"]
    assert snapshot["manifest"]["labels"] == 60 and len(snapshot["sha256"]) == 64
    LabelFactory(item=narrative_project.items.first(), project=narrative_project,
                 annotator=UserFactory(username="late"), values={"empathy": 1})  # after launch: not in the run
    job = job_run(job_id=job.pk, worker="test-worker")
    assert job.status == Job.Status.SUCCEEDED, job.error
    version = ModelVersion.objects.get(pk=job.result["version_id"])
    assert not version.is_active and version.parent == scorer_base and version.kind == "scorer"
    assert version.export == f"sha256:{snapshot['sha256']}"
    settings = version.training_settings
    assert settings["snapshot"]["manifest"]["labels"] == 60 and settings["recipe"] == "reward-model"
    assert sum(settings["split"]["sizes"].values()) == 20 and settings["hyperparameters"]["max_steps"] == 4
    assert settings["record"]["seed"] == 0 and settings["record"]["versions"]["trl"]
    from ml.services.model_store import folder_checksum, version_local_folder

    artifact = settings["artifact"]
    assert {key: artifact[key] for key in ("sha256", "bytes")} == folder_checksum(folder=Path(version.path))
    assert artifact["bytes"] > 0 and artifact["store_key"] == f"versions/{version.name}"
    # a worker loads its own checked copy, not the training host's folder
    assert folder_checksum(folder=version_local_folder(version))["sha256"] == artifact["sha256"]
    assert [p["step"] for p in job.result["curve"] if p.get("loss") is not None] == [1, 2, 3, 4]
    assert version.metrics["heldout"]["empathy"]["spearman"] is not None or version.metrics["heldout"]["empathy"]["n"]
    assert "empathy" in version.metrics["parent"]

    scoring = model_job_launch(kind="scoring", model_version=version, created_by=None, project=narrative_project,
                         params={"dimensions": ["empathy"]})
    assert job_run(job_id=scoring.pk, worker="test-worker").status == Job.Status.SUCCEEDED
    assert Score.objects.filter(job=scoring, dimension="empathy").count() == 20

    call_command("lineage", version.name, "--json")
    line = json.loads(capsys.readouterr().out)
    assert [entry["name"] for entry in line] == [version.name, "tiny-scorer"]
    assert line[0]["trained_on"].startswith(f"reward-model on {narrative_project.slug}")
    call_command("promote", version.name)
    version.refresh_from_db()
    assert version.is_active


def test_dpo_version_is_a_lora_adapter_that_a_generation_job_loads_over_its_base(
        store, generator_base, scorer_base, make_study, capsys):  # noqa: F811
    from ml.services import model_version_promote

    model_version_promote(version=scorer_base)  # the active scorer rates held-out replies of new and parent
    study = make_study(n_prompts=8)
    import_judgments(study, [(f"w{k}", prompt(i), ALPHA, BETA, "ab"[(i + k) % 3 == 0], "a", "overall")
                             for i in range(8) for k in range(3)])
    call_command("train", study.slug, "--recipe", "dpo", "--base", "tiny-llama", *FAST, "--set", "max_length=64")
    job = job_run(job_id=_launched(capsys).pk, worker="test-worker")
    assert job.status == Job.Status.SUCCEEDED, job.error
    version = ModelVersion.objects.get(pk=job.result["version_id"])
    assert version.kind == "generator" and version.training_settings["adapter"] is True
    assert version.training_settings["study"] == study.slug
    assert version.metrics["heldout"]["pair_accuracy"]["n"] == version.training_settings["split"]["sizes"]["heldout"]
    rewards = version.metrics["heldout"]["scorer_reward"], version.metrics["parent"]["scorer_reward"]
    assert all(r["scorer"] == "tiny-scorer" and r["n"] >= 1 and r["mean"] is not None for r in rewards)
    project = project_with_labels(kind="response", dimensions=[likert("empathy")],
                                  items=learnable_items("response", 3))
    generation = model_job_launch(kind="generation", model_version=version, created_by=None, project=project,
                            params={"max_new_tokens": 4, "temperature": 0})
    assert job_run(job_id=generation.pk, worker="test-worker").status == Job.Status.SUCCEEDED
    assert GeneratedText.objects.filter(job=generation).count() == 3


def test_a_cancelled_training_job_registers_nothing(store, scorer_base, narrative_project, capsys):
    call_command("train", narrative_project.slug, "--recipe", "reward-model", "--base", "tiny-scorer", *FAST)
    job = job_cancel(job=_launched(capsys))
    assert job_run(job_id=job.pk, worker="test-worker") is None
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED and ModelVersion.objects.count() == 1


@pytest.mark.parametrize(("args", "message"), [
    (["--recipe", "bi-encoder", "--base", "tiny-scorer"], "base: tiny-scorer is a scorer; bi-encoder trains from"),
    (["--recipe", "sft", "--base", "tiny-llama"], "recipe: sft needs a project of kind response"),
    (["--recipe", "reward-model", "--base", "tiny-llama"], "base: tiny-llama is a generator"),
    (["--recipe", "reward-model", "--base", "tiny-scorer", "--holdout-group", "country=Z"],
     "holdout_group: no label in the snapshot is from an annotator with country=Z"),
    (["--recipe", "reward-model", "--base", "tiny-scorer", "--set", "learning_rat=1"], "params.learning_rat"),
    (["--recipe", "reward-model", "--base", "tiny-scorer", "--set", "processes=0"],
     "params.processes: must be a whole number of at least 1, not 0"),
])
def test_bad_training_requests_are_refused_at_launch_naming_the_field(store, scorer_base, generator_base,
                                                                      narrative_project, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("train", narrative_project.slug, *args)
    assert not Job.objects.exists()


def test_a_project_with_too_few_labelled_items_is_refused_as_a_small_snapshot(store, scorer_base):
    project = project_with_labels(kind="narrative", dimensions=[likert("empathy")],
                                  items=learnable_items("narrative", 3))
    with pytest.raises(CommandError, match="snapshot: .* has 3 labelled items; training needs at least 5"):
        call_command("train", project.slug, "--recipe", "reward-model", "--base", "tiny-scorer")


def test_a_study_without_preferences_is_refused(store, generator_base, make_study):  # noqa: F811
    study = make_study(n_prompts=6)
    with pytest.raises(CommandError, match="snapshot: study .* has no preferences"):
        call_command("train", study.slug, "--recipe", "dpo", "--base", "tiny-llama")
    assert not Job.objects.exists()


def test_lora_target_modules_missing_from_the_base_are_refused_at_launch(store, generator_base, make_study):  # noqa: F811
    study = make_study(n_prompts=6)
    with pytest.raises(CommandError, match="params.lora_target_modules: wqkv not in the model"):
        call_command("train", study.slug, "--recipe", "dpo", "--base", "tiny-llama",
                     "--set", 'lora_target_modules=["q_proj", "wqkv"]')


def test_export_file_helper_is_the_platforms_label_export(narrative_project, tmp_path):
    rows = [json.loads(line) for line in export_file(narrative_project, tmp_path).read_text().splitlines()]
    assert {"item_id", "annotator", "annotator_country", "empathy"} <= set(rows[0])


def test_compare_in_study_pits_the_new_generator_against_its_parent_on_heldout_prompts_and_opens_when_done(
        store, generator_base, make_study, researcher, capsys):  # noqa: F811
    study = make_study(n_prompts=8)
    import_judgments(study, [(f"w{k}", prompt(i), ALPHA, BETA, "ab"[(i + k) % 3 == 0], "a", "overall")
                             for i in range(8) for k in range(3)])
    call_command("train", study.slug, "--recipe", "dpo", "--base", "tiny-llama", *FAST, "--set", "max_length=64")
    version = ModelVersion.objects.get(pk=job_run(job_id=_launched(capsys).pk, worker="w").result["version_id"])
    call_command("compare_in_study", version.name, "--user", researcher.username)
    assert "held-out prompts" in capsys.readouterr().out
    comparison = version.training_settings["split"]["parts"]["heldout"]
    jobs = list(ModelJob.objects.filter(kind=MlJobKind.GENERATION).order_by("pk"))
    assert [j.model_version for j in jobs] == [version, generator_base]
    created = jobs[0].study
    assert sorted(created.prompts.values_list("external_id", flat=True)) == sorted(comparison)
    assert not created.is_open
    job_run(job_id=jobs[0].pk, worker="w")
    created.refresh_from_db()
    assert not created.is_open  # one of two systems has its responses
    job_run(job_id=jobs[1].pk, worker="w")
    created.refresh_from_db()
    assert created.is_open and created.responses.count() == 2 * len(comparison)


def test_reannotate_reopens_the_items_of_largest_disagreement_and_records_the_round(
        store, scorer_base, narrative_project, capsys):
    from annotations.models import Item

    call_command("train", narrative_project.slug, "--recipe", "reward-model", "--base", "tiny-scorer", *FAST)
    version = ModelVersion.objects.get(pk=job_run(job_id=_launched(capsys).pk, worker="w").result["version_id"])
    metrics = version.metrics
    gaps = sorted(((abs(v - metrics["heldout_means"]["empathy"][i]), i)
                   for i, v in metrics["predictions"]["empathy"].items()), reverse=True)
    call_command("reannotate", version.name, "--top", "2", "--labels", "2")
    assert "2 items back in the queue for 2 more labels" in capsys.readouterr().out
    reopened = Item.objects.filter(project=narrative_project, metadata__has_key="reannotation_rounds")
    assert sorted(reopened.values_list("external_id", flat=True)) == sorted(i for _, i in gaps[:2])
    for item in reopened:
        assert item.needed == 5 and not item.is_full  # 3 labels were needed before
        (sent,) = item.metadata["reannotation_rounds"]
        assert {key: sent[key] for key in ("version", "labels", "needed_before")} == {
            "version": version.name, "labels": 2, "needed_before": 3}
        assert parse_datetime(sent["at"]) <= timezone.now()
    exported = [json.loads(line) for line in export_file(narrative_project, store).read_text().splitlines()]
    assert any("reannotation_rounds" in row["item_metadata"] for row in exported)
    # a newcomer is served the reopened items before any other
    from annotations.models import Enrollment
    from annotations.services import flow
    from annotations.services.routing import assignment_next, assignment_skip

    newcomer = flow.enrollment_open(project=narrative_project, user=UserFactory(username="second-round"))
    Enrollment.objects.filter(pk=newcomer.pk).update(stage=Enrollment.Stage.WORK)
    newcomer.refresh_from_db()
    served = []
    for _ in range(2):
        assignment = assignment_next(enrollment=newcomer, resume=False)
        served.append(assignment.item.external_id)
        assignment_skip(assignment=assignment, distressing=False)
    assert sorted(served) == sorted(reopened.values_list("external_id", flat=True))
