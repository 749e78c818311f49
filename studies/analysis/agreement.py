"""Agreement between participants who judged the same pair, and time per judgment.

An *item* is one (criterion, prompt, system pair): participants who judged it answered the same
question about the same two responses. Agreement is measured on the three outcomes a / b / tie:

* ``mean_pairwise_agreement``: over items with two or more judgments, the share of pairs of
  participants who gave the same answer, averaged over items (Fleiss' P-bar).
* ``krippendorff_alpha``: nominal alpha over the same items (krippendorff package, from the
  item × outcome count matrix), which corrects that share for chance.
* ``majority_share`` per item: the share of the item's judgments that back its most chosen
  outcome; the export uses it as the weight of a preference pair.
"""

from __future__ import annotations

import krippendorff
import numpy as np
import pandas as pd

from studies.analysis.frame import CHOICES

ITEM_KEYS = ["criterion", "prompt", "system_a", "system_b"]


def item_outcomes(canonical: pd.DataFrame) -> pd.DataFrame:
    """One row per item: its keys, counts ``a``/``b``/``tie``, ``n``, ``majority`` and ``majority_share``.

    ``majority`` is "a", "b" or "tie", and None when the top count is shared by two outcomes.
    """
    if canonical.empty:
        return pd.DataFrame(columns=[*ITEM_KEYS, *CHOICES, "n", "majority", "majority_share"])
    counts = canonical.groupby(ITEM_KEYS)["choice"].value_counts().unstack("choice", fill_value=0)
    counts = counts.reindex(columns=list(CHOICES), fill_value=0)
    values = counts.to_numpy()
    n = values.sum(axis=1)
    top = values.max(axis=1)
    unique_top = (values == top[:, None]).sum(axis=1) == 1
    out = counts.reset_index()
    out.columns.name = None
    out["n"] = n
    majority = [CHOICES[i] if ok else None for i, ok in zip(values.argmax(axis=1), unique_top, strict=True)]
    # object dtype keeps None as None (pandas would otherwise turn it into NaN in a string column)
    out["majority"] = pd.Series(majority, index=out.index, dtype=object)
    out["majority_share"] = top / n
    return out


def agreement_summary(canonical: pd.DataFrame) -> dict:
    """Per criterion: ``{"items", "items_with_overlap", "mean_pairwise_agreement", "krippendorff_alpha"}``.

    Values are None when fewer than two items have two or more judgments, or when every
    judgment gives the same outcome (alpha is then undefined).
    """
    items = item_outcomes(canonical)
    summary = {}
    for criterion, group in items.groupby("criterion", sort=True):
        overlap = group[group["n"] >= 2]
        counts = overlap[list(CHOICES)].to_numpy(dtype=float)
        pairs_total = overlap["n"] * (overlap["n"] - 1)
        agreeing = (counts * (counts - 1)).sum(axis=1)
        summary[str(criterion)] = {
            "items": int(len(group)),
            "items_with_overlap": int(len(overlap)),
            "mean_pairwise_agreement": float((agreeing / pairs_total).mean()) if len(overlap) else None,
            "krippendorff_alpha": nominal_alpha_from_counts(counts),
        }
    return summary


def nominal_alpha_from_counts(counts: np.ndarray) -> float | None:
    """Krippendorff's nominal alpha from a units × values matrix of how many coders chose each value.

    None with fewer than two units or when only one value was ever used (alpha is 0/0 then).
    """
    counts = np.asarray(counts, dtype=float)
    if len(counts) < 2 or (counts.sum(axis=0) > 0).sum() < 2:
        return None
    value = float(krippendorff.alpha(value_counts=counts, level_of_measurement="nominal"))
    return None if np.isnan(value) else value


def timing_summary(canonical: pd.DataFrame, *, fast_seconds: float = 3.0) -> dict:
    """Seconds per judgment: overall and per criterion ``{"n", "median", "mean", "q1", "q3", "fast"}``.

    ``fast`` counts judgments quicker than ``fast_seconds``, too quick to have read two responses.
    Judgments without a recorded time are left out.
    """
    timed = canonical.dropna(subset=["seconds"])
    result = _seconds_stats(timed["seconds"], fast_seconds)
    result["by_criterion"] = {
        str(c): _seconds_stats(g["seconds"], fast_seconds) for c, g in timed.groupby("criterion", sort=True)
    }
    per_participant = timed.groupby("participant")["seconds"].median()
    result["participant_median"] = _seconds_stats(per_participant, fast_seconds)
    return result


def _seconds_stats(seconds: pd.Series, fast_seconds: float) -> dict:
    if seconds.empty:
        return {"n": 0, "median": None, "mean": None, "q1": None, "q3": None, "fast": 0}
    return {
        "n": int(len(seconds)),
        "median": float(seconds.median()),
        "mean": float(seconds.mean()),
        "q1": float(seconds.quantile(0.25)),
        "q3": float(seconds.quantile(0.75)),
        "fast": int((seconds < fast_seconds).sum()),
    }
