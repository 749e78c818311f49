"""A run reports progress, checkpoints every N steps, resumes from the last checkpoint, stops on
cancel without a model, keeps the same seeded split, and refuses bad input naming the field."""

from __future__ import annotations

import pytest

from ml.core.errors import Cancelled, ModelLoadError
from ml.core.training import TrainingDataError, TrainRequest, defaults_for, train
from ml.core.training.data import labels_read
from ml.core.training.split import Split, split_by_group, split_units
from tests.ml.training_support import export_file, learnable_items, likert, project_with_labels

DIMS = [likert("empathy")]


@pytest.fixture
def labels_file(db, tmp_path):
    items = learnable_items("narrative", 20)
    return export_file(project_with_labels(kind="narrative", dimensions=DIMS, items=items,
                                           countries=["A", "A", "B"]), tmp_path)


def _request(tmp_path, base, source, **overrides):
    return TrainRequest(recipe="reward-model", base=str(base), out=tmp_path / "run", source=source, dimensions=DIMS,
                        device="cpu", overrides={"max_steps": 6, "batch_size": 4, "save_steps": 2,
                                                 "logging_steps": 1, **overrides})


def test_progress_reports_each_step_with_total_and_loss(tmp_path, tiny_regressor_path, labels_file):
    seen = []
    outcome = train(_request(tmp_path, tiny_regressor_path, labels_file), on_progress=seen.append)
    steps = [p.step for p in seen if p.loss is not None]
    assert steps == [1, 2, 3, 4, 5, 6] and {p.total for p in seen} == {6}
    assert [entry["step"] for entry in outcome.record["loss_curve"] if "loss" in entry] == steps


def test_cancel_stops_at_the_next_step_and_writes_no_model(tmp_path, tiny_regressor_path, labels_file):
    seen = []
    with pytest.raises(Cancelled):
        train(_request(tmp_path, tiny_regressor_path, labels_file), on_progress=seen.append,
              should_cancel=lambda: bool(seen) and seen[-1].step >= 3)
    assert max(p.step for p in seen) == 3
    assert not (tmp_path / "run" / "model").exists()


def test_an_interrupted_run_resumes_from_its_last_checkpoint_with_the_same_split(tmp_path, tiny_regressor_path,
                                                                                 labels_file):
    seen = []
    with pytest.raises(Cancelled):  # stands in for a crash after step 5: checkpoint-4 is on disk
        train(_request(tmp_path, tiny_regressor_path, labels_file), on_progress=seen.append,
              should_cancel=lambda: bool(seen) and seen[-1].step >= 5)
    first_split = (tmp_path / "run" / "run.json").read_text()
    outcome = train(_request(tmp_path, tiny_regressor_path, labels_file))
    assert outcome.record["resumed_from"].endswith("checkpoint-4")
    assert outcome.record["steps"] == 6
    assert Split.from_dict(outcome.split).parts == Split.from_dict(__import__("json").loads(first_split)["split"]).parts


def test_split_is_reproducible_by_seed_and_keeps_a_parents_heldout_units():
    units = [f"u{i}" for i in range(50)]
    first, again = split_units(units, seed=7), split_units(list(reversed(units)), seed=7)
    assert first.parts == again.parts and first.sizes() == {"train": 35, "validation": 5, "heldout": 10}
    assert split_units(units, seed=8).parts != first.parts
    grown = split_units(units + [f"new{i}" for i in range(20)], seed=9, fixed_heldout=first.parts["heldout"])
    assert set(first.parts["heldout"]) <= set(grown.parts["heldout"])
    assert Split.from_dict(first.as_dict()).parts == first.parts


def test_holdout_by_annotator_group_trains_on_the_others_and_tests_on_the_group(tmp_path, tiny_regressor_path,
                                                                                labels_file):
    request = _request(tmp_path, tiny_regressor_path, labels_file)
    request.holdout_group = ("country", "B")
    outcome = train(request)
    assert outcome.split["holdout_group"] == {"attribute": "country", "value": "B"}
    assert outcome.split["sizes"] == {"train": 14, "validation": 2, "heldout": 4}
    assert outcome.metrics["empathy"]["annotators"] == 1  # only the country-B rater's labels are tested against
    with pytest.raises(TrainingDataError, match="holdout_group: no annotator has country=Z"):
        split_by_group(labels_read(labels_file), attribute="country", value="Z")


def test_defaults_differ_by_device_and_overrides_are_checked():
    assert defaults_for("sft", "cpu")["bf16"] is False and defaults_for("sft", "cpu")["gradient_checkpointing"] is False
    assert defaults_for("dpo", "cpu")["beta"] == 0.1
    with pytest.raises(ValueError, match="not_a_knob"):
        from ml.core.training import hyperparameters
        hyperparameters("dpo", "cpu", {"not_a_knob": 1})


@pytest.mark.parametrize(("change", "field"), [
    ({"recipe": "fine-tune"}, "recipe"),
    ({"overrides": {"bf16": True}}, "hyperparameters"),
    ({"overrides": {"targets": "median"}}, "targets"),
    ({"recipe": "bi-encoder"}, "recipe"),
    ({"recipe": "sft"}, "recipe"),
    ({"dimensions": [{"name": "empathy", "type": "text"}]}, "dimensions"),
    ({"overrides": {"min_units": 30}}, "snapshot"),
])
def test_bad_input_is_refused_before_training_naming_the_field(tmp_path, tiny_regressor_path, labels_file,
                                                               change, field):
    request = _request(tmp_path, tiny_regressor_path, labels_file)
    for key, value in change.items():
        setattr(request, key, value)
    with pytest.raises(TrainingDataError) as caught:
        train(request)
    assert caught.value.field == field
    assert not (tmp_path / "run" / "model").exists()


def test_a_base_that_is_not_a_model_folder_is_refused(tmp_path, labels_file):
    with pytest.raises(ModelLoadError, match="base"):
        train(_request(tmp_path, tmp_path, labels_file))


def test_an_empty_export_is_refused_as_an_empty_snapshot(tmp_path, tiny_regressor_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(TrainingDataError, match="snapshot: the export has no labels"):
        train(_request(tmp_path, tiny_regressor_path, empty))


def test_lora_target_modules_missing_from_the_model_are_named(db, tmp_path, tiny_llama_path):
    items = [({"context": f"I lost my job today {n % 4}", "response": d["text"]}, labels)
             for n, (d, labels) in enumerate(learnable_items("narrative", 12))]
    source = export_file(project_with_labels(kind="response", dimensions=DIMS, items=items), tmp_path)
    request = TrainRequest(recipe="sft", base=str(tiny_llama_path), out=tmp_path / "sft", source=source,
                           dimensions=DIMS, device="cpu", overrides={"lora_target_modules": ["q_proj", "wqkv"]})
    with pytest.raises(TrainingDataError, match="lora_target_modules: wqkv not in the model"):
        train(request)
