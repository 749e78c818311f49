"""Gwet's AC1 (unweighted) and AC2 (weighted) agreement coefficients, for any number of raters
and missing ratings (Gwet 2014, *Handbook of Inter-Rater Reliability*, 4th ed., ch. 4–5).

AC1 is kappa's paradox-resistant sibling: where almost every label is the same category,
kappa and alpha collapse towards zero while raters plainly agree; AC1's chance agreement
``p_e = T_w / (q (q - 1)) * sum_k pi_k (1 - pi_k)`` stays small there. With weights
(``linear`` or ``quadratic`` over the ordered categories) it is AC2.

Written here rather than taken from ``irrCAC`` because that package pins ``scipy==1.12.0`` and
``pandas<3`` and does not install beside this project's stack; it is tested against the
published worked example that package and the handbook print.
"""

from __future__ import annotations

import numpy as np

from annotations.agreement.matrix import Ratings

WEIGHTINGS = ("identity", "linear", "quadratic")


def category_weights(categories: np.ndarray, weighting: str) -> np.ndarray:
    """The q × q agreement weights over ordered ``categories`` (1 on the diagonal)."""
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {', '.join(WEIGHTINGS)}, not {weighting!r}")
    categories = np.asarray(categories, dtype=np.float64)
    if weighting == "identity" or categories.size < 2:
        return np.eye(categories.size)
    span = categories.max() - categories.min()
    distance = np.abs(categories[:, None] - categories[None, :]) / span
    return 1.0 - (distance if weighting == "linear" else distance**2)


def gwet_ac(ratings: Ratings, *, categories: np.ndarray | None = None, weights: np.ndarray | None = None) -> dict:
    """``{"coefficient", "pa", "pe", "n_units"}`` of Gwet's AC1 (``weights`` None) or AC2.

    ``categories`` are the possible values in order (default: those observed); ``weights`` a
    q × q matrix over them. Units rated by fewer than two raters count in the category
    shares but not in the observed agreement, as Gwet defines. ``coefficient`` is None with
    no unit rated twice or fewer than two categories.
    """
    values = ratings.value
    cats = np.unique(values) if categories is None else np.asarray(categories, dtype=np.float64)
    q = cats.size
    weights = np.eye(q) if weights is None else np.asarray(weights, dtype=np.float64)
    n_units = len(ratings.units)
    empty = {"coefficient": None, "pa": None, "pe": None, "n_units": 0}
    if n_units == 0 or q < 2:
        return empty
    code = np.searchsorted(cats, values)
    if np.any(code >= q) or np.any(cats[np.minimum(code, q - 1)] != values):
        raise ValueError("a rating is not one of the categories")
    counts = np.zeros((n_units, q))
    np.add.at(counts, (ratings.unit, code), 1.0)
    raters = counts.sum(axis=1)
    rated = raters > 0
    counts, raters = counts[rated], raters[rated]
    twice = raters >= 2
    if not twice.any():
        return empty
    weighted = counts @ weights.T  # r*_ik: weighted count of agreeing labels
    agreement = (counts * (weighted - 1.0)).sum(axis=1)
    pa = float(np.mean(agreement[twice] / (raters[twice] * (raters[twice] - 1.0))))
    pi = (counts / raters[:, None]).mean(axis=0)
    pe = float(weights.sum() * np.sum(pi * (1.0 - pi)) / (q * (q - 1)))
    coefficient = (pa - pe) / (1.0 - pe) if pe < 1 else None
    return {"coefficient": coefficient, "pa": pa, "pe": pe, "n_units": int(twice.sum())}
