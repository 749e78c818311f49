import krippendorff
import numpy as np
import pytest

from annotations.agreement.bootstrap import alpha_interval
from annotations.agreement.matrix import Ratings
from annotations.agreement.reliability import alpha
from tests.annotations.agreement_examples import KRIPPENDORFF_ALPHAS, KRIPPENDORFF_CODERS_X_UNITS


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_alpha_matches_krippendorffs_published_example_at_every_level(level):
    ratings = Ratings.from_matrix(KRIPPENDORFF_CODERS_X_UNITS)
    assert alpha(ratings, level) == pytest.approx(KRIPPENDORFF_ALPHAS[level], abs=0.0005)


@pytest.mark.parametrize("n_values", [2, 5, 101])
@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_alpha_equals_the_krippendorff_package_on_sparse_random_data(level, n_values):
    rng = np.random.default_rng(n_values)
    truth = rng.integers(1, n_values + 1, size=150)
    matrix = np.where(rng.random((7, 150)) < 0.7, truth, rng.integers(1, n_values + 1, size=(7, 150))).astype(float)
    matrix[rng.random(matrix.shape) < 0.55] = np.nan
    ours = alpha(Ratings.from_matrix(matrix), level)
    theirs = krippendorff.alpha(reliability_data=matrix, level_of_measurement=level)
    assert ours == pytest.approx(theirs, abs=1e-10)


def test_units_with_a_single_label_do_not_change_alpha():
    base = np.array(KRIPPENDORFF_CODERS_X_UNITS)
    lonely = np.full((4, 3), np.nan)
    lonely[0] = [1, 5, 2]  # each extra unit has a single label
    assert alpha(Ratings.from_matrix(np.hstack([base, lonely])), "nominal") == pytest.approx(
        alpha(Ratings.from_matrix(base), "nominal")
    )


def test_alpha_is_none_when_nobody_varies():
    assert alpha(Ratings.from_matrix([[1, 1, 1], [1, 1, 1]]), "interval") is None


def test_bootstrap_interval_is_reproducible_for_a_seed_and_brackets_the_estimate():
    ratings = Ratings.from_matrix(KRIPPENDORFF_CODERS_X_UNITS)
    first = alpha_interval(ratings, "interval", n_resamples=500, seed=7)
    again = alpha_interval(ratings, "interval", n_resamples=500, seed=7)
    other = alpha_interval(ratings, "interval", n_resamples=500, seed=8)
    assert first == again
    assert first != other
    assert first[0] < 0.849 < first[1]


def test_bootstrap_replicates_match_the_package_on_the_resampled_data():
    """A replicate computed from pattern weights equals alpha recomputed on the resampled units."""
    from annotations.agreement.bootstrap import alpha_replicates
    from annotations.agreement.reliability import alpha_terms

    matrix = np.array(KRIPPENDORFF_CODERS_X_UNITS)
    ratings = Ratings.from_matrix(matrix)
    terms = alpha_terms(ratings, "ordinal")
    replicates = alpha_replicates(terms, n_resamples=3, seed=11)
    pairable_columns = np.flatnonzero((~np.isnan(matrix)).sum(axis=0) >= 2)
    rng = np.random.default_rng(11)
    draws = rng.integers(0, pairable_columns.size, size=(3, pairable_columns.size))
    for replicate, draw in zip(replicates, draws, strict=True):
        resampled = matrix[:, pairable_columns[draw]]
        expected = krippendorff.alpha(reliability_data=resampled, level_of_measurement="ordinal")
        assert replicate == pytest.approx(expected, abs=1e-10)


def test_bootstrap_resamples_whole_items_when_units_are_turns():
    import pandas as pd

    rows = []
    rng = np.random.default_rng(3)
    for item in range(30):
        for turn in range(3):
            truth = rng.integers(1, 6)
            for annotator in range(4):
                value = truth if rng.random() < 0.6 else rng.integers(1, 6)
                rows.append({"item": item, "unit": f"{item}#{turn}", "annotator": annotator, "value": value})
    ratings = Ratings.from_frame(pd.DataFrame(rows))
    assert ratings.cluster.max() + 1 == 30
    low, high = alpha_interval(ratings, "ordinal", n_resamples=300, seed=1)
    assert low < alpha(ratings, "ordinal") < high
