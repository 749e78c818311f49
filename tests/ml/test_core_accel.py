"""The accelerated paths of ml.core.accel give what the plain transformers path gives."""

from __future__ import annotations

import json
import shutil

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


def test_both_paths_end_each_row_at_its_own_stop_token(plain_generator, tiny_llama_path, tmp_path):
    # A token from the middle of the first answer becomes a stop token: rows of one batch then
    # stop at different steps, and model.generate pads the early ones, which must be cut.
    answers = plain_generator.generate(PROMPTS, max_new_tokens=10, temperature=0)
    special = set(plain_generator.tokenizer.all_special_ids)
    stop_id = next(token for token in answers[0].token_ids[2:] if token not in special)
    folder = tmp_path / "model"
    shutil.copytree(tiny_llama_path, folder)
    config_file = folder / "generation_config.json"
    config = json.loads(config_file.read_text())
    config["eos_token_id"] = [plain_generator.tokenizer.eos_token_id, stop_id]
    config_file.write_text(json.dumps(config))

    plain = Generator(folder, device="cpu", acceleration="off").generate(
        PROMPTS, max_new_tokens=10, temperature=0, batch_size=len(PROMPTS))
    accelerated = Generator(folder, device="cpu").generate(
        PROMPTS, max_new_tokens=10, temperature=0, batch_size=len(PROMPTS))

    assert accelerated == plain
    assert plain[0].new_tokens < 10
    assert len({result.new_tokens for result in plain}) > 1


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


def test_a_judge_loaded_on_either_path_gives_the_same_parsed_scores(tiny_llama_path, tiny_generator):
    from ml.core.judge import LLMJudgeScorer

    plain = LLMJudgeScorer(tiny_llama_path, perspectives=("resonation", "reception"), device="cpu",
                           acceleration="off", max_new_tokens=4)
    accelerated = LLMJudgeScorer(tiny_generator, perspectives=("resonation", "reception"), max_new_tokens=4)
    texts = ["I am sorry to hear that", "the weather was nice"]

    assert type(plain.generator.decoder) is TransformersDecoder
    plain_scores = plain.score(texts)
    accelerated_scores = accelerated.score(texts)
    assert plain.last_answers == accelerated.last_answers
    assert plain_scores.unparseable == accelerated_scores.unparseable
