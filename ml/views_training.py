"""The page of a model version: lineage, what it was trained on, its held-out metrics beside its
parent's, the loss curve and the held-out items where model and humans disagree most."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from ml import selectors
from ml.agreement_plot import agreement_plot
from ml.selectors_training import version_disagreements, version_lineage
from webapp.people.roles import researcher_required

METRIC_COLUMNS = (("pearson", "Pearson r"), ("spearman", "Spearman ρ"), ("mse", "MSE"),
                  ("alpha_human", "α human–human"), ("alpha_with_model", "α with the model as a rater"),
                  ("loo_human", "human vs the others' mean"), ("loo_model", "model vs the others' mean"),
                  ("accuracy", "accuracy at the midpoint"), ("macro_f1", "macro-F1 at the midpoint"))


def _metric_rows(new: dict, old: dict) -> list[dict]:
    """One row per dimension (or per figure for preference and generator metrics)."""
    rows = []
    for name, values in (new or {}).items():
        parent = (old or {}).get(name) or {}
        if name == "pair_accuracy":
            rows.append({"name": "held-out pair accuracy", "cells": [
                ("accuracy (95% Wilson)", values.get("accuracy"), parent.get("accuracy")),
                ("interval low", values.get("low"), parent.get("low")),
                ("interval high", values.get("high"), parent.get("high"))], "n": values.get("n")})
        elif name == "scorer_reward":
            rows.append({"name": f"reward by {values.get('scorer')} on held-out prompts", "n": values.get("n"),
                         "cells": [("mean reward", values.get("mean"), parent.get("mean"))]})
        elif isinstance(values, dict):
            rows.append({"name": name, "n": values.get("n"), "cells": [
                (label, values.get(key), parent.get(key)) for key, label in METRIC_COLUMNS if key in values]})
        else:
            rows.append({"name": name, "n": None, "cells": [(name, values, parent if not isinstance(parent, dict)
                                                             else None)]})
    return rows


def _curve_points(curve: list[dict], width: int = 480, height: int = 160) -> str:
    """SVG polyline points of the training loss (pages work without JavaScript)."""
    points = [(p["step"], p["loss"]) for p in curve if p.get("loss") is not None]
    if len(points) < 2:
        return ""
    steps, losses = [s for s, _ in points], [v for _, v in points]
    x0, x1, y0, y1 = min(steps), max(steps), min(losses), max(losses)
    xs = (x1 - x0) or 1
    ys = (y1 - y0) or 1
    return " ".join(f"{(s - x0) / xs * width:.1f},{height - (v - y0) / ys * height:.1f}" for s, v in points)


@require_GET
@researcher_required
def model_version_detail(request, pk: int):
    version = selectors.model_version_get_for_user(user=request.user, pk=pk)
    settings = version.training_settings or {}
    metrics = version.metrics or {}
    curve = (settings.get("record") or {}).get("loss_curve") or []
    return render(request, "ml/version_detail.html", {
        "version": version, "settings": settings,
        "target": ("Project", settings["project"]) if "project" in settings else ("Study", settings.get("study", "")), "lineage": version_lineage(version=version),
        "metric_rows": _metric_rows(metrics.get("heldout"), metrics.get("parent")),
        "agreement_plot": agreement_plot(metrics.get("heldout"), metrics.get("parent")),
        "curve": curve, "curve_points": _curve_points(curve),
        "disagreements": version_disagreements(version=version, top=10),
    })
