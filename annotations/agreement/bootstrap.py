"""Bootstrap confidence intervals for Krippendorff's alpha by resampling items.

Items are drawn with replacement (all units of a drawn item come with it, so the turns of a
dialogue stay together). A replicate is a vector of weights over the precomputed alpha
patterns, and a block of replicates is one sparse-dense product — the krippendorff package is
never called per replicate. Same ``seed``, same data: same interval.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from annotations.agreement.matrix import Ratings
from annotations.agreement.reliability import AlphaTerms, alpha_terms, alpha_weighted

_BLOCK_CELLS = 4_000_000  # replicates × items held at once; bounds memory to ~32 MB


def alpha_replicates(terms: AlphaTerms, *, n_resamples: int, seed: int) -> np.ndarray:
    """Alpha of ``n_resamples`` item-resampled replicates (NaN where undefined)."""
    n_items = int(terms.unit_cluster.max()) + 1 if terms.n_units else 0
    if n_items == 0 or n_resamples <= 0:
        return np.full(max(n_resamples, 0), np.nan)
    n_patterns = terms.sizes.size
    # items × patterns: how many units of each pattern an item holds
    item_patterns = sparse.csr_matrix(
        (np.ones(terms.n_units), (terms.unit_cluster, terms.unit_pattern)), shape=(n_items, n_patterns)
    )
    # the common case, one unit per item, needs no item × pattern product: a drawn item is its pattern
    single_unit = terms.n_units == n_items
    pattern_of_item = np.empty(n_items, dtype=np.int64)
    pattern_of_item[terms.unit_cluster] = terms.unit_pattern
    patterns_t = item_patterns.T.tocsr()
    rng = np.random.default_rng(seed)
    block = max(1, min(n_resamples, _BLOCK_CELLS // n_items))
    out = np.empty(n_resamples)
    for start in range(0, n_resamples, block):
        size = min(block, n_resamples - start)
        draws = rng.integers(0, n_items, size=(size, n_items))
        if single_unit:
            keys = (pattern_of_item[draws] + (np.arange(size) * n_patterns)[:, None]).ravel()
            pattern_weights = np.bincount(keys, minlength=size * n_patterns).reshape(size, n_patterns)
            pattern_weights = pattern_weights.astype(np.float64)
        else:
            keys = (draws + (np.arange(size) * n_items)[:, None]).ravel()
            item_weights = np.bincount(keys, minlength=size * n_items).reshape(size, n_items)
            pattern_weights = np.asarray(patterns_t @ np.ascontiguousarray(item_weights.T, dtype=np.float64)).T
        out[start : start + size] = alpha_weighted(terms, pattern_weights)
    return out


def alpha_interval(
    ratings: Ratings, level: str, *, n_resamples: int = 1000, seed: int = 0, confidence: float = 0.95
) -> tuple[float, float] | None:
    """Percentile interval of alpha over item resamples; None when no replicate is defined."""
    terms = alpha_terms(ratings, level)
    return percentile_interval(alpha_replicates(terms, n_resamples=n_resamples, seed=seed), confidence)


def percentile_interval(replicates: np.ndarray, confidence: float = 0.95) -> tuple[float, float] | None:
    finite = replicates[np.isfinite(replicates)]
    if finite.size == 0:
        return None
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(finite, [tail, 100.0 - tail])
    return float(low), float(high)
