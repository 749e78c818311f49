"""Bradley–Terry strengths (choix) with participant-bootstrap intervals.

Model: P(i beats j) = exp(s_i) / (exp(s_i) + exp(s_j)). Strengths ``s`` are on the log scale
and centred to mean zero, as choix returns them, so only differences carry meaning.

* Ties are left out: the Bradley–Terry model has no tie outcome, and counting a tie as half a
  win each way would only pull strengths towards each other by an amount set by the tie rate.
* Fitting uses choix's I-LSR on the dense win-count matrix (the maximum-likelihood estimate,
  fast enough for a thousand bootstrap refits) with a small regularisation ``alpha`` so that a
  system that wins (or loses) every comparison gets a large but finite strength, and a
  bootstrap resample whose comparison graph falls apart still fits.
* Intervals are percentile bootstrap intervals where the resampled unit is the participant,
  because one person's judgments are not independent of each other; with a single participant
  the judgments themselves are resampled.
"""

from __future__ import annotations

import choix
import numpy as np
import pandas as pd

from studies.analysis.frame import systems_of

DEFAULT_ALPHA = 0.01


def _win_matrices(decisive: pd.DataFrame, index: dict[str, int]) -> np.ndarray:
    """Per-participant win counts, indexed ``[participant, winner, loser]``."""
    a = decisive["system_a"].map(index).to_numpy()
    b = decisive["system_b"].map(index).to_numpy()
    a_won = (decisive["choice"] == "a").to_numpy()
    winners, losers = np.where(a_won, a, b), np.where(a_won, b, a)
    units, unit_of_row = np.unique(decisive["participant"].astype(str).to_numpy(), return_inverse=True)
    matrices = np.zeros((len(units), len(index), len(index)))
    np.add.at(matrices, (unit_of_row, winners, losers), 1.0)
    return matrices


def bt_fit(wins: np.ndarray, *, alpha: float = DEFAULT_ALPHA) -> np.ndarray:
    """Mean-zero log-strengths from a square matrix where ``wins[i, j]`` counts i beating j."""
    params = choix.ilsr_pairwise_dense(np.asarray(wins, dtype=float), alpha=alpha)
    return params - params.mean()


def bradley_terry(
    canonical: pd.DataFrame,
    *,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    alpha: float = DEFAULT_ALPHA,
    seed: int = 0,
    systems: list[str] | None = None,
) -> dict:
    """Fits strengths on one criterion's canonical judgments.

    Returns ``{"systems": {name: {"strength", "ci", "wins", "losses"}}, "win_probability":
    {name: {other: P(name beats other)}}, "n_judgments", "n_bootstrap"}``; ``ci`` is None when
    ``n_bootstrap`` is 0. Needs at least two systems and one decisive judgment, otherwise the
    ``systems`` dict is empty.
    """
    names = systems or systems_of(canonical)
    decisive = canonical[canonical["choice"] != "tie"]
    result: dict = {"systems": {}, "win_probability": {}, "n_judgments": int(len(decisive)), "n_bootstrap": 0}
    if len(names) < 2 or decisive.empty:
        return result
    index = {name: i for i, name in enumerate(names)}
    matrices = _win_matrices(decisive, index)
    wins = matrices.sum(axis=0)
    strengths = bt_fit(wins, alpha=alpha)
    intervals = _bootstrap_intervals(decisive, index, matrices, n_bootstrap, confidence, alpha, seed)
    result["n_bootstrap"] = int(n_bootstrap)
    for name, i in index.items():
        result["systems"][name] = {
            "strength": float(strengths[i]),
            "ci": None if intervals is None else [float(intervals[0][i]), float(intervals[1][i])],
            "wins": int(wins[i].sum()),
            "losses": int(wins[:, i].sum()),
        }
        result["win_probability"][name] = {
            other: float(choix.probabilities([i, j], strengths)[0]) for other, j in index.items() if j != i
        }
    return result


def _bootstrap_intervals(
    decisive: pd.DataFrame,
    index: dict[str, int],
    matrices: np.ndarray,
    n_bootstrap: int,
    confidence: float,
    alpha: float,
    seed: int,
) -> tuple[np.ndarray, np.ndarray] | None:
    if n_bootstrap <= 0:
        return None
    if len(matrices) < 2:
        # One participant: resample the judgments themselves, one unit per judgment.
        only = decisive.assign(participant=np.arange(len(decisive)))
        matrices = _win_matrices(only, index)
    rng = np.random.default_rng(seed)
    n_units = len(matrices)
    draws = np.empty((n_bootstrap, len(index)))
    for b in range(n_bootstrap):
        weights = np.bincount(rng.integers(0, n_units, size=n_units), minlength=n_units)
        draws[b] = bt_fit(np.tensordot(weights, matrices, axes=1), alpha=alpha)
    tail = (1 - confidence) / 2 * 100
    return np.percentile(draws, tail, axis=0), np.percentile(draws, 100 - tail, axis=0)
