"""The encoder recipes train from a real label export and give models the scorers load, and they
learn: on labels that follow a learnable signal, the trained model beats its untrained parent
on held-out Spearman by a stated margin."""

from __future__ import annotations

import json

import pytest

from ml.core.reward_model import RewardModelScorer
from ml.core.similarity import PairSimilarity
from ml.core.training import TrainRequest, train
from tests.ml.training_support import export_file, learnable_items, likert, project_with_labels

pytestmark = pytest.mark.django_db

FAST = {"max_steps": 4, "batch_size": 8, "save_steps": 2, "logging_steps": 1}
# Spearman on ~20 held-out items: the trained model must be ahead of its parent by this much.
MARGIN = 0.3


def _request(tmp_path, recipe, base, source, dims, **overrides):
    return TrainRequest(recipe=recipe, base=str(base), out=tmp_path / "run", source=source, dimensions=dims,
                        device="cpu", overrides={**FAST, **overrides})


def test_reward_model_from_means_saves_a_model_the_scorer_loads_on_the_schema_scale(tmp_path, tiny_regressor_path):
    dims = [likert("empathy"), likert("clarity")]
    items = [(data, [{**v, "clarity": 3} for v in labels]) for data, labels in learnable_items("narrative", 20)]
    source = export_file(project_with_labels(kind="narrative", dimensions=dims, items=items), tmp_path)
    outcome = train(_request(tmp_path, "reward-model", tiny_regressor_path, source, dims))
    scorer = RewardModelScorer(outcome.model_dir, dimensions=("empathy", "clarity"), device="cpu")
    scores = scorer.score(["I am sorry to hear that", "the weather was nice"])
    assert all(len(v) == 2 for v in scores.per_dimension.values())
    assert set(outcome.metrics) == {"empathy", "clarity"}
    assert {"pearson", "spearman", "mse", "alpha_human", "alpha_with_model", "loo_human", "loo_model"} <= set(
        outcome.metrics["empathy"])
    assert outcome.record["steps"] == 4 and outcome.record["device"] == "cpu"
    assert outcome.record["versions"]["transformers"] and outcome.record["wall_seconds"] > 0
    stored = json.loads((tmp_path / "run" / "run.json").read_text())
    assert stored["split"]["sizes"] == outcome.split["sizes"] and sum(outcome.split["sizes"].values()) == 20


def test_reward_model_from_soft_labels_predicts_a_distribution_per_dimension(tmp_path, tiny_regressor_path):
    from transformers import AutoConfig

    dims = [likert("empathy")]
    source = export_file(project_with_labels(kind="narrative", dimensions=dims,
                                             items=learnable_items("narrative", 20)), tmp_path)
    outcome = train(_request(tmp_path, "reward-model", tiny_regressor_path, source, dims, targets="distribution"))
    config = AutoConfig.from_pretrained(outcome.model_dir)
    assert config.resonance_soft_labels == {"empathy": [1.0, 2.0, 3.0, 4.0, 5.0]}
    assert config.num_labels == 5
    assert outcome.metrics["empathy"]["mse"] is not None
    scores = RewardModelScorer(outcome.model_dir, dimensions=("empathy",), device="cpu").score(["I am sorry"])
    assert 1.0 <= scores.per_dimension["empathy"][0] <= 5.0  # the expectation over the scale points


def test_reward_model_beats_its_untrained_parent_on_heldout_spearman(tmp_path, tiny_regressor_path):
    dims = [likert("empathy")]
    source = export_file(project_with_labels(kind="narrative", dimensions=dims,
                                             items=learnable_items("narrative", 100, seed=3)), tmp_path)
    outcome = train(_request(tmp_path, "reward-model", tiny_regressor_path, source, dims,
                             max_steps=120, batch_size=16, learning_rate=2e-3, save_steps=1000, logging_steps=20))
    new, old = outcome.metrics["empathy"]["spearman"], outcome.parent_metrics["empathy"]["spearman"] or 0.0
    assert new > old + MARGIN, (new, old)


def test_bi_encoder_trains_with_each_loss_and_gives_a_model_pair_similarity_loads(tmp_path,
                                                                                  tiny_sentence_encoder_path):
    dims = [{"name": "overall", "question": "Would they empathize?", "type": "likert", "min": 1, "max": 4,
             "level": "ordinal"}]
    source = export_file(project_with_labels(kind="pair", dimensions=dims,
                                             items=learnable_items("pair", 20, dimension="overall")), tmp_path)
    for loss in ("cosent", "angle", "cosine"):
        request = _request(tmp_path, "bi-encoder", tiny_sentence_encoder_path, source, dims, loss=loss)
        request.out = tmp_path / f"run-{loss}"
        outcome = train(request)
        scores = PairSimilarity(outcome.model_dir, device="cpu").score([("I am sorry", "I am here for you")])
        assert len(scores) == 1
        assert {"spearman", "accuracy", "macro_f1"} <= set(outcome.metrics["overall"])


def test_bi_encoder_beats_its_untrained_parent_on_heldout_spearman(tmp_path, tiny_sentence_encoder_path):
    dims = [{"name": "overall", "question": "Would they empathize?", "type": "likert", "min": 1, "max": 4,
             "level": "ordinal"}]
    source = export_file(project_with_labels(kind="pair", dimensions=dims,
                                             items=learnable_items("pair", 100, seed=5, dimension="overall")),
                         tmp_path)
    outcome = train(_request(tmp_path, "bi-encoder", tiny_sentence_encoder_path, source, dims,
                             max_steps=120, batch_size=16, learning_rate=2e-3, save_steps=1000, logging_steps=20))
    new, old = outcome.metrics["overall"]["spearman"], outcome.parent_metrics["overall"]["spearman"] or 0.0
    assert new > old + MARGIN, (new, old)
