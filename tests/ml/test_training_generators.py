"""sft, dpo and preference-rm train from the platform's exports unchanged and give loadable models:
LoRA adapters over the base for the generators, a scalar reward model for preferences."""

from __future__ import annotations

import pytest

from ml.core.training import TrainRequest, train
from studies.export import export_filters, export_write
from tests.ml.training_support import export_file, learnable_items, likert, project_with_labels
from tests.studies.conftest import make_study  # noqa: F401  (fixture)
from tests.studies.test_export_preferences import ALPHA, BETA, import_judgments, prompt

pytestmark = pytest.mark.django_db

FAST = {"max_steps": 3, "batch_size": 2, "save_steps": 2, "logging_steps": 1, "max_length": 64}


@pytest.fixture
def preference_files(make_study, tmp_path):  # noqa: F811
    study = make_study(n_prompts=10)
    rows = [(f"w{k}", prompt(i), ALPHA, BETA, "ab"[(i + k) % 3 == 0], "ab"[k % 2], "overall")
            for i in range(10) for k in range(3)]
    import_judgments(study, rows)
    dpo, raw = tmp_path / "prefs.jsonl", tmp_path / "prefs-raw.jsonl"
    export_write(study, path=dpo, format="dpo", filters=export_filters(study))
    export_write(study, path=raw, format="raw", filters=export_filters(study))
    return dpo, raw


def _load_adapter(folder):
    from peft import AutoPeftModelForCausalLM

    return AutoPeftModelForCausalLM.from_pretrained(str(folder))


def test_sft_trains_a_lora_adapter_on_the_top_rated_response_per_prompt(tmp_path, tiny_llama_path):
    dims = [likert("empathy")]
    items = []
    for number, (data, labels) in enumerate(learnable_items("response", 24, seed=2)):
        data["context"] = f"I lost my job today {number % 8}"
        items.append((data, labels))
    source = export_file(project_with_labels(kind="response", dimensions=dims, items=items), tmp_path)
    outcome = train(TrainRequest(recipe="sft", base=str(tiny_llama_path), out=tmp_path / "run", source=source,
                                 dimensions=dims, device="cpu", overrides={**FAST, "top_k": 1}))
    assert outcome.adapter and (outcome.model_dir / "adapter_config.json").is_file()
    assert sum(outcome.details["selected"].values()) == 8  # one response per prompt
    model = _load_adapter(outcome.model_dir)
    assert model.peft_config["default"].base_model_name_or_path == str(tiny_llama_path)
    assert outcome.metrics["eval_loss"] > 0 and outcome.parent_metrics["eval_loss"] > 0


def test_dpo_trains_a_lora_adapter_from_the_study_export_with_the_base_as_reference(
        tmp_path, tiny_llama_path, preference_files):
    dpo, _ = preference_files
    outcome = train(TrainRequest(recipe="dpo", base=str(tiny_llama_path), out=tmp_path / "run", source=dpo,
                                 device="cpu", overrides={**FAST, "heldout": 0.3}))
    assert outcome.kind == "generator" and (outcome.model_dir / "adapter_config.json").is_file()
    _load_adapter(outcome.model_dir)
    accuracy = outcome.metrics["pair_accuracy"]
    assert accuracy["n"] == outcome.split["sizes"]["heldout"] and 0 <= accuracy["low"] <= accuracy["high"] <= 1
    assert set(outcome.split["parts"]["heldout"]) <= {prompt(i) for i in range(10)}  # split by prompt


def test_preference_reward_model_trains_from_the_dpo_and_raw_exports(tmp_path, tiny_regressor_path,
                                                                     preference_files):
    from transformers import AutoModelForSequenceClassification

    dpo, raw = preference_files
    outcome = train(TrainRequest(recipe="preference-rm", base=str(tiny_regressor_path), out=tmp_path / "run",
                                 source=dpo, raw_source=raw, device="cpu", overrides={**FAST, "heldout": 0.3}))
    assert AutoModelForSequenceClassification.from_pretrained(outcome.model_dir).config.num_labels == 1
    assert outcome.details["margin"] is False  # this study asked for no strength
    assert outcome.metrics["pair_accuracy"]["n"] == outcome.parent_metrics["pair_accuracy"]["n"] > 0
