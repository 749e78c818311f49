"""Does agreement differ between annotator groups? A bootstrap interval of the difference in alpha.

Both groups labelled (some of) the same items, so their alphas are not independent: the items
are resampled once per replicate and the *same* draw weighs both groups' units (all units of a
drawn item come with it, as in :mod:`annotations.agreement.bootstrap`). The percentile interval
of ``alpha(second) - alpha(first)`` answers the question of a culture re-annotation ("do US and
Indian annotators agree with each other equally well?"); it excludes zero when they do not.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy import sparse

from annotations.agreement.bootstrap import percentile_interval
from annotations.agreement.matrix import Ratings
from annotations.agreement.reliability import alpha_terms, alpha_weighted

_BLOCK_CELLS = 4_000_000


def _group_terms(ratings: Ratings, members: np.ndarray, level: str, n_items: int):
    sub = ratings.only_annotators(members)
    terms = alpha_terms(sub, level)
    if terms.n_units == 0:
        return None
    # map the group's pairable units back to the dimension's items, shared by every group
    units = sub.pairable().units
    item = ratings.cluster[ratings.units.get_indexer(units)]
    item_patterns = sparse.csr_matrix(
        (np.ones(terms.n_units), (item, terms.unit_pattern)), shape=(n_items, terms.sizes.size)
    )
    return terms, item_patterns


def alpha_difference(
    ratings: Ratings,
    groups: pd.Series,
    *,
    level: str,
    n_bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> list[dict]:
    """One record per pair of groups (in sorted order): ``{"first", "second", "alpha_first",
    "alpha_second", "difference", "ci", "excludes_zero"}``.

    ``groups`` maps each annotator (``ratings.annotators``) to a group label. A group whose
    members share no item labelled twice has no alpha and is left out. ``ci`` is None without
    bootstrap replicates or when no replicate is defined for both groups.
    """
    n_items = int(ratings.cluster.max()) + 1 if len(ratings.units) else 0
    labels = groups.reindex(ratings.annotators).to_numpy()
    per_group = {}
    for label in sorted(pd.unique(labels), key=str):
        members = np.flatnonzero(labels == label)
        built = _group_terms(ratings, members, level, n_items) if n_items else None
        if built is not None:
            per_group[str(label)] = built
    records = []
    for first, second in itertools.combinations(sorted(per_group), 2):
        points = [
            alpha_weighted(per_group[name][0], per_group[name][1].sum(axis=0).A)[0] for name in (first, second)
        ]
        replicates = _replicates(per_group[first], per_group[second], n_items, n_bootstrap, seed)
        interval = percentile_interval(replicates, confidence) if n_bootstrap > 0 else None
        defined = all(np.isfinite(points))
        records.append(
            {
                "first": first,
                "second": second,
                "alpha_first": float(points[0]) if np.isfinite(points[0]) else None,
                "alpha_second": float(points[1]) if np.isfinite(points[1]) else None,
                "difference": float(points[1] - points[0]) if defined else None,
                "ci": list(interval) if interval else None,
                "excludes_zero": bool(interval and (interval[0] > 0 or interval[1] < 0)),
            }
        )
    return records


def _replicates(first, second, n_items: int, n_bootstrap: int, seed: int) -> np.ndarray:
    if n_bootstrap <= 0:
        return np.empty(0)
    rng = np.random.default_rng(seed)
    block = max(1, min(n_bootstrap, _BLOCK_CELLS // n_items))
    out = np.empty(n_bootstrap)
    for start in range(0, n_bootstrap, block):
        size = min(block, n_bootstrap - start)
        draws = rng.integers(0, n_items, size=(size, n_items))
        keys = (draws + (np.arange(size) * n_items)[:, None]).ravel()
        item_weights = np.bincount(keys, minlength=size * n_items).reshape(size, n_items).astype(np.float64)
        alphas = [
            alpha_weighted(terms, np.asarray((item_patterns.T @ item_weights.T).T))
            for terms, item_patterns in (first, second)
        ]
        out[start : start + size] = alphas[1] - alphas[0]
    return out
