"""Proportions with intervals and exact tests, thin wrappers over statsmodels and scipy.

The wrappers exist to fix the conventions in one place: 95% by default, ``None`` where a
quantity is undefined (no observations) rather than NaN, and plain floats that serialise to
JSON.
"""

from __future__ import annotations

from scipy.stats import binomtest
from statsmodels.stats.proportion import proportion_confint


def wilson_interval(successes: float, trials: float, *, confidence: float = 0.95) -> list[float] | None:
    """Wilson score interval ``[low, high]`` for ``successes / trials``; None when ``trials`` is 0.

    ``successes`` may be fractional (ties counted as half a win); the Wilson formula is defined
    for any count between 0 and ``trials``.
    """
    if trials <= 0:
        return None
    low, high = proportion_confint(successes, trials, alpha=1 - confidence, method="wilson")
    return [float(low), float(high)]


def binomial_p_value(successes: int, trials: int, *, p: float = 0.5) -> float | None:
    """Two-sided exact binomial test of ``successes`` out of ``trials`` against ``p``; None if no trials."""
    if trials <= 0:
        return None
    return float(binomtest(int(successes), int(trials), p=p, alternative="two-sided").pvalue)


def share(part: float, whole: float) -> float | None:
    """``part / whole`` as a float, None when ``whole`` is 0."""
    return float(part) / float(whole) if whole else None
