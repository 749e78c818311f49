"""Study planning: how many participants a study needs to detect a given win rate, and whether it got them.

The sample size is statsmodels' normal-approximation power for one proportion against one half
(Cohen's effect size h = 2 asin(sqrt(p)) - 2 asin(sqrt(0.5)), a two-sided test), in
*independent* judgments. Participants judge several pairs, and one participant's judgments
resemble each other, so each participant is worth fewer than their count: the design effect
``1 + (m - 1) * icc`` (Kish) for ``m`` judgments of a pair per participant and an intra-
participant correlation ``icc`` inflates the judgments needed, and dividing by ``m`` gives the
participants. After the study, the observed design effect (from the clustered interval, see
:mod:`studies.analysis.clustered`) replaces the assumed one to say whether the study reached
its target and with what power.
"""

from __future__ import annotations

import math
import warnings

from scipy.stats import norm
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize
from statsmodels.tools.sm_exceptions import ConvergenceWarning

DEFAULTS = {"win_rate": 0.6, "icc": 0.1, "alpha": 0.05, "power": 0.8}
LIMITS = {"win_rate": (0.501, 0.999), "icc": (0.0, 1.0), "alpha": (0.0001, 0.5), "power": (0.5, 0.999)}


def planning_options_clean(raw: dict) -> dict:
    """The four planning options as floats within :data:`LIMITS`; raises ValueError naming the field."""
    out = {}
    for name, default in DEFAULTS.items():
        value = raw.get(name)
        if value in (None, ""):
            out[name] = default
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name}: must be a number") from None
        low, high = LIMITS[name]
        if not (low <= number <= high) or math.isnan(number):
            raise ValueError(f"{name}: must be between {low} and {high}")
        out[name] = number
    return out


def judgments_for(*, win_rate: float, alpha: float, power: float) -> float:
    """Independent decisive judgments for a two-sided test of ``win_rate`` against one half at ``power``."""
    effect = abs(float(proportion_effectsize(win_rate, 0.5)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)  # the failed search's sqrt of a negative n, answered below
        solved = float(NormalIndPower().solve_power(effect_size=effect, alpha=alpha, power=power, ratio=0))
    if math.isfinite(solved):
        return solved
    # statsmodels' root finder starts at a few judgments and gives up (nan) when an effect is so large that fewer
    # suffice; the closed form it refines is exact to well under one judgment there
    return ((norm.ppf(1 - alpha / 2) + norm.ppf(power)) / effect) ** 2


def power_at(*, win_rate: float, alpha: float, effective_n: float) -> float | None:
    """Power of the two-sided test at ``effective_n`` independent judgments; None without judgments."""
    if not effective_n or effective_n <= 0:
        return None
    effect = abs(float(proportion_effectsize(win_rate, 0.5)))
    return float(NormalIndPower().power(effect_size=effect, nobs1=effective_n, alpha=alpha, ratio=0))


def study_plan(
    *,
    pairs_per_participant: int,
    n_systems: int,
    win_rate: float = DEFAULTS["win_rate"],
    icc: float = DEFAULTS["icc"],
    alpha: float = DEFAULTS["alpha"],
    power: float = DEFAULTS["power"],
) -> dict:
    """Participants needed so that *each* system pair's primary comparison reaches ``power``.

    A participant's ``pairs_per_participant`` judgments spread over the ``n_systems * (n_systems
    - 1) / 2`` pairs, so ``m`` (their judgments of one pair) is the quotient, at least 1.
    Returns ``{"win_rate", "icc", "alpha", "power", "judgments_per_pair_per_participant",
    "design_effect", "independent_judgments", "judgments", "participants"}`` (the last three per
    pair; ``participants`` rounded up).
    """
    n_pairs = max(1, n_systems * (n_systems - 1) // 2)
    m = max(1.0, pairs_per_participant / n_pairs)
    design_effect = 1.0 + (m - 1.0) * icc
    independent = judgments_for(win_rate=win_rate, alpha=alpha, power=power)
    judgments = independent * design_effect
    return {
        "win_rate": win_rate,
        "icc": icc,
        "alpha": alpha,
        "power": power,
        "system_pairs": n_pairs,
        "judgments_per_pair_per_participant": m,
        "design_effect": design_effect,
        "independent_judgments": math.ceil(independent),
        "judgments": math.ceil(judgments),
        "participants": math.ceil(judgments / m),
    }


def plan_reached(plan: dict, comparisons: list[dict], *, criterion: str | None) -> dict:
    """Whether each pair of the primary ``criterion`` reached the plan: ``{"reached", "pairs": [...]}``.

    Per pair: participants and decisive judgments observed, the observed design effect, the power
    to detect the planned win rate at the observed effective number of judgments, and
    ``reached`` (power at least the planned one). ``reached`` overall needs every pair.
    """
    pairs = []
    for record in comparisons:
        if record["criterion"] != criterion:
            continue
        decisive = record["wins_a"] + record["wins_b"]
        effective = record.get("effective_n")
        if effective is None:
            effective = decisive / max(plan["design_effect"], 1.0)
        achieved = power_at(win_rate=plan["win_rate"], alpha=plan["alpha"], effective_n=effective)
        pairs.append(
            {
                "system_a": record["system_a"],
                "system_b": record["system_b"],
                "participants": record.get("participants") or 0,
                "judgments": decisive,
                "design_effect": record.get("design_effect"),
                "power": achieved,
                "reached": bool(achieved is not None and achieved >= plan["power"]),
            }
        )
    return {"reached": bool(pairs) and all(p["reached"] for p in pairs), "pairs": pairs}
