"""Wins, losses and ties per system pair and criterion, with win rates, intervals and tests.

Two win rates are stated side by side because researchers report both and they differ when
ties are common:

* ``win_rate_a``: wins of ``system_a`` over the decisive judgments (ties left out), with a Wilson
  95% interval ``win_rate_a_ci`` and the two-sided exact binomial (sign) test ``p_value`` of
  ``wins_a`` out of ``wins_a + wins_b`` against one half.
* ``win_rate_a_ties_half``: ``(wins_a + ties / 2) / n`` over all judgments, with its own Wilson
  interval ``win_rate_a_ties_half_ci``.

* ``win_rate_a_ci_clustered``: the interval with the participant as the unit (see
  :func:`studies.analysis.clustered.clustered_share`), beside ``design_effect`` and
  ``effective_n``; it is the one to report when participants judged several pairs, and equals
  the Wilson interval when each judged one.

The pair is always ordered alphabetically (see :func:`judgments_canonical`).
"""

from __future__ import annotations

import pandas as pd

from studies.analysis.clustered import clustered_share, participant_wins
from studies.analysis.frame import criteria_ordered, judgments_canonical
from studies.analysis.intervals import binomial_p_value, share, wilson_interval


def comparison_of_counts(
    *,
    criterion: str,
    system_a: str,
    system_b: str,
    wins_a: int,
    wins_b: int,
    ties: int,
    per_participant: pd.DataFrame | None = None,
) -> dict:
    """The comparison record for one pair and criterion, from its three counts.

    ``per_participant`` (``wins`` and ``decisive`` per participant, as
    :func:`participant_wins` gives) adds the clustered interval; without it the clustered
    fields are None.
    """
    decisive = wins_a + wins_b
    total = decisive + ties
    clustered = (
        clustered_share(per_participant["wins"], per_participant["decisive"])
        if per_participant is not None
        else {"ci": None, "design_effect": None, "effective_n": None, "clusters": None}
    )
    return {
        "criterion": criterion,
        "system_a": system_a,
        "system_b": system_b,
        "wins_a": int(wins_a),
        "wins_b": int(wins_b),
        "ties": int(ties),
        "n": int(total),
        "win_rate_a": share(wins_a, decisive),
        "win_rate_a_ci": wilson_interval(wins_a, decisive),
        "p_value": binomial_p_value(wins_a, decisive),
        "win_rate_a_ties_half": share(wins_a + ties / 2, total),
        "win_rate_a_ties_half_ci": wilson_interval(wins_a + ties / 2, total),
        "tie_rate": share(ties, total),
        "win_rate_a_ci_clustered": clustered["ci"],
        "design_effect": clustered["design_effect"],
        "effective_n": clustered["effective_n"],
        "participants": clustered["clusters"],
    }


def comparisons_table(canonical: pd.DataFrame, *, criteria: list[str] | None = None) -> list[dict]:
    """One comparison record per (criterion, pair) present in an already canonical frame.

    Records come in criterion order (``criteria`` first, see :func:`criteria_ordered`), then by
    pair. A frame without rows gives an empty list.
    """
    if canonical.empty:
        return []
    counts = (
        canonical.groupby(["criterion", "system_a", "system_b", "choice"])
        .size()
        .unstack("choice", fill_value=0)
    )
    decisive = canonical[canonical["decisive"]]
    per_pair = {key: participant_wins(rows) for key, rows in decisive.groupby(["criterion", "system_a", "system_b"])}
    records = []
    order = {criterion: index for index, criterion in enumerate(criteria_ordered(canonical, criteria))}
    for (criterion, system_a, system_b), row in counts.iterrows():
        records.append(
            comparison_of_counts(
                criterion=criterion,
                system_a=system_a,
                system_b=system_b,
                wins_a=int(row.get("a", 0)),
                wins_b=int(row.get("b", 0)),
                ties=int(row.get("tie", 0)),
                per_participant=per_pair.get((criterion, system_a, system_b)),
            )
        )
    records.sort(key=lambda r: (order[r["criterion"]], r["system_a"], r["system_b"]))
    return records


def comparisons(frame: pd.DataFrame, *, criteria: list[str] | None = None) -> list[dict]:
    """Comparison records for a raw judgments frame (any pair order)."""
    return comparisons_table(judgments_canonical(frame), criteria=criteria)
