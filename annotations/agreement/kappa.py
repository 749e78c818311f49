"""Fleiss' kappa and pairwise Cohen's kappa (unweighted, linear or quadratic weights).

Values are category codes; ``categories`` gives the ordered category list the weights are
built on (ordinal distance = difference of positions in that list).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from annotations.agreement.matrix import Ratings

KAPPA_WEIGHTS = (None, "linear", "quadratic")


def fleiss_kappa(ratings: Ratings) -> float | None:
    """Fleiss' (1971) kappa over units with at least two labels.

    With a constant number of labels per unit this is Fleiss' statistic exactly; with a
    varying number each unit's agreement P_i uses its own m_i and the category shares p_j
    pool all pairable labels (the usual generalisation). None when undefined."""
    pairable = ratings.pairable()
    if pairable.n_labels == 0:
        return None
    _, code = np.unique(pairable.value, return_inverse=True)
    n_units = len(pairable.units)
    n_categories = int(code.max()) + 1
    counts = np.bincount(pairable.unit * n_categories + code, minlength=n_units * n_categories)
    counts = counts.reshape(n_units, n_categories).astype(np.float64)
    sizes = counts.sum(axis=1)
    per_unit = ((counts**2).sum(axis=1) - sizes) / (sizes * (sizes - 1))
    shares = counts.sum(axis=0) / sizes.sum()
    chance = float((shares**2).sum())
    if chance >= 1.0:
        return None
    return float((per_unit.mean() - chance) / (1.0 - chance))


def _weight_matrix(n_categories: int, weights: str | None) -> np.ndarray:
    """Disagreement weights: 0 on the diagonal, 1 at the largest distance."""
    if weights not in KAPPA_WEIGHTS:
        raise ValueError(f"weights must be one of {KAPPA_WEIGHTS}, not {weights!r}")
    positions = np.arange(n_categories)
    distance = np.abs(positions[:, None] - positions[None, :]).astype(np.float64)
    if weights is None:
        return (distance > 0).astype(np.float64)
    span = max(n_categories - 1, 1)
    return distance / span if weights == "linear" else (distance / span) ** 2


def cohen_kappa_pairs(
    ratings: Ratings,
    *,
    weights: str | None = None,
    categories: np.ndarray | None = None,
    min_overlap: int = 2,
) -> pd.DataFrame:
    """Cohen's kappa for every pair of annotators who share at least ``min_overlap`` units.

    Returns columns annotator_a, annotator_b (labels from ``ratings.annotators``), n, kappa
    (NaN where chance disagreement is zero, e.g. both gave one category throughout)."""
    categories = np.unique(ratings.value) if categories is None else np.asarray(categories, dtype=np.float64)
    n_categories = categories.size
    pairs = ratings.pairs()
    columns = ["annotator_a", "annotator_b", "n", "kappa"]
    if pairs.unit.size == 0:
        return pd.DataFrame(columns=columns)
    code_a = np.searchsorted(categories, pairs.value_a)
    code_b = np.searchsorted(categories, pairs.value_b)
    if (code_a >= n_categories).any() or (code_b >= n_categories).any():
        raise ValueError("a value is not among the declared categories")
    pair_code, first, second = pairs.pair_codes()
    n_pairs = first.size
    w = _weight_matrix(n_categories, weights)
    n = np.bincount(pair_code, minlength=n_pairs).astype(np.float64)
    observed = np.bincount(pair_code, weights=w[code_a, code_b], minlength=n_pairs) / n
    margin_a = np.bincount(pair_code * n_categories + code_a, minlength=n_pairs * n_categories)
    margin_b = np.bincount(pair_code * n_categories + code_b, minlength=n_pairs * n_categories)
    margin_a = margin_a.reshape(n_pairs, n_categories) / n[:, None]
    margin_b = margin_b.reshape(n_pairs, n_categories) / n[:, None]
    expected = (margin_a * (margin_b @ w.T)).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = np.where(expected > 0, 1.0 - observed / expected, np.nan)
    frame = pd.DataFrame(
        {
            "annotator_a": ratings.annotators[first],
            "annotator_b": ratings.annotators[second],
            "n": n.astype(np.int64),
            "kappa": kappa,
        }
    )
    return frame[frame["n"] >= min_overlap].reset_index(drop=True)


def cohen_kappa_mean(ratings: Ratings, **kwargs) -> float | None:
    """Unweighted mean of the defined pairwise kappas (Light's kappa when data are complete)."""
    kappas = cohen_kappa_pairs(ratings, **kwargs)["kappa"].dropna()
    return float(kappas.mean()) if len(kappas) else None


def kappa_with_others(pair_table: pd.DataFrame) -> pd.Series:
    """Per annotator: mean kappa over the pairs they belong to (NaN pairs ignored)."""
    long = pd.concat(
        [
            pair_table[["annotator_a", "kappa"]].rename(columns={"annotator_a": "annotator"}),
            pair_table[["annotator_b", "kappa"]].rename(columns={"annotator_b": "annotator"}),
        ]
    )
    return long.groupby("annotator")["kappa"].mean()
