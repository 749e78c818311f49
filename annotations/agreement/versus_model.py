"""A model's agreement with the humans, beside the humans' agreement with each other.

For each numeric dimension that both the humans labelled and the model (a reward model or an
LLM judge) scored, on the same items:

* ``alpha_humans``: Krippendorff's alpha among the humans; ``alpha_with_model``: the same with
  the model added as one more rater (a model that rates like a good human leaves alpha where it
  was; a model that rates otherwise pulls it down). Both on the items the model scored, at the
  dimension's level.
* ``model_pearson`` / ``model_spearman``: the model's scores against the human mean of each
  item (for the model every human is "the others"), beside ``humans_loo_pearson``: the mean of
  each human's correlation with the mean of the other humans — the figure the model's
  ``model_pearson`` is to be read against.
* ``disagreements``: the items where model and humans differ most, by the difference of their
  z-scores across items (scale-free, so a 1–5 judge can be held against a 0–20 slider).

Input: the long label frame (``item, unit, annotator, dimension, value``) and the model's scores
as a frame ``item, dimension, value``. Per-turn dimensions are left out (models score whole items).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.stats import pearsonr, spearmanr

from annotations.agreement import dimensions as dims
from annotations.agreement.correlation import leave_one_out, mean_defined
from annotations.agreement.matrix import Ratings
from annotations.agreement.reliability import alpha

MODEL_RATER = "(model)"


def _defined(value) -> float | None:
    return None if value is None or not math.isfinite(float(value)) else float(value)


def model_human_agreement(
    frame: pd.DataFrame,
    dimension_specs: list[dict],
    model_scores: pd.DataFrame,
    *,
    n_disagreements: int = 10,
) -> dict[str, dict]:
    """``{dimension: {"level", "n_items", "alpha_humans", "alpha_with_model", "model_pearson",
    "model_spearman", "humans_loo_pearson", "disagreements": [{"item", "model", "human_mean",
    "n_labels", "z_difference"}]}}`` (figures None where undefined)."""
    out = {}
    scored = model_scores.dropna(subset=["value"])
    for dimension in dimension_specs:
        name = dimension["name"]
        if not dims.is_numeric(dimension) or dimension.get("per_turn"):
            continue
        model = scored[scored["dimension"] == name].groupby("item")["value"].mean()
        labels = frame[(frame["dimension"] == name) & frame["item"].isin(model.index)]
        codes = dims.encode(labels["value"], dimension)
        humans = pd.DataFrame({"item": labels["item"].to_numpy(), "annotator": labels["annotator"].to_numpy(),
                               "value": codes}).dropna(subset=["value"])
        if model.empty or humans.empty:
            continue
        level = dimension.get("level") or "interval"
        human_ratings = Ratings.from_frame(humans, unit="item", item=None)
        with_model = pd.concat([
            humans,
            pd.DataFrame({"item": model.index, "annotator": MODEL_RATER, "value": model.to_numpy()}),
        ])
        combined = Ratings.from_frame(with_model[with_model["item"].isin(humans["item"])], unit="item", item=None)
        per_item = humans.groupby("item")["value"].agg(["mean", "size"])
        paired = per_item.join(model.rename("model"), how="inner")
        model_pearson = model_spearman = None
        if len(paired) >= 3 and paired["model"].nunique() > 1 and paired["mean"].nunique() > 1:
            model_pearson = _defined(pearsonr(paired["model"], paired["mean"]).statistic)
            model_spearman = _defined(spearmanr(paired["model"], paired["mean"]).statistic)
        out[name] = {
            "level": level,
            "n_items": int(len(paired)),
            "alpha_humans": alpha(human_ratings, level),
            "alpha_with_model": alpha(combined, level),
            "model_pearson": model_pearson,
            "model_spearman": model_spearman,
            "humans_loo_pearson": mean_defined(leave_one_out(human_ratings)["loo_pearson"]),
            "disagreements": _largest_disagreements(paired, n_disagreements),
        }
    return out


def _zscores(values: pd.Series) -> pd.Series:
    spread = values.std(ddof=0)
    return (values - values.mean()) / spread if spread > 0 else values * 0.0


def _largest_disagreements(paired: pd.DataFrame, limit: int) -> list[dict]:
    if paired.empty:
        return []
    difference = _zscores(paired["model"]) - _zscores(paired["mean"])
    order = np.argsort(-difference.abs().to_numpy(), kind="stable")[:limit]
    return [
        {
            "item": str(paired.index[i]),
            "model": float(paired["model"].iloc[i]),
            "human_mean": float(paired["mean"].iloc[i]),
            "n_labels": int(paired["size"].iloc[i]),
            "z_difference": float(difference.iloc[i]),
        }
        for i in order
    ]
