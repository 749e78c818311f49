"""Pair similarity with a tiny sentence-transformers bi-encoder, and the mapping onto a scale."""

from __future__ import annotations

import pytest

from ml.core.errors import ModelLoadError
from ml.core.similarity import PairSimilarity, to_scale


@pytest.mark.parametrize(
    ("cosine", "expected"),
    [(-0.7, 1.0), (0.0, 1.0), (0.5, 2.5), (1.0, 4.0), (1.2, 4.0), (1 / 3, 2.0)],
)
def test_cosine_maps_onto_a_one_to_four_scale_with_negatives_at_the_bottom(cosine, expected):
    assert to_scale(cosine, 1, 4) == pytest.approx(expected)


def test_an_inverted_scale_is_refused():
    with pytest.raises(ValueError, match="below its bottom"):
        to_scale(0.5, 4, 1)


def test_pairs_get_cosines_in_order_identical_texts_near_one(tiny_sentence_encoder_path):
    similarity = PairSimilarity(tiny_sentence_encoder_path, device="cpu")
    pairs = [
        ("my dog died last week", "my dog died last week"),
        ("my dog died last week", "the weather was nice"),
        ("the weather was nice", "my dog died last week"),
    ]

    scores = similarity.score(pairs)

    assert len(scores) == 3
    assert scores[0] == pytest.approx(1.0, abs=1e-5)
    assert scores[1] == pytest.approx(scores[2], abs=1e-6)  # cosine is symmetric
    assert -1.0 <= scores[1] < 0.9999
    assert similarity.score([]) == []
    assert similarity.score_on_scale(pairs[:2], 1, 4) == pytest.approx([to_scale(s, 1, 4) for s in scores[:2]])


def test_a_missing_folder_is_a_load_error(tmp_path):
    with pytest.raises(ModelLoadError, match="not a folder"):
        PairSimilarity(tmp_path / "missing", device="cpu")
