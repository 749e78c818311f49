"""Held-out metrics, computed the same way for a new version and for its parent."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def _finite(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def regression_metrics(predicted: Sequence[float], target: Sequence[float]) -> dict:
    """Pearson, Spearman (None when either side is constant) and MSE."""
    from scipy import stats

    p, t = np.asarray(predicted, dtype=float), np.asarray(target, dtype=float)
    out = {"n": int(len(p)), "mse": _finite(np.mean((p - t) ** 2)) if len(p) else None,
           "pearson": None, "spearman": None}
    if len(p) >= 2 and np.std(p) > 0 and np.std(t) > 0:
        out["pearson"] = _finite(stats.pearsonr(p, t).statistic)
        out["spearman"] = _finite(stats.spearmanr(p, t).statistic)
    return out


def agreement_with_model(ratings: dict[str, dict[str, float]], predicted: dict[str, float], *,
                         level: str = "interval") -> dict:
    """Human–model agreement beside human–human agreement on one dimension.

    ``ratings``: item -> annotator -> value; ``predicted``: item -> the model's value. Returns
    Krippendorff's alpha of the humans and of the humans with the model as one more rater, and,
    per annotator, the correlation of that annotator and of the model with the mean of the
    *other* annotators on the items they share (their means are reported).
    """
    import krippendorff
    from scipy import stats

    items = [i for i in ratings if i in predicted]
    annotators = sorted({a for i in items for a in ratings[i]})
    out = {"items": len(items), "annotators": len(annotators), "alpha_human": None, "alpha_with_model": None,
           "loo_human": None, "loo_model": None}
    if len(items) < 2 or len(annotators) < 2:
        return out
    matrix = np.array([[ratings[i].get(a, np.nan) for i in items] for a in annotators], dtype=float)
    model_row = np.array([[predicted[i] for i in items]], dtype=float)
    try:
        out["alpha_human"] = _finite(krippendorff.alpha(reliability_data=matrix, level_of_measurement=level))
        out["alpha_with_model"] = _finite(krippendorff.alpha(reliability_data=np.vstack([matrix, model_row]),
                                                             level_of_measurement=level))
    except (ValueError, ZeroDivisionError):
        pass
    human, model = [], []
    for row, _ in enumerate(annotators):
        others = np.delete(matrix, row, axis=0)
        with np.errstate(all="ignore"):
            rest = np.nanmean(others, axis=0)
        mask = ~np.isnan(matrix[row]) & ~np.isnan(rest)
        if mask.sum() < 3 or np.std(rest[mask]) == 0:
            continue
        if np.std(matrix[row][mask]) > 0:
            human.append(stats.pearsonr(matrix[row][mask], rest[mask]).statistic)
        if np.std(model_row[0][mask]) > 0:
            model.append(stats.pearsonr(model_row[0][mask], rest[mask]).statistic)
    out["loo_human"] = _finite(np.mean(human)) if human else None
    out["loo_model"] = _finite(np.mean(model)) if model else None
    return out


def midpoint_classification(predicted: Sequence[float], target: Sequence[float], *, midpoint: float) -> dict:
    """Accuracy and macro-F1 of "at or above the scale's midpoint" (the bi-encoder's binary view)."""
    from sklearn.metrics import accuracy_score, f1_score

    p = [value >= midpoint for value in predicted]
    t = [value >= midpoint for value in target]
    if not t:
        return {"accuracy": None, "macro_f1": None}
    return {"accuracy": float(accuracy_score(t, p)),
            "macro_f1": float(f1_score(t, p, average="macro", labels=[False, True], zero_division=0))}


def pair_accuracy(margins: Sequence[float]) -> dict:
    """Share of held-out pairs where the chosen reply scores above the rejected one (margin > 0),
    with a 95% Wilson interval."""
    from statsmodels.stats.proportion import proportion_confint

    n = len(margins)
    wins = sum(1 for m in margins if m > 0)
    if n == 0:
        return {"n": 0, "accuracy": None, "low": None, "high": None}
    low, high = proportion_confint(wins, n, alpha=0.05, method="wilson")
    return {"n": n, "accuracy": wins / n, "low": float(low), "high": float(high)}
