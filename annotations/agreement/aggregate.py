"""Aggregation that keeps disagreement: one row per unit (item, or item turn) and dimension.

``aggregate_table`` computes every summary at once (for the dashboard); ``aggregate_rows``
yields the rows of one method for the label export.

Summaries per unit and dimension: ``n_labels``; ``distribution`` (soft label: {value: share},
keys are the spec's values as text, sorted by scale order); ``majority`` (None when the top
count is tied — ``tied_values`` then lists the candidates); for numeric dimensions ``mean``,
``median`` and ``std`` (sample, None with one label); ``weighted`` — for categorical
dimensions the Dawid–Skene most probable class (``weighted_distribution`` its posterior), for
numeric ones the mean weighted by annotator reliability (leave-one-out correlation clipped to
[0, 1] unless ``weights`` are given); ``disagreement`` in [0, 1]: 1 - majority share for
categorical, std over the scale's span for numeric.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from annotations.agreement import dimensions as dims
from annotations.agreement.competence import dawid_skene
from annotations.agreement.correlation import leave_one_out
from annotations.agreement.matrix import Ratings

METHODS = ("none", "mean", "median", "majority", "distribution", "weighted")


def _coded(frame: pd.DataFrame, dimension: dict) -> pd.DataFrame:
    part = frame[frame["dimension"] == dimension["name"]]
    out = part[["item", "unit", "annotator"]].copy()
    out["turn"] = part["turn"].to_numpy() if "turn" in part.columns else None
    out["code"] = dims.encode(part["value"], dimension)
    return out.dropna(subset=["code"])


def _annotator_weights(coded: pd.DataFrame, dimension: dict, given: dict | None) -> pd.Series:
    """Per annotator weight for the numeric weighted mean."""
    if given is not None:
        per_dimension = given.get(dimension["name"], given)
        return pd.Series(per_dimension, dtype=np.float64)
    loo = leave_one_out(Ratings.from_frame(coded, value="code"))
    return loo.set_index("annotator")["loo_pearson"].clip(lower=0.0, upper=1.0).fillna(0.0)


def _dimension_table(coded: pd.DataFrame, dimension: dict, weights: dict | None) -> pd.DataFrame:
    keys = ["unit"]
    grouped = coded.groupby(keys, sort=True)
    table = grouped.agg(item=("item", "first"), turn=("turn", "first"), n_labels=("code", "size"))
    counts = coded.groupby(keys + ["code"]).size().rename("count").reset_index()
    top = counts.groupby("unit")["count"].transform("max")
    winners = counts[counts["count"] == top]
    tied = winners.groupby("unit")["code"].agg(list)
    table["tied_values"] = tied.map(lambda codes: [dims.decode(c, dimension) for c in codes] if len(codes) > 1 else [])
    # object columns throughout: a float column would turn a choice's 1 (or a likert 3) into 1.0
    table["majority"] = _objects(
        {unit: dims.decode(codes[0], dimension) if len(codes) == 1 else None for unit, codes in tied.items()},
        table.index,
    )
    table["majority_share"] = winners.groupby("unit")["count"].first() / table["n_labels"]
    shares = counts.assign(share=counts["count"] / counts.groupby("unit")["count"].transform("sum"))
    table["distribution"] = shares.groupby("unit").apply(
        lambda g: {str(dims.decode(c, dimension)): float(s) for c, s in zip(g["code"], g["share"], strict=True)},
        include_groups=False,
    )
    numeric = dims.is_numeric(dimension)
    if numeric:
        table["mean"] = grouped["code"].mean()
        table["median"] = grouped["code"].median()
        table["std"] = grouped["code"].std(ddof=1)
        span = dims.scale_range(dimension, coded["code"].to_numpy())
        table["disagreement"] = (table["std"].fillna(0.0) / span) if span > 0 else 0.0
        w = _annotator_weights(coded, dimension, weights).reindex(coded["annotator"]).to_numpy()
        w = np.nan_to_num(w, nan=0.0)
        weighted_sum = pd.Series(w * coded["code"].to_numpy()).groupby(coded["unit"].to_numpy()).sum()
        weight_total = pd.Series(w).groupby(coded["unit"].to_numpy()).sum()
        # a unit whose annotators all have zero weight falls back to the plain mean
        weighted = (weighted_sum / weight_total.replace(0.0, np.nan)).fillna(table["mean"])
        table["weighted"] = _objects({unit: float(value) for unit, value in weighted.items()}, table.index)
        table["weighted_distribution"] = None
    else:
        for column in ("mean", "median", "std"):
            table[column] = None
        table["disagreement"] = 1.0 - table["majority_share"]
        model = dawid_skene(Ratings.from_frame(coded, value="code"))
        posterior = pd.DataFrame(model.posterior, index=model.units, columns=model.classes)
        table["weighted"] = _objects(
            {unit: dims.decode(code, dimension) for unit, code in model.unit_labels().items()}, table.index
        )
        table["weighted_distribution"] = [
            {str(dims.decode(c, dimension)): float(p) for c, p in row.items()} for _, row in posterior.iterrows()
        ]
    table["dimension"] = dimension["name"]
    return table.reset_index()


def _objects(by_unit: dict, index: pd.Index) -> pd.Series:
    return pd.Series([by_unit.get(unit) for unit in index], index=index, dtype=object)


def aggregate_table(frame: pd.DataFrame, dimension_specs: list[dict], weights: dict | None = None) -> pd.DataFrame:
    """All summaries for every (unit, dimension) of the non-text dimensions."""
    tables = []
    for dimension in dimension_specs:
        if not dims.has_agreement(dimension):
            continue
        coded = _coded(frame, dimension)
        if len(coded):
            tables.append(_dimension_table(coded, dimension, weights))
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


def _plain(value):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def aggregate_rows(
    frame: pd.DataFrame, method: str, weights: dict | None = None, *, dimensions: list[dict] | None = None
) -> Iterator[dict]:
    """Export rows for ``method`` (one of METHODS).

    ``none`` yields every label: {item, unit, turn, dimension, annotator, value}. The others
    yield one row per unit and dimension: {item, unit, turn, dimension, method, value,
    n_labels, std, tied_values}; ``distribution`` puts the soft label dict in ``value``;
    ``majority`` leaves ``value`` None on a tie and lists ``tied_values``; ``weighted`` adds
    ``distribution`` (Dawid–Skene posterior, categorical only). ``weights`` maps annotator to
    weight, or dimension to such a mapping (numeric ``weighted`` only). ``dimensions`` are the
    spec's dimension dicts; without them every dimension is read as a number."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if dimensions is None:
        dimensions = [{"name": name, "type": "number"} for name in pd.unique(frame["dimension"])]
    if method == "none":
        columns = ["item", "unit", "dimension", "annotator", "value"]
        turn = frame["turn"] if "turn" in frame.columns else pd.Series(None, index=frame.index)
        for row, turn_value in zip(frame[columns].itertuples(index=False), turn, strict=True):
            yield {**row._asdict(), "turn": _plain(turn_value)}
        return
    table = aggregate_table(frame, dimensions, weights)
    source = {"distribution": "distribution", "weighted": "weighted"}.get(method, method)
    for row in table.to_dict("records"):
        out = {
            "item": _plain(row["item"]),
            "unit": _plain(row["unit"]),
            "turn": _plain(row["turn"]),
            "dimension": row["dimension"],
            "method": method,
            "value": _plain(row[source]),
            "n_labels": int(row["n_labels"]),
            "std": _plain(row["std"]),
            "tied_values": row["tied_values"],
        }
        if method == "weighted":
            out["distribution"] = row["weighted_distribution"]
        yield out
