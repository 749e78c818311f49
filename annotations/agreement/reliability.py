"""Krippendorff's alpha from coincidence matrices, written so that a bootstrap is cheap.

alpha = 1 - (n - 1) * sum_ck o_ck d_ck / sum_ck n_c n_k d_ck, where o is the coincidence
matrix of pairable values (units with one label drop out, as the method defines), n_c its
margins and d the squared distance of the level of measurement (Krippendorff 2011,
"Computing Krippendorff's Alpha-Reliability").

Every term is a sum over units, so a unit's contribution is computed once and any weighting
of units (1 each for the point estimate, resample counts for a bootstrap replicate) gives
the whole statistic by matrix products. Units with the same multiset of values contribute
the same, so they are collapsed into *patterns* first; for discrete scales there are few.

Ordinal distances depend on the margins (d_ck = (F_k - F_c)^2 with F the mid-rank of each
value), so they are recomputed per weighting; interval and ratio distances are fixed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from annotations.agreement.matrix import Ratings

LEVELS = ("nominal", "ordinal", "interval", "ratio")


@dataclass(frozen=True)
class AlphaTerms:
    """Per-pattern sufficient statistics of one dimension's pairable units.

    ``unit_pattern`` maps each pairable unit to its pattern; ``counts`` (patterns × values)
    holds how often each value occurs in a pattern; ``observed`` the pattern's contribution
    to sum o_ck d_ck where d is fixed (None for ordinal)."""

    level: str
    unit_pattern: np.ndarray
    unit_cluster: np.ndarray
    sizes: np.ndarray  # labels per pattern (m)
    counts: sparse.csr_matrix
    domain: np.ndarray  # sorted distinct values
    observed: np.ndarray | None
    s1: np.ndarray  # sum of values per pattern (interval)
    s2: np.ndarray  # sum of squared values per pattern (interval)

    @property
    def n_units(self) -> int:
        return int(self.unit_pattern.size)


def alpha_terms(ratings: Ratings, level: str) -> AlphaTerms:
    """Precomputes the per-pattern terms of alpha for ``ratings`` at ``level``."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    pairable = ratings.pairable()
    domain, value_code = np.unique(pairable.value, return_inverse=True)
    n_units = len(pairable.units)
    unit_counts = sparse.csr_matrix(
        (np.ones(pairable.n_labels), (pairable.unit, value_code)), shape=(n_units, domain.size)
    )
    unit_counts.sum_duplicates()
    unit_pattern, counts = _collapse_patterns(unit_counts)
    sizes = np.asarray(counts.sum(axis=1)).ravel()
    s1 = counts @ domain
    s2 = counts @ (domain**2)
    observed = None
    if level == "nominal":
        squares = np.asarray(counts.multiply(counts).sum(axis=1)).ravel()
        observed = (sizes**2 - squares) / (sizes - 1)
    elif level == "interval":
        observed = 2.0 * (sizes * s2 - s1**2) / (sizes - 1)
    elif level == "ratio":
        observed = _ratio_observed(counts, domain, sizes)
    return AlphaTerms(
        level=level,
        unit_pattern=unit_pattern,
        unit_cluster=pairable.cluster,
        sizes=sizes,
        counts=counts,
        domain=domain,
        observed=observed,
        s1=s1,
        s2=s2,
    )


def alpha(ratings: Ratings, level: str) -> float | None:
    """Krippendorff's alpha of ``ratings`` at ``level``; None when undefined (fewer than one
    pairable unit, or no variation at all)."""
    terms = alpha_terms(ratings, level)
    if terms.n_units == 0:
        return None
    weights = np.bincount(terms.unit_pattern, minlength=terms.sizes.size).astype(np.float64)
    value = alpha_weighted(terms, weights[None, :])[0]
    return None if np.isnan(value) else float(value)


def alpha_weighted(terms: AlphaTerms, pattern_weights: np.ndarray) -> np.ndarray:
    """Alpha for each row of ``pattern_weights`` (replicates × patterns): row r weighs each
    pattern's contribution by ``pattern_weights[r, p]``. NaN where alpha is undefined."""
    w = np.asarray(pattern_weights, dtype=np.float64)
    n = w @ terms.sizes
    margins = np.asarray((terms.counts.T @ w.T).T)  # replicates × values
    if terms.level == "interval":
        sum1 = w @ terms.s1
        sum2 = w @ terms.s2
        expected = 2.0 * n * sum2 - 2.0 * sum1**2
        observed = w @ terms.observed
    elif terms.level == "nominal":
        expected = n**2 - (margins**2).sum(axis=1)
        observed = w @ terms.observed
    elif terms.level == "ratio":
        distance = _ratio_distance(terms.domain)
        expected = np.einsum("rc,ck,rk->r", margins, distance, margins)
        observed = w @ terms.observed
    else:  # ordinal: distances follow the (weighted) margins
        midrank = np.cumsum(margins, axis=1) - margins / 2.0
        expected = 2.0 * n * (margins * midrank**2).sum(axis=1) - 2.0 * (margins * midrank).sum(axis=1) ** 2
        # per pattern: sum over ordered label pairs (F_i - F_j)^2 / (m - 1)
        per_pattern_f = np.asarray(terms.counts @ midrank.T)  # patterns × replicates
        per_pattern_f2 = np.asarray(terms.counts @ (midrank**2).T)
        scale = 2.0 / (terms.sizes - 1)
        contributions = scale[:, None] * (terms.sizes[:, None] * per_pattern_f2 - per_pattern_f**2)
        observed = np.einsum("rp,pr->r", w, contributions)
    with np.errstate(divide="ignore", invalid="ignore"):
        result = 1.0 - (n - 1.0) * observed / expected
    result[~(expected > 0)] = np.nan
    return result


def _collapse_patterns(unit_counts: sparse.csr_matrix) -> tuple[np.ndarray, sparse.csr_matrix]:
    """Groups units with identical value counts. Returns (pattern per unit, patterns × values)."""
    n_units, n_values = unit_counts.shape
    if n_values > 64 or n_units == 0:
        return np.arange(n_units), unit_counts.tocsr()
    dense = unit_counts.toarray()
    patterns, unit_pattern = np.unique(dense, axis=0, return_inverse=True)
    return unit_pattern.ravel(), sparse.csr_matrix(patterns)


def _ratio_distance(domain: np.ndarray) -> np.ndarray:
    total = domain[:, None] + domain[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        distance = ((domain[:, None] - domain[None, :]) / total) ** 2
    distance[total == 0] = 0.0
    return distance


def _ratio_observed(counts: sparse.csr_matrix, domain: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Per pattern: sum over ordered pairs of its values of the ratio distance, over (m - 1)."""
    coo = counts.tocoo()
    out = np.zeros(counts.shape[0])
    # pair every nonzero value of a pattern with every other nonzero value of the same pattern
    order = np.argsort(coo.row, kind="stable")
    row, col, cnt = coo.row[order], coo.col[order], coo.data[order]
    per_row = np.bincount(row, minlength=counts.shape[0])
    starts = np.concatenate(([0], np.cumsum(per_row)[:-1]))
    left = np.repeat(np.arange(row.size), per_row[row])
    right = starts[row[left]] + (np.arange(left.size) - np.repeat(np.cumsum(per_row[row]) - per_row[row], per_row[row]))
    a, b = col[left], col[right]
    total = domain[a] + domain[b]
    with np.errstate(divide="ignore", invalid="ignore"):
        distance = np.where(total == 0, 0.0, ((domain[a] - domain[b]) / total) ** 2)
    np.add.at(out, row[left], cnt[left] * cnt[right] * distance)
    return out / (sizes - 1)
