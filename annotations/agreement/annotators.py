"""Per-annotator quality table (plain pandas).

Input: the long label frame (``item, unit, annotator, dimension, value, seconds``), optionally
with ``expected`` (the gold or attention-check answer for that item and dimension, missing
elsewhere), ``is_gold`` and ``is_attention_check`` columns, and the spec's dimensions.

Columns: annotator, n_labels, n_items, median_seconds (per item), too_fast_share (items
faster than ``too_fast_seconds``), gold_n, gold_accuracy, attention_n, attention_failed,
loo_pearson (mean over numeric dimensions), kappa_with_others (mean over categorical ones),
reliability (Dawid–Skene, mean over categorical dimensions).

A numeric answer matches the expected one when within ``tolerance`` × the scale's span
(exact for categorical dimensions).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from annotations.agreement import dimensions as dims
from annotations.agreement.competence import dawid_skene
from annotations.agreement.correlation import leave_one_out
from annotations.agreement.kappa import cohen_kappa_pairs, kappa_with_others
from annotations.agreement.report import ratings_by_dimension

QUALITY_COLUMNS = [
    "annotator", "n_labels", "n_items", "median_seconds", "too_fast_share", "gold_n", "gold_accuracy",
    "attention_n", "attention_failed", "loo_pearson", "kappa_with_others", "reliability",
]


def default_too_fast_seconds(frame: pd.DataFrame) -> float:
    """A third of the median time per item across all annotators (0 when unknown)."""
    per_item = frame.drop_duplicates(["annotator", "item"])["seconds"].dropna()
    return float(per_item.median() / 3.0) if len(per_item) else 0.0


def _answer_matches(frame: pd.DataFrame, specs: dict[str, dict], tolerance: float) -> pd.Series:
    matches = pd.Series(np.nan, index=frame.index)
    for name, part in frame.groupby("dimension"):
        dimension = specs.get(name)
        if dimension is None or not dims.has_agreement(dimension):
            continue
        given = dims.encode(part["value"], dimension)
        expected = dims.encode(part["expected"], dimension)
        slack = 0.0 if dimension.get("type") == "choice" else tolerance * dims.scale_range(dimension, given)
        ok = np.abs(given - expected) <= slack + 1e-9
        matches.loc[part.index] = np.where(np.isnan(expected), np.nan, ok.astype(float))
    return matches


def annotator_quality(
    frame: pd.DataFrame,
    dimension_specs: list[dict],
    *,
    too_fast_seconds: float | None = None,
    tolerance: float = 0.1,
) -> pd.DataFrame:
    """One row per annotator in ``frame`` with the columns in QUALITY_COLUMNS."""
    if not len(frame):
        return pd.DataFrame(columns=QUALITY_COLUMNS)
    specs = {d["name"]: d for d in dimension_specs}
    threshold = default_too_fast_seconds(frame) if too_fast_seconds is None else too_fast_seconds
    per_item = frame.drop_duplicates(["annotator", "item"])
    table = pd.DataFrame(
        {
            "n_labels": frame.groupby("annotator").size(),
            "n_items": per_item.groupby("annotator").size(),
            "median_seconds": per_item.groupby("annotator")["seconds"].median(),
            "too_fast_share": (per_item["seconds"] < threshold).groupby(per_item["annotator"]).mean(),
        }
    )
    if "expected" in frame.columns:
        matched = frame.assign(match=_answer_matches(frame, specs, tolerance))
        for flag, prefix in (("is_gold", "gold"), ("is_attention_check", "attention")):
            rows = matched[matched[flag].astype(bool)] if flag in matched.columns else matched.iloc[0:0]
            rows = rows.dropna(subset=["match"])
            table[f"{prefix}_n"] = rows.groupby("annotator").size()
            if prefix == "gold":
                table["gold_accuracy"] = rows.groupby("annotator")["match"].mean()
            else:
                table["attention_failed"] = (1.0 - rows["match"]).groupby(rows["annotator"]).sum()
    loo, kappas, reliabilities = [], [], []
    for name, ratings in ratings_by_dimension(frame, dimension_specs).items():
        dimension = specs[name]
        if ratings.n_labels == 0:
            continue
        if dims.is_numeric(dimension):
            loo.append(leave_one_out(ratings).set_index("annotator")["loo_pearson"])
        if dims.is_categorical(dimension):
            weights = None if (dimension.get("level") or "nominal") == "nominal" else "quadratic"
            pairs = cohen_kappa_pairs(ratings, weights=weights, categories=dims.categories(dimension, ratings.value))
            kappas.append(kappa_with_others(pairs))
            model = dawid_skene(ratings)
            if model is not None:
                reliabilities.append(model.reliability)
    for column, series in (("loo_pearson", loo), ("kappa_with_others", kappas), ("reliability", reliabilities)):
        table[column] = pd.concat(series, axis=1).mean(axis=1) if series else np.nan
    table = table.reindex(columns=QUALITY_COLUMNS[1:])
    for column in ("gold_n", "attention_n", "attention_failed"):
        table[column] = table[column].fillna(0).astype(int)
    table.index.name = "annotator"
    return table.reset_index()
