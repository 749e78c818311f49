"""Reward-model scorer on a tiny random BERT with a regression head."""

from __future__ import annotations

import math

import pytest
import torch

from ml.core.accel.quantization import SharedInputSlice, SmoothedInt8Linear
from ml.core.errors import ModelLoadError
from ml.core.reward_model import RewardModelScorer
from ml.core.scores import PERM_DIMENSIONS

TEXTS = [
    "I am sorry to hear that",
    "that must be painful , I am here for you and it will get better",
    "the weather was nice",
    "you are not alone in this",
    "I lost my job today and I feel lost , my dog died last week and the house is so quiet",
]


@pytest.fixture(scope="module")
def scorer(tiny_regressor_path):
    return RewardModelScorer(tiny_regressor_path, batch_size=2, device="cpu")


def test_gives_every_dimension_and_a_reward_for_every_text(scorer):
    result = scorer.score(TEXTS)

    assert result.dimensions == PERM_DIMENSIONS
    assert list(result.per_dimension) == list(PERM_DIMENSIONS)
    assert all(len(values) == len(TEXTS) for values in result.per_dimension.values())
    assert len(result.reward) == len(TEXTS)
    assert result.unparseable == 0
    for i in range(len(TEXTS)):
        row = [result.per_dimension[name][i] for name in PERM_DIMENSIONS]
        assert result.reward[i] == pytest.approx(sum(row) / len(row))


def test_scores_do_not_depend_on_input_order_or_batching(scorer, tiny_regressor_path):
    forward = scorer.score(TEXTS)
    backward = scorer.score(TEXTS[::-1])
    one_at_a_time = RewardModelScorer(tiny_regressor_path, batch_size=1, device="cpu").score(TEXTS)

    for name in PERM_DIMENSIONS:
        assert backward.per_dimension[name][::-1] == pytest.approx(forward.per_dimension[name], abs=1e-5)
        assert one_at_a_time.per_dimension[name] == pytest.approx(forward.per_dimension[name], abs=1e-5)
    # Different texts score differently, so the comparisons above do check the order.
    assert len({round(value, 4) for value in forward.reward}) == len(TEXTS)


def test_scores_equal_the_model_outputs_for_each_text(scorer):
    result = scorer.score(TEXTS)
    with torch.inference_mode():
        direct = scorer.model(**scorer.tokenizer(TEXTS[1], return_tensors="pt")).logits[0].tolist()

    assert [result.per_dimension[name][1] for name in PERM_DIMENSIONS] == pytest.approx(direct, abs=1e-5)


def test_context_is_read_with_the_response(scorer):
    alone = scorer.score(TEXTS[:2])
    with_context = scorer.score(TEXTS[:2], contexts=["my dog died", "I lost my job"])

    assert with_context.reward != pytest.approx(alone.reward)
    with pytest.raises(ValueError, match="1 contexts for 2 texts"):
        scorer.score(TEXTS[:2], contexts=["only one"])


def test_outputs_are_matched_to_dimensions_by_label_name(make_tiny_regressor):
    reversed_labels = dict(enumerate(reversed(PERM_DIMENSIONS)))
    scorer = RewardModelScorer(make_tiny_regressor(id2label=reversed_labels), device="cpu")
    with torch.inference_mode():
        raw = scorer.model(**scorer.tokenizer(TEXTS[0], return_tensors="pt")).logits[0].tolist()

    result = scorer.score(TEXTS[:1])

    assert result.per_dimension["resonation"][0] == pytest.approx(raw[3], abs=1e-5)
    assert result.per_dimension["bystander"][0] == pytest.approx(raw[0], abs=1e-5)


# How far int8 may move a tiny random model's scores, as a share of their range: 8-bit weights
# (CPUs with VNNI/AMX) measured 0.031, 7-bit weights (the others) 0.055.
INT8_TOLERANCE = {True: 0.05, False: 0.08}


@pytest.mark.parametrize("branch", ["this CPU's", "7-bit weights"])
def test_int8_quantization_converts_the_per_token_layers_and_keeps_the_ranking(tiny_regressor_path, monkeypatch, branch):
    from ml.core.accel import quantization

    if branch == "7-bit weights":  # what a CPU without VNNI/AMX runs; safe on every CPU (no int16 overflow)
        monkeypatch.setattr(quantization, "cpu_has_int8_dot_product", lambda: False)
    eight_bit = quantization.cpu_has_int8_dot_product()
    plain = RewardModelScorer(tiny_regressor_path, device="cpu", acceleration="off")
    quantized = RewardModelScorer(tiny_regressor_path, quantize=True, device="cpu")

    plan = quantized.quantization_plan
    modules = dict(quantized.model.named_modules())
    converted = {name for group in plan.groups for name in group}
    layer_0 = {f"bert.encoder.layer.0.{part}" for part in (
        "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
        "intermediate.dense")}
    last_kv = {f"bert.encoder.layer.1.layer.attention.self.{part}" for part in ("key", "value")}
    down = "bert.encoder.layer.0.output.dense"
    assert converted == layer_0 | last_kv | ({down} if eight_bit else set())
    assert all(isinstance(modules[name], (SmoothedInt8Linear, SharedInputSlice)) for name in converted)
    # Float32: what computes one row per text (the last layer's first token, pooler and head).
    assert all(type(modules[name]) is torch.nn.Linear for name in plan.kept_float)
    assert {"bert.pooler.dense", "classifier"} <= set(plan.kept_float)
    exact, approx = plain.score(TEXTS).reward, quantized.score(TEXTS).reward
    assert all(math.isfinite(value) for value in approx)
    assert approx == pytest.approx(exact, abs=INT8_TOLERANCE[eight_bit] * (max(exact) - min(exact)))
    assert sorted(range(len(TEXTS)), key=exact.__getitem__) == sorted(
        range(len(TEXTS)), key=approx.__getitem__
    )


def test_weighted_reward_uses_the_given_weights(tiny_regressor_path):
    weights = {"resonation": 1.0, "bystander": 3.0}
    scorer = RewardModelScorer(tiny_regressor_path, device="cpu", combine_rule="weighted", weights=weights)
    result = scorer.score(TEXTS[:2])

    for i in range(2):
        expected = (result.per_dimension["resonation"][i] + 3 * result.per_dimension["bystander"][i]) / 4
        assert result.reward[i] == pytest.approx(expected)


def test_a_folder_without_a_model_is_a_load_error(tmp_path):
    with pytest.raises(ModelLoadError, match="cannot load a reward model"):
        RewardModelScorer(tmp_path, device="cpu")
