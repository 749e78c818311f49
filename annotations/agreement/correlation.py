"""Correlations between annotators of a numeric dimension.

* pairwise Pearson and Spearman over the units both annotators labelled (pairwise-complete,
  Spearman ranks taken within the pair's shared units, ties averaged — what
  ``pandas.DataFrame.corr`` does, but vectorised over all pairs at once);
* leave-one-out: each annotator's Pearson correlation with the mean of the other labels of
  the same units.

Means are unweighted over the pairs (or annotators) whose correlation is defined.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from annotations.agreement.matrix import Ratings


def _grouped_pearson(group: np.ndarray, x: np.ndarray, y: np.ndarray, n_groups: int) -> np.ndarray:
    """Pearson r of x and y within each group code; NaN for constant groups."""
    n = np.bincount(group, minlength=n_groups).astype(np.float64)
    sx = np.bincount(group, weights=x, minlength=n_groups)
    sy = np.bincount(group, weights=y, minlength=n_groups)
    sxx = np.bincount(group, weights=x * x, minlength=n_groups)
    syy = np.bincount(group, weights=y * y, minlength=n_groups)
    sxy = np.bincount(group, weights=x * y, minlength=n_groups)
    cov = n * sxy - sx * sy
    var_x = n * sxx - sx**2
    var_y = n * syy - sy**2
    with np.errstate(divide="ignore", invalid="ignore"):
        r = cov / np.sqrt(var_x * var_y)
    # relative tolerance: sums of squares cancel to rounding noise for constant groups
    constant = (var_x <= 1e-12 * np.maximum(n * sxx, 1.0)) | (var_y <= 1e-12 * np.maximum(n * syy, 1.0))
    r[constant] = np.nan
    return np.clip(r, -1.0, 1.0)


def pairwise_correlations(ratings: Ratings, *, min_overlap: int = 3) -> pd.DataFrame:
    """Per annotator pair sharing at least ``min_overlap`` units: n, pearson, spearman."""
    pairs = ratings.pairs()
    columns = ["annotator_a", "annotator_b", "n", "pearson", "spearman"]
    if pairs.unit.size == 0:
        return pd.DataFrame(columns=columns)
    code, first, second = pairs.pair_codes()
    n_pairs = first.size
    pearson = _grouped_pearson(code, pairs.value_a, pairs.value_b, n_pairs)
    ranks = pd.DataFrame({"pair": code, "a": pairs.value_a, "b": pairs.value_b}).groupby("pair")
    rank_a = ranks["a"].rank(method="average").to_numpy()
    rank_b = ranks["b"].rank(method="average").to_numpy()
    spearman = _grouped_pearson(code, rank_a, rank_b, n_pairs)
    frame = pd.DataFrame(
        {
            "annotator_a": ratings.annotators[first],
            "annotator_b": ratings.annotators[second],
            "n": np.bincount(code, minlength=n_pairs),
            "pearson": pearson,
            "spearman": spearman,
        }
    )
    return frame[frame["n"] >= min_overlap].reset_index(drop=True)


def leave_one_out(ratings: Ratings, *, min_units: int = 3) -> pd.DataFrame:
    """Per annotator with at least ``min_units`` shared units: n and the Pearson correlation
    of their labels with the mean of the other annotators' labels on the same units."""
    sizes = ratings.labels_per_unit()
    sums = np.bincount(ratings.unit, weights=ratings.value, minlength=len(ratings.units))
    shared = sizes[ratings.unit] >= 2
    others = (sums[ratings.unit] - ratings.value)[shared] / (sizes[ratings.unit][shared] - 1)
    who = ratings.annotator[shared]
    n_annotators = len(ratings.annotators)
    r = _grouped_pearson(who, ratings.value[shared], others, n_annotators)
    n = np.bincount(who, minlength=n_annotators)
    frame = pd.DataFrame({"annotator": ratings.annotators, "n": n, "loo_pearson": r})
    return frame[frame["n"] >= min_units].reset_index(drop=True)


def mean_defined(values: pd.Series) -> float | None:
    defined = pd.to_numeric(values, errors="coerce").dropna()
    return float(defined.mean()) if len(defined) else None
