"""The accelerated paths of ml.core.accel give what the plain transformers path gives."""

from __future__ import annotations

import pytest
import torch
from scipy.stats import spearmanr
from transformers import AutoModelForSequenceClassification

from ml.core.accel import ACCELERATIONS, accelerating
from ml.core.accel.decoder import CachedDecoder
from ml.core.accel.first_token_head import FirstTokenLayer
from ml.core.accel.quantization import SharedInputSlice, SmoothedInt8Linear
from ml.core.generation import Generator, TransformersDecoder
from ml.core.reward_model import CALIBRATION_TEXTS, RewardModelScorer
from ml.core.scores import PERM_DIMENSIONS

PROMPTS = [
    "I lost my job",
    [{"role": "user", "content": "my dog died last week and the house is so quiet"}],
    [{"role": "system", "content": "be kind"}, {"role": "user", "content": "I feel lost"}],
    [{"role": "system", "content": "be kind"}, {"role": "user", "content": "you are not alone in this"}],
    "the weather was nice so we went for a long walk",
]


@pytest.fixture(scope="module")
def plain_generator(tiny_llama_path):
    return Generator(tiny_llama_path, device="cpu", acceleration="off")


@pytest.fixture(scope="module")
def plain_scorer(tiny_regressor_path):
    return RewardModelScorer(tiny_regressor_path, device="cpu", acceleration="off")


def test_off_decodes_with_model_generate_on_the_model_as_loaded(plain_generator, tiny_generator):
    assert type(plain_generator.decoder) is TransformersDecoder
    assert {type(module) for module in plain_generator.model.modules()} >= {torch.nn.Linear}
    assert not any(type(module).__module__.startswith("ml.") for module in plain_generator.model.modules())
    assert type(tiny_generator.decoder) is CachedDecoder


@pytest.mark.parametrize("batch_size", [1, len(PROMPTS)])
def test_accelerated_greedy_tokens_equal_model_generates_exactly(plain_generator, tiny_generator, batch_size):
    plain = [plain_generator.generate([prompt], max_new_tokens=12, temperature=0)[0] for prompt in PROMPTS]

    accelerated = tiny_generator.generate(PROMPTS, max_new_tokens=12, temperature=0, batch_size=batch_size)

    assert [result.token_ids for result in accelerated] == [result.token_ids for result in plain]
    assert accelerated == plain
    assert len({result.token_ids for result in plain}) > 1  # different answers, so the order is checked too


def test_both_paths_stop_each_row_at_its_stop_token(plain_generator, tiny_generator):
    plain = plain_generator.generate(PROMPTS, max_new_tokens=40, temperature=0, batch_size=len(PROMPTS))
    accelerated = tiny_generator.generate(PROMPTS, max_new_tokens=40, temperature=0, batch_size=len(PROMPTS))

    assert accelerated == plain
    assert all(not set(result.token_ids) & plain_generator.stop_token_ids for result in plain)


def test_an_unknown_acceleration_is_refused(tiny_llama_path, tiny_regressor_path):
    assert ACCELERATIONS == ("auto", "off")
    assert accelerating("auto") and not accelerating("off")
    with pytest.raises(ValueError, match="acceleration must be one of auto, off"):
        Generator(tiny_llama_path, device="cpu", acceleration="fast")
    with pytest.raises(ValueError, match="acceleration must be one of auto, off"):
        RewardModelScorer(tiny_regressor_path, device="cpu", acceleration="on")


def test_off_scores_with_the_classifiers_own_forward(plain_scorer, tiny_regressor_path):
    plain_model = AutoModelForSequenceClassification.from_pretrained(tiny_regressor_path).eval()
    inputs = plain_scorer.tokenizer(list(CALIBRATION_TEXTS[:6]), padding=True, return_tensors="pt")
    with torch.inference_mode():
        expected = plain_model(**inputs).logits

    result = plain_scorer.score(list(CALIBRATION_TEXTS[:6]))

    assert plain_scorer.quantization_plan is None
    assert not any(isinstance(module, FirstTokenLayer) for module in plain_scorer.model.modules())
    got = torch.tensor([[result.per_dimension[name][i] for name in PERM_DIMENSIONS] for i in range(6)])
    assert torch.allclose(got, expected, atol=1e-5)


def test_accelerated_float_scores_equal_the_plain_forwards(plain_scorer, tiny_regressor_path):
    accelerated = RewardModelScorer(tiny_regressor_path, device="cpu")
    assert any(isinstance(module, FirstTokenLayer) for module in accelerated.model.modules())

    fast, plain = accelerated.score(list(CALIBRATION_TEXTS)), plain_scorer.score(list(CALIBRATION_TEXTS))

    for name in PERM_DIMENSIONS:
        assert torch.allclose(torch.tensor(fast.per_dimension[name]), torch.tensor(plain.per_dimension[name]),
                              atol=1e-5)
    assert len({round(value, 4) for value in plain.reward}) > len(CALIBRATION_TEXTS) // 2  # texts differ


def test_int8_scores_rank_the_calibration_texts_as_the_plain_path_does(plain_scorer, tiny_regressor_path):
    quantized = RewardModelScorer(tiny_regressor_path, device="cpu", quantize=True)
    assert any(isinstance(module, SmoothedInt8Linear | SharedInputSlice) for module in quantized.model.modules())

    approx, exact = quantized.score(list(CALIBRATION_TEXTS)), plain_scorer.score(list(CALIBRATION_TEXTS))

    assert spearmanr(exact.reward, approx.reward).statistic >= 0.99
    for name in PERM_DIMENSIONS:
        assert spearmanr(exact.per_dimension[name], approx.per_dimension[name]).statistic >= 0.99


def test_int8_needs_the_accelerated_path(tiny_regressor_path):
    with pytest.raises(ValueError, match="acceleration 'off' computes in float"):
        RewardModelScorer(tiny_regressor_path, device="cpu", quantize=True, acceleration="off")
