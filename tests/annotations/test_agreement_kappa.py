import numpy as np
import pytest
from statsmodels.stats.inter_rater import cohens_kappa
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss

from annotations.agreement.kappa import cohen_kappa_mean, cohen_kappa_pairs, fleiss_kappa
from annotations.agreement.matrix import Ratings
from tests.annotations.agreement_examples import (
    COHEN_KAPPA,
    FLEISS_KAPPA,
    cohen_pair_matrix,
    fleiss_ratings_matrix,
)


def test_fleiss_kappa_matches_the_published_worked_example():
    assert fleiss_kappa(Ratings.from_matrix(fleiss_ratings_matrix())) == pytest.approx(FLEISS_KAPPA, abs=0.0005)


def test_fleiss_kappa_agrees_with_statsmodels_on_balanced_random_data():
    rng = np.random.default_rng(5)
    matrix = rng.integers(0, 4, size=(6, 80)).astype(float)
    matrix[:2] = matrix[2:4]  # some agreement
    counts = np.stack([(matrix == c).sum(axis=0) for c in range(4)], axis=1)
    assert fleiss_kappa(Ratings.from_matrix(matrix)) == pytest.approx(statsmodels_fleiss(counts), abs=1e-12)


def test_cohen_kappa_matches_the_published_worked_example():
    assert cohen_kappa_mean(Ratings.from_matrix(cohen_pair_matrix())) == pytest.approx(COHEN_KAPPA, abs=1e-12)


@pytest.mark.parametrize("weights", ["linear", "quadratic"])
def test_weighted_cohen_kappa_agrees_with_statsmodels(weights):
    rng = np.random.default_rng(9)
    a = rng.integers(0, 5, size=120)
    b = np.clip(a + rng.integers(-1, 2, size=120), 0, 4)
    table = np.zeros((5, 5))
    np.add.at(table, (a, b), 1)
    expected = cohens_kappa(table, wt=weights).kappa
    got = cohen_kappa_mean(Ratings.from_matrix(np.array([a, b], dtype=float)), weights=weights)
    assert got == pytest.approx(expected, abs=1e-12)


def test_pairwise_kappa_uses_only_shared_units_and_drops_thin_pairs():
    matrix = np.array(
        [
            [1, 2, 1, 2, np.nan, np.nan],
            [1, 2, 1, 1, 2, np.nan],
            [np.nan, np.nan, np.nan, np.nan, 2, 1],
        ]
    )
    pairs = cohen_kappa_pairs(Ratings.from_matrix(matrix), min_overlap=2)
    assert list(zip(pairs.annotator_a, pairs.annotator_b, pairs.n, strict=True)) == [(0, 1, 4)]
    # 0 vs 1 on four units: agree 3/4; margins a (2,2), b (3,1) -> pe = .5; kappa = .5
    assert pairs.kappa[0] == pytest.approx(0.5)
