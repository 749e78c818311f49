"""Results by participant group (survey answers such as country, culture, gender, age band).

For each attribute, the judgments are split by the participant's answer and the comparisons are
recomputed per group. Whether the groups differ is tested per criterion and pair on the decisive
judgments: Fisher's exact test for two groups (2 × 2 table), the chi-square test of
independence otherwise. A missing answer forms its own group, ``MISSING``, so that the
counts still add up to the whole study.
"""

from __future__ import annotations

import pandas as pd
from scipy.stats import chi2_contingency, fisher_exact

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
) -> dict:
    """``{attribute: {"groups": {label: {"participants", "comparisons"}}, "differences": [...]}}``.

    ``differences`` holds one record per (criterion, pair) with ``{"criterion", "system_a",
    "system_b", "test", "p_value", "groups"}``; ``p_value`` is None when fewer than two groups
    have decisive judgments on that pair.
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
        result[attribute] = {"groups": groups, "differences": _differences(labelled)}
    return result


def _differences(labelled: pd.DataFrame) -> list[dict]:
    decisive = labelled[labelled["decisive"]]
    records = []
    for (criterion, system_a, system_b), pair in decisive.groupby(
        ["criterion", "system_a", "system_b"], sort=True
    ):
        table = pd.crosstab(pair["group"], pair["choice"]).reindex(columns=["a", "b"], fill_value=0)
        table = table[table.sum(axis=1) > 0]
        record = {
            "criterion": criterion,
            "system_a": system_a,
            "system_b": system_b,
            "test": None,
            "p_value": None,
        }
        record["groups"] = int(len(table))
        if len(table) == 2:
            record["test"] = "fisher_exact"
            record["p_value"] = float(fisher_exact(table.to_numpy()).pvalue)
        elif len(table) > 2:
            record["test"] = "chi2_independence"
            if (table.sum(axis=0) > 0).all():
                record["p_value"] = float(chi2_contingency(table.to_numpy()).pvalue)
            else:
                # Every group chose the same system: no difference between groups to find.
                record["p_value"] = 1.0
        records.append(record)
    return records
