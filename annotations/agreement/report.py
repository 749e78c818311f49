"""The agreement report of one project: per dimension, per annotator group, between groups.

Input is a long frame with columns ``item, unit, annotator, dimension, value, seconds`` (one
row per label value; ``unit`` is the item, or item and turn for per-turn dimensions), the
spec's dimension dicts, and optionally an annotator-attributes frame (index: annotator,
columns: attributes such as country or age_band).

Output (JSON-ready; a figure that does not apply to the dimension's type is None)::

    {"dimensions": {NAME: {"level", "krippendorff_alpha", "alpha_ci", "fleiss_kappa",
                           "cohen_kappa_mean", "icc", "pearson_mean", "spearman_mean",
                           "loo_pearson_mean", "n_items", "n_units", "n_annotators", "n_labels",
                           "per_turn", "kappa_weights", "gwet_ac1", "gwet_ac2"}},
     "groups": {ATTRIBUTE: {VALUE: {"n_annotators", "n_labels", "dimensions": {...},
                                    "mean_ratings": {NAME: {"mean", "ci", "n_annotators"}}}}},
     "between_groups": {ATTRIBUTE: {NAME: {"level", "krippendorff_alpha", "alpha_ci",
                                           "n_units", "n_groups"}}},
     "alpha_differences": {ATTRIBUTE: {NAME: [{"first", "second", "alpha_first",
                                               "alpha_second", "difference", "ci",
                                               "excludes_zero"}]}},
     "settings": {"bootstrap", "seed", "level", "kappa_weights", "regroup"}}

Gwet's AC1 (unweighted) and AC2 (weighted with ``kappa_weights``, for ordered scales) sit
beside kappa for categorical dimensions. ``alpha_differences`` tests whether alpha differs
between each two groups of an attribute (:mod:`annotations.agreement.difference`: items
resampled, both groups weighed by the same draw). ``mean_ratings`` (numeric dimensions) is
the mean of the group's annotator means with a t interval over annotators, each annotator one
observation. ``regroup`` (see :mod:`webapp.people.regroup`) relabels attributes before grouping.

Between groups: each group's labels of a unit are summarised into one value (the mean, or
for nominal dimensions the mode, a tied mode counting as missing) and alpha is computed with
the groups as the coders.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from annotations.agreement import dimensions as dims
from annotations.agreement.bootstrap import alpha_replicates, percentile_interval
from annotations.agreement.correlation import leave_one_out, mean_defined, pairwise_correlations
from annotations.agreement.difference import alpha_difference
from annotations.agreement.gwet import category_weights, gwet_ac
from annotations.agreement.icc import icc
from annotations.agreement.kappa import cohen_kappa_mean, fleiss_kappa
from annotations.agreement.matrix import Ratings
from annotations.agreement.reliability import LEVELS, alpha_terms, alpha_weighted
from webapp.people.regroup import regroup_apply

MISSING_GROUP = "(not given)"


def _finite(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def ratings_by_dimension(frame: pd.DataFrame, dimension_specs: list[dict]) -> dict[str, Ratings]:
    """Encoded ratings of every dimension that has agreement figures (text is skipped)."""
    out = {}
    grouped = dict(tuple(frame.groupby("dimension", sort=False))) if len(frame) else {}
    for dimension in dimension_specs:
        if not dims.has_agreement(dimension):
            continue
        part = grouped.get(dimension["name"], frame.iloc[0:0])
        coded = pd.DataFrame(
            {
                "item": part["item"].to_numpy(),
                "unit": part["unit"].to_numpy(),
                "annotator": part["annotator"].to_numpy(),
                "code": dims.encode(part["value"], dimension),
            }
        )
        out[dimension["name"]] = Ratings.from_frame(coded, value="code")
    return out


def level_for(dimension: dict, level: str | dict | None) -> str:
    """The measurement level of ``dimension``: the one asked for (one for all, or by dimension name), else the
    spec's, else nominal for a choice and interval for the rest."""
    chosen = level.get(dimension["name"]) if isinstance(level, dict) else level
    chosen = chosen or dimension.get("level") or ("nominal" if dimension.get("type") == "choice" else "interval")
    if chosen not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {chosen!r}")
    return chosen


def _alpha_with_interval(ratings: Ratings, level: str, n_bootstrap: int, seed: int):
    terms = alpha_terms(ratings, level)
    if terms.n_units == 0:
        return None, None
    weights = np.bincount(terms.unit_pattern, minlength=terms.sizes.size).astype(np.float64)
    point = _finite(alpha_weighted(terms, weights[None, :])[0])
    interval = None
    if n_bootstrap > 0 and point is not None:
        interval = percentile_interval(alpha_replicates(terms, n_resamples=n_bootstrap, seed=seed))
    return point, list(interval) if interval else None


def dimension_figures(
    ratings: Ratings,
    dimension: dict,
    *,
    level: str,
    n_bootstrap: int = 1000,
    seed: int = 0,
    kappa_weights: str = "quadratic",
) -> dict:
    """All agreement figures of one dimension's ratings at ``level``."""
    alpha_value, alpha_ci = _alpha_with_interval(ratings, level, n_bootstrap, seed)
    categorical, numeric = dims.is_categorical(dimension), dims.is_numeric(dimension)
    # weights only make sense when categories are ordered
    weights = None if level == "nominal" else kappa_weights
    figures = {
        "level": level,
        "krippendorff_alpha": alpha_value,
        "alpha_ci": alpha_ci,
        "fleiss_kappa": None,
        "cohen_kappa_mean": None,
        "kappa_weights": weights if categorical else None,
        "icc": None,
        "pearson_mean": None,
        "spearman_mean": None,
        "loo_pearson_mean": None,
        "n_items": int(np.unique(ratings.cluster).size),
        "n_units": len(ratings.units),
        "n_annotators": len(ratings.annotators),
        "n_labels": ratings.n_labels,
        "per_turn": bool(dimension.get("per_turn")),
        "gwet_ac1": None,
        "gwet_ac2": None,
    }
    if ratings.n_labels == 0:
        return figures
    if categorical:
        scale = dims.categories(dimension, ratings.value)
        figures["gwet_ac1"] = _finite(gwet_ac(ratings, categories=scale)["coefficient"])
        if weights:
            figures["gwet_ac2"] = _finite(
                gwet_ac(ratings, categories=scale, weights=category_weights(scale, weights))["coefficient"]
            )
        figures["fleiss_kappa"] = _finite(fleiss_kappa(ratings))
        figures["cohen_kappa_mean"] = _finite(
            cohen_kappa_mean(ratings, weights=weights, categories=dims.categories(dimension, ratings.value))
        )
    if numeric:
        figures["icc"] = icc(ratings)
        pairs = pairwise_correlations(ratings)
        figures["pearson_mean"] = mean_defined(pairs["pearson"])
        figures["spearman_mean"] = mean_defined(pairs["spearman"])
        figures["loo_pearson_mean"] = mean_defined(leave_one_out(ratings)["loo_pearson"])
    return figures


def mean_rating(ratings: Ratings, *, confidence: float = 0.95) -> dict:
    """Mean of the annotators' mean ratings, with a t interval over annotators (None with fewer than two)."""
    if ratings.n_labels == 0:
        return {"mean": None, "ci": None, "n_annotators": 0}
    per_annotator = np.bincount(ratings.annotator, weights=ratings.value) / np.bincount(ratings.annotator)
    mean = float(per_annotator.mean())
    ci = None
    if per_annotator.size >= 2:
        half = stats.t.ppf((1 + confidence) / 2, per_annotator.size - 1) * stats.sem(per_annotator)
        ci = [mean - float(half), mean + float(half)] if np.isfinite(half) else None
    return {"mean": mean, "ci": ci, "n_annotators": int(per_annotator.size)}


def _group_labels(attributes: pd.DataFrame | None, attribute: str, annotators: pd.Index) -> pd.Series:
    """Each annotator's value of ``attribute`` as text; MISSING_GROUP when not given."""
    if attributes is None or attribute not in attributes.columns:
        values = pd.Series(MISSING_GROUP, index=annotators)
    else:
        values = attributes[attribute].reindex(annotators)
    return values.map(lambda v: MISSING_GROUP if v is None or v == "" or (isinstance(v, float) and np.isnan(v)) else str(v))


def between_groups_ratings(ratings: Ratings, groups: pd.Series, level: str) -> Ratings:
    """Groups as coders: one summary value per (group, unit) — mode for nominal, else mean."""
    frame = pd.DataFrame(
        {
            "unit": ratings.unit,
            "item": ratings.cluster[ratings.unit],
            "group": groups.reindex(ratings.annotators).to_numpy()[ratings.annotator],
            "value": ratings.value,
        }
    )
    if level == "nominal":
        counts = frame.groupby(["unit", "item", "group", "value"]).size().rename("n").reset_index()
        top = counts.groupby(["unit", "group"])["n"].transform("max")
        winners = counts[counts["n"] == top]
        single = winners.groupby(["unit", "group"])["value"].transform("size") == 1
        summary = winners[single][["unit", "item", "group", "value"]]
    else:
        summary = frame.groupby(["unit", "item", "group"], as_index=False)["value"].mean()
    return Ratings.from_frame(summary, annotator="group")


def agreement_report(
    frame: pd.DataFrame,
    dimension_specs: list[dict],
    attributes: pd.DataFrame | None = None,
    *,
    by: list[str] | tuple[str, ...] = (),
    n_bootstrap: int = 1000,
    seed: int = 0,
    level: str | dict | None = None,
    kappa_weights: str = "quadratic",
    regroup: dict[str, dict] | None = None,
) -> dict:
    """The full report described in the module docstring.

    ``regroup`` rules (:func:`webapp.people.regroup.regroup_parse`) relabel attributes before the
    groups are formed; a rule for an attribute absent from ``attributes`` raises ValueError.
    """
    if regroup:
        if attributes is None:
            raise ValueError(f"{next(iter(regroup))}: no such attribute")
        attributes = regroup_apply(attributes, regroup)
    ratings = ratings_by_dimension(frame, dimension_specs)
    specs = {d["name"]: d for d in dimension_specs}
    options = {"n_bootstrap": n_bootstrap, "seed": seed, "kappa_weights": kappa_weights}
    report = {
        "dimensions": {
            name: dimension_figures(r, specs[name], level=level_for(specs[name], level), **options)
            for name, r in ratings.items()
        },
        "groups": {},
        "between_groups": {},
        "alpha_differences": {},
        "settings": {
            "bootstrap": n_bootstrap, "seed": seed, "level": level, "kappa_weights": kappa_weights,
            "regroup": regroup or {},
        },
    }
    all_annotators = pd.Index(pd.unique(frame["annotator"])) if len(frame) else pd.Index([])
    for attribute in by:
        groups = _group_labels(attributes, attribute, all_annotators)
        per_value = {}
        for value in sorted(groups.unique()):
            members = set(groups.index[groups == value])
            per_value[value] = {
                "n_annotators": len(members),
                "n_labels": int(frame["annotator"].isin(members).sum()),
                "dimensions": {},
                "mean_ratings": {},
            }
            for name, r in ratings.items():
                positions = np.flatnonzero(r.annotators.isin(members))
                group_ratings = r.only_annotators(positions)
                per_value[value]["dimensions"][name] = dimension_figures(
                    group_ratings, specs[name], level=level_for(specs[name], level), **options
                )
                if dims.is_numeric(specs[name]):
                    per_value[value]["mean_ratings"][name] = mean_rating(group_ratings)
        report["groups"][attribute] = per_value
        between = {}
        for name, r in ratings.items():
            dim_level = level_for(specs[name], level)
            group_ratings = between_groups_ratings(r, groups, dim_level)
            point, interval = _alpha_with_interval(group_ratings, dim_level, n_bootstrap, seed)
            between[name] = {
                "level": dim_level,
                "krippendorff_alpha": point,
                "alpha_ci": interval,
                "n_units": len(group_ratings.pairable().units),
                "n_groups": len(group_ratings.annotators),
            }
        report["between_groups"][attribute] = between
        report["alpha_differences"][attribute] = {
            name: alpha_difference(r, groups, level=level_for(specs[name], level), n_bootstrap=n_bootstrap, seed=seed)
            for name, r in ratings.items()
        }
    return report
