"""Results by participant group (survey answers such as country, culture, gender, age band).

For each attribute, the judgments are split by the participant's answer and the comparisons are
recomputed per group. Whether the groups differ is tested per criterion and pair with the
participant as the unit (:func:`studies.analysis.clustered.group_difference`: a permutation test
over participants, and the difference of win rates with a participant-cluster bootstrap
interval); the p-values are then corrected across attributes × criteria × pairs (Holm by
default). The judgment-level test (Fisher's exact test for two groups, the chi-square test of
independence otherwise) is kept beside it as ``judgment_level_p_value``, because reviewers ask
how far apart the two are. A missing answer forms its own group, ``MISSING``, so that the
counts still add up to the whole study.
"""

from __future__ import annotations

import pandas as pd
from scipy.stats import chi2_contingency, fisher_exact

from studies.analysis.clustered import DEFAULT_CORRECTION, group_difference, p_values_adjust, participant_wins
from studies.analysis.pairwise import comparisons_table

MISSING = "(not answered)"


def attribute_columns(participants: pd.DataFrame) -> list[str]:
    """Every column of the participants frame except ``participant``."""
    return [c for c in participants.columns if c != "participant"]


def _group_label(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value == "":
        return MISSING
    if isinstance(value, list | tuple | set):
        return ", ".join(sorted(map(str, value))) or MISSING
    return str(value)


def results_by_group(
    canonical: pd.DataFrame,
    participants: pd.DataFrame,
    *,
    attributes: list[str] | None = None,
    criteria: list[str] | None = None,
    correction: str = DEFAULT_CORRECTION,
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> dict:
    """``{attribute: {"groups": {label: {"participants", "comparisons"}}, "differences": [...]}}``.

    ``differences`` holds one record per (criterion, pair) with ``{"criterion", "system_a",
    "system_b", "groups", "test", "p_value", "p_value_adjusted", "correction", "effect",
    "by_group", "judgment_level_test", "judgment_level_p_value"}``: ``p_value`` is the
    participant-level one, ``p_value_adjusted`` corrects it across every record of every
    attribute, ``effect`` is ``{"from", "to", "difference", "ci"}`` (win rate of ``system_a``).
    ``p_value`` is None when fewer than two groups have decisive judgments on that pair.
    """
    if participants is None or participants.empty or canonical.empty:
        return {}
    result = {}
    for attribute in attributes or attribute_columns(participants):
        if attribute not in participants.columns:
            continue
        labels = participants.set_index("participant")[attribute].map(_group_label)
        labelled = canonical.assign(group=canonical["participant"].map(labels).fillna(MISSING))
        groups = {}
        for label, subset in labelled.groupby("group", sort=True):
            groups[str(label)] = {
                "participants": int(subset["participant"].nunique()),
                "comparisons": comparisons_table(subset.drop(columns="group"), criteria=criteria),
            }
        result[attribute] = {
            "groups": groups,
            "differences": _differences(labelled, n_bootstrap=n_bootstrap, seed=seed),
        }
    _adjust(result, correction=correction)
    return result


def _adjust(result: dict, *, correction: str) -> None:
    tested = [d for block in result.values() for d in block["differences"] if d["p_value"] is not None]
    for record, adjusted in zip(
        tested, p_values_adjust([d["p_value"] for d in tested], correction=correction), strict=True
    ):
        record["p_value_adjusted"] = adjusted
    for block in result.values():
        for record in block["differences"]:
            record.setdefault("p_value_adjusted", None)
            record["correction"] = correction


def _differences(labelled: pd.DataFrame, *, n_bootstrap: int, seed: int) -> list[dict]:
    decisive = labelled[labelled["decisive"]]
    records = []
    for (criterion, system_a, system_b), pair in decisive.groupby(
        ["criterion", "system_a", "system_b"], sort=True
    ):
        table = pd.crosstab(pair["group"], pair["choice"]).reindex(columns=["a", "b"], fill_value=0)
        table = table[table.sum(axis=1) > 0]
        per = participant_wins(pair)
        per["group"] = pair.groupby("participant")["group"].first()
        unit = group_difference(per.reset_index(), n_bootstrap=n_bootstrap, seed=seed)
        record = {
            "criterion": criterion,
            "system_a": system_a,
            "system_b": system_b,
            "groups": int(len(table)),
            "test": unit["test"] if unit["p_value"] is not None else None,
            "p_value": unit["p_value"],
            "effect": unit["effect"],
            "by_group": unit["groups"],
            "judgment_level_test": None,
            "judgment_level_p_value": None,
        }
        if len(table) == 2:
            record["judgment_level_test"] = "fisher_exact"
            record["judgment_level_p_value"] = float(fisher_exact(table.to_numpy()).pvalue)
        elif len(table) > 2:
            record["judgment_level_test"] = "chi2_independence"
            if (table.sum(axis=0) > 0).all():
                record["judgment_level_p_value"] = float(chi2_contingency(table.to_numpy()).pvalue)
            else:
                # Every group chose the same system: no difference between groups to find.
                record["judgment_level_p_value"] = 1.0
        records.append(record)
    return records
