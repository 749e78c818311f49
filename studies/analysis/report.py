"""The whole study report as one JSON-ready dict: the contract of ``manage.py study_report --json``.

Stable keys (others may be added, never renamed)::

    {"comparisons": [{"criterion", "system_a", "system_b", "wins_a", "wins_b", "ties",
                      "win_rate_a", "win_rate_a_ci", "p_value", ...}],
     "bradley_terry": {SYSTEM: {"strength", "ci", ...}},      # primary criterion
     "position_bias": {"left_share", "p_value", ...}}

Added keys: ``criteria`` (primary first), ``systems``, ``counts``, ``bradley_terry_by_criterion``
(with predicted win probabilities), ``by_group``, ``agreement``, ``timing`` and
``without_one_sided`` (comparisons and strengths recomputed without participants who always
picked the same side).
"""

from __future__ import annotations

import pandas as pd

from studies.analysis.agreement import agreement_summary, timing_summary
from studies.analysis.bradley_terry import DEFAULT_ALPHA, bradley_terry
from studies.analysis.clustered import DEFAULT_CORRECTION
from studies.analysis.frame import criteria_ordered, judgments_canonical, systems_of
from studies.analysis.groups import results_by_group
from studies.analysis.pairwise import comparisons_table
from studies.analysis.position import DEFAULT_MIN_JUDGMENTS_ONE_SIDED, position_bias


def _bt_by_criterion(canonical, criteria, systems, *, n_bootstrap, alpha, seed) -> dict:
    return {
        criterion: bradley_terry(
            canonical[canonical["criterion"] == criterion],
            n_bootstrap=n_bootstrap,
            alpha=alpha,
            seed=seed,
            systems=systems,
        )
        for criterion in criteria
    }


def _bt_primary(by_criterion: dict, criteria: list[str]) -> dict:
    if not criteria:
        return {}
    return by_criterion[criteria[0]]["systems"]


def study_report(
    frame: pd.DataFrame,
    participants: pd.DataFrame | None = None,
    *,
    criteria: list[str] | None = None,
    group_attributes: list[str] | None = None,
    n_bootstrap: int = 1000,
    alpha: float = DEFAULT_ALPHA,
    seed: int = 0,
    min_judgments_one_sided: int = DEFAULT_MIN_JUDGMENTS_ONE_SIDED,
    correction: str = DEFAULT_CORRECTION,
) -> dict:
    """Analyses a judgments frame (see :mod:`studies.analysis.frame`) into the report dict.

    ``criteria`` orders the criteria and names the primary one first (the study spec's order);
    ``group_attributes`` limits the participant attributes reported (default: all columns of
    ``participants``); ``correction`` ("holm" or "bh") adjusts the group tests' p-values across
attributes × criteria × pairs. Deterministic for a given ``seed``.
    """
    canonical = judgments_canonical(frame)
    ordered = criteria_ordered(canonical, criteria)
    systems = systems_of(canonical)
    bt_kwargs = {"n_bootstrap": n_bootstrap, "alpha": alpha, "seed": seed}
    bt_all = _bt_by_criterion(canonical, ordered, systems, **bt_kwargs)
    bias = position_bias(canonical, min_judgments=min_judgments_one_sided)

    one_sided = bias["one_sided_participants"]
    kept = canonical[~canonical["participant"].isin(one_sided)]
    bt_kept = _bt_by_criterion(kept, ordered, systems, **bt_kwargs) if one_sided else bt_all

    return {
        "criteria": ordered,
        "systems": systems,
        "counts": {
            "judgments": int(len(canonical)),
            "participants": int(canonical["participant"].nunique()),
            "prompts": int(canonical["prompt"].nunique()),
            "ties": int((~canonical["decisive"]).sum()),
        },
        "comparisons": comparisons_table(canonical, criteria=ordered),
        "bradley_terry": _bt_primary(bt_all, ordered),
        "bradley_terry_by_criterion": bt_all,
        "position_bias": bias,
        "without_one_sided": {
            "excluded_participants": one_sided,
            "min_judgments": min_judgments_one_sided,
            "comparisons": comparisons_table(kept, criteria=ordered),
            "bradley_terry": _bt_primary(bt_kept, ordered),
            "bradley_terry_by_criterion": bt_kept,
        },
        "by_group": results_by_group(
            canonical,
            participants,
            attributes=group_attributes,
            criteria=ordered,
            correction=correction,
            n_bootstrap=n_bootstrap,
            seed=seed,
        ),
        "group_correction": correction,
        "agreement": agreement_summary(canonical),
        "timing": timing_summary(canonical),
    }
