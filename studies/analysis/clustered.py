"""The participant as the unit: clustered win-rate intervals, group tests and multiplicity.

Participants judge several pairs, and one participant's judgments are not independent of each
other: a single enthusiastic participant judging sixty pairs moves a judgment-level test as much
as sixty people would. Three tools here keep the participant as the unit:

* :func:`clustered_share`: a win share with the cluster-robust (ratio-estimator, "sandwich")
  variance over participants, the Kish design effect it implies, and a Wilson interval at the
  effective number of judgments ``n / design_effect``. With one judgment per participant it is
  the ordinary Wilson interval.
* :func:`group_difference`: whether participant groups differ on one pair and criterion. The
  p-value is a permutation test that shuffles the group labels over *participants* (each keeps
  all of their judgments), so it never counts one person twice; its statistic is the pooled
  chi-square of groups × choice. The effect size is the difference of win rates between the
  groups, with a participant-cluster bootstrap interval (participants resampled within groups).
* :func:`p_values_adjust`: Holm (default) or Benjamini–Hochberg across all tests of a report.

Plain numpy/scipy/statsmodels; no Django.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from studies.analysis.intervals import wilson_interval

CORRECTIONS = {"holm": "holm", "bh": "fdr_bh"}
DEFAULT_CORRECTION = "holm"
PERMUTATIONS = 9999


def participant_wins(decisive: pd.DataFrame) -> pd.DataFrame:
    """Per participant of an already canonical, decisive-only frame: ``wins`` (of ``system_a``) and ``decisive``."""
    won = (decisive["choice"] == "a").astype(int)
    per = won.groupby(decisive["participant"]).agg(["sum", "count"])
    return per.rename(columns={"sum": "wins", "count": "decisive"})


def clustered_share(wins, trials, *, confidence: float = 0.95) -> dict:
    """Pooled share ``sum(wins) / sum(trials)`` over clusters (participants), with clustered uncertainty.

    Returns ``{"ci", "design_effect", "effective_n", "clusters"}``. The variance is
    ``sum_i (w_i - t_i p)^2 / (sum t)^2`` over the clusters (the GEE robust variance, delta
    method); the design effect divides it by the binomial ``p (1 - p) / n``, so it is exactly 1
    when every participant judged once (no ``G / (G - 1)`` factor: Wilson's interval already
    handles small samples). The interval is Wilson's at ``n / max(design_effect, 1)`` judgments, so it
    is never narrower than the judgment-level one. ``ci`` is None with fewer than two clusters
    (a single participant says nothing about participants). When every judgment went one way
    the binomial variance is zero and the design effect is taken as the number of judgments per
    participant (each participant is then one observation).
    """
    wins = np.asarray(wins, dtype=float)
    trials = np.asarray(trials, dtype=float)
    keep = trials > 0
    wins, trials = wins[keep], trials[keep]
    clusters = int(len(trials))
    total = float(trials.sum())
    if clusters < 2 or total <= 0:
        return {"ci": None, "design_effect": None, "effective_n": None, "clusters": clusters}
    p = float(wins.sum()) / total
    var_cluster = float(((wins - trials * p) ** 2).sum()) / total**2
    var_binomial = p * (1 - p) / total
    design_effect = var_cluster / var_binomial if var_binomial > 0 else total / clusters
    effective_n = total / max(design_effect, 1.0)
    return {
        "ci": wilson_interval(p * effective_n, effective_n, confidence=confidence),
        "design_effect": float(design_effect),
        "effective_n": float(effective_n),
        "clusters": clusters,
    }


def _chi2_statistic(wins_by_group: np.ndarray, trials_by_group: np.ndarray) -> np.ndarray:
    # Pearson chi-square of the groups x (win, loss) table; last axis is the group.
    total_trials = trials_by_group.sum(axis=-1, keepdims=True)
    p = wins_by_group.sum(axis=-1, keepdims=True) / total_trials
    expected = trials_by_group * p
    spread = p * (1 - p)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = (wins_by_group - expected) ** 2 / (trials_by_group * spread)
    return np.nan_to_num(terms, nan=0.0, posinf=0.0).sum(axis=-1)


def _permutation_p_value(per: pd.DataFrame, labels: list[str], *, seed: int) -> float:
    """Share of relabellings of participants whose chi-square is at least the observed one.

    Exact (every split enumerated) for two groups when there are at most :data:`PERMUTATIONS`
    splits, as for Fisher's tea-tasting table; otherwise Monte Carlo with the observed
    labelling counted in, ``(1 + hits) / (1 + PERMUTATIONS)``.
    """
    wins = per["wins"].to_numpy(dtype=float)
    trials = per["decisive"].to_numpy(dtype=float)
    codes = np.searchsorted(np.array(labels, dtype=object), per["group"].to_numpy(dtype=object))
    sizes = np.bincount(codes, minlength=len(labels))
    k = len(labels)

    def statistic(assignments: np.ndarray) -> np.ndarray:
        # assignments: (draws, participants) group codes; one bincount per draw, flattened
        draws = assignments.shape[0]
        flat = (assignments + k * np.arange(draws)[:, None]).ravel()
        w = np.bincount(flat, weights=np.tile(wins, draws), minlength=draws * k).reshape(draws, k)
        t = np.bincount(flat, weights=np.tile(trials, draws), minlength=draws * k).reshape(draws, k)
        return _chi2_statistic(w, t)

    observed = statistic(codes[None, :])[0]
    tolerance = 1e-9 * max(1.0, abs(observed))
    n = len(codes)
    if len(labels) == 2 and math.comb(n, int(sizes[0])) <= PERMUTATIONS:
        splits = np.ones((math.comb(n, int(sizes[0])), n), dtype=int)
        for row, first in enumerate(itertools.combinations(range(n), int(sizes[0]))):
            splits[row, list(first)] = 0
        return float(np.mean(statistic(splits) >= observed - tolerance))
    rng = np.random.default_rng(seed)
    hits = 0
    for start in range(0, PERMUTATIONS, 1000):
        draws = min(1000, PERMUTATIONS - start)
        shuffled = np.argsort(rng.random((draws, n)), axis=1)
        hits += int(np.sum(statistic(codes[shuffled]) >= observed - tolerance))
    return (1 + hits) / (1 + PERMUTATIONS)


def _bootstrap_difference(
    per: pd.DataFrame, low: str, high: str, *, n_bootstrap: int, seed: int, confidence: float
) -> list[float] | None:
    if n_bootstrap <= 0:
        return None
    rng = np.random.default_rng(seed)
    rates = []
    for label in (low, high):
        group = per[per["group"] == label]
        wins, trials = group["wins"].to_numpy(float), group["decisive"].to_numpy(float)
        draw = rng.integers(0, len(group), size=(n_bootstrap, len(group)))
        rates.append(wins[draw].sum(axis=1) / trials[draw].sum(axis=1))
    tail = (1 - confidence) / 2 * 100
    low_q, high_q = np.percentile(rates[1] - rates[0], [tail, 100 - tail])
    return [float(low_q), float(high_q)]


def group_difference(
    per: pd.DataFrame, *, n_bootstrap: int = 1000, seed: int = 0, confidence: float = 0.95
) -> dict:
    """Participant-level comparison of groups on one pair and criterion.

    ``per`` has one row per participant with ``group``, ``wins`` and ``decisive`` (decisive > 0).
    Returns ``{"participants", "p_value", "test", "groups": {label: {"win_rate", "ci",
    "participants", "judgments"}}, "effect": {"from", "to", "difference", "ci"} | None}``;
    ``effect`` is the win rate of the highest group minus the lowest's (two groups: simply the
    difference), with a participant-cluster bootstrap interval. ``p_value`` is None with fewer
    than two groups.
    """
    per = per[per["decisive"] > 0]
    labels = sorted(per["group"].unique(), key=str)
    groups = {}
    for label in labels:
        group = per[per["group"] == label]
        wins, trials = group["wins"].sum(), group["decisive"].sum()
        groups[str(label)] = {
            "win_rate": float(wins / trials),
            "ci": clustered_share(group["wins"], group["decisive"], confidence=confidence)["ci"]
            or wilson_interval(wins, trials, confidence=confidence),
            "participants": int(len(group)),
            "judgments": int(trials),
        }
    record = {
        "participants": int(len(per)),
        "test": "participant_permutation_chi2",
        "p_value": None,
        "groups": groups,
        "effect": None,
    }
    if len(labels) < 2:
        return record
    record["p_value"] = _permutation_p_value(per, labels, seed=seed)
    ordered = sorted(labels, key=lambda label: (groups[str(label)]["win_rate"], str(label)))
    low, high = ordered[0], ordered[-1]
    record["effect"] = {
        "from": str(low),
        "to": str(high),
        "difference": groups[str(high)]["win_rate"] - groups[str(low)]["win_rate"],
        "ci": _bootstrap_difference(per, low, high, n_bootstrap=n_bootstrap, seed=seed, confidence=confidence),
    }
    return record


def p_values_adjust(p_values: list[float], *, correction: str = DEFAULT_CORRECTION) -> list[float]:
    """Adjusted p-values, in the input order: ``"holm"`` (family-wise) or ``"bh"`` (false discovery rate)."""
    if correction not in CORRECTIONS:
        raise ValueError(f"correction must be one of {sorted(CORRECTIONS)}, not {correction!r}")
    if not p_values:
        return []
    return [float(p) for p in multipletests(p_values, method=CORRECTIONS[correction])[1]]
