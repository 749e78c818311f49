import numpy as np
import pandas as pd
import pytest
from scipy import stats

from annotations.agreement.correlation import leave_one_out, pairwise_correlations
from annotations.agreement.matrix import Ratings


def _sparse_matrix(seed=0):
    rng = np.random.default_rng(seed)
    truth = rng.normal(size=60)
    matrix = truth + rng.normal(scale=0.7, size=(5, 60))
    matrix = np.round(matrix * 2) / 2  # ties, so Spearman's averaging matters
    matrix[rng.random(matrix.shape) < 0.35] = np.nan
    return matrix


def test_pairwise_correlations_equal_pandas_pairwise_complete():
    matrix = _sparse_matrix()
    got = pairwise_correlations(Ratings.from_matrix(matrix))
    frame = pd.DataFrame(matrix.T)
    pearson, spearman = frame.corr(method="pearson"), frame.corr(method="spearman")
    assert len(got) == 10
    for row in got.itertuples():
        assert row.pearson == pytest.approx(pearson.loc[row.annotator_a, row.annotator_b], abs=1e-10)
        assert row.spearman == pytest.approx(spearman.loc[row.annotator_a, row.annotator_b], abs=1e-10)


def test_leave_one_out_correlates_each_annotator_with_the_mean_of_the_others():
    matrix = _sparse_matrix(1)
    got = leave_one_out(Ratings.from_matrix(matrix)).set_index("annotator")
    for annotator in range(matrix.shape[0]):
        others = np.delete(matrix, annotator, axis=0)
        counts = (~np.isnan(others)).sum(axis=0)
        mean_others = np.where(counts > 0, np.nansum(others, axis=0) / np.maximum(counts, 1), np.nan)
        mask = ~np.isnan(matrix[annotator]) & ~np.isnan(mean_others)
        expected = stats.pearsonr(matrix[annotator, mask], mean_others[mask]).statistic
        assert got.loc[annotator, "loo_pearson"] == pytest.approx(expected, abs=1e-10)


def test_a_constant_annotator_has_no_correlation():
    matrix = np.array([[1, 1, 1, 1], [1, 2, 3, 4], [2, 3, 4, 5]], dtype=float)
    got = pairwise_correlations(Ratings.from_matrix(matrix))
    by_pair = got.set_index(["annotator_a", "annotator_b"])
    assert np.isnan(by_pair.loc[(0, 1), "pearson"]) and np.isnan(by_pair.loc[(0, 2), "spearman"])
    assert by_pair.loc[(1, 2), "pearson"] == pytest.approx(1.0)
