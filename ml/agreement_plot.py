"""The version page's plot of human–model against human–human agreement, per dimension.

Two panels share one scale (the figures are all agreement coefficients, at most 1):
- Krippendorff's alpha among the humans (●) beside alpha with the model as one more rater (■);
- each human's correlation with the mean of the other humans (●) beside the model's (■).
The parent's model figure, on the same held-out items, is a hollow square (□), so a new version that moved its
square toward the humans' dot is seen at a glance. The template draws the marks as SVG; no JavaScript."""

from __future__ import annotations

import math

PANELS = (
    ("alpha", "Krippendorff's α", "alpha_human", "alpha_with_model"),
    ("correlation", "correlation with the others' mean", "loo_human", "loo_model"),
)
WIDTH = 260  # of one panel's scale, in SVG units
ROW_HEIGHT = 28


def _finite(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def _low_end(values: list[float]) -> float:
    """The scale's left end: 0, or the lowest figure rounded down to a tenth (never below -1)."""
    lowest = min([0.0, *values])
    return max(-1.0, math.floor(lowest * 10) / 10)


def agreement_plot(heldout: dict | None, parent: dict | None) -> dict | None:
    """What the template needs to draw the plot, or None when no dimension has a human figure to plot against.

    Each panel has one row per dimension whose held-out metrics carry ``alpha_human`` or ``loo_human``, with the x
    of the humans' mark, the model's and the parent's (None where a figure is missing), the values, and a summary
    in words for screen readers."""
    dimensions = [(name, values) for name, values in (heldout or {}).items()
                  if isinstance(values, dict) and any(_finite(values.get(human)) is not None
                                                      for _, _, human, _ in PANELS)]
    if not dimensions:
        return None
    figures = [_finite(values.get(key)) for name, values in dimensions
               for _, _, human, model in PANELS for key in (human, model)]
    figures += [_finite(((parent or {}).get(name) or {}).get(model)) for name, _ in dimensions
                for _, _, _, model in PANELS]
    low = _low_end([value for value in figures if value is not None])

    def x(value: float | None) -> float | None:
        return None if value is None else round((value - low) / (1.0 - low) * WIDTH, 1)

    panels = []
    for key, title, human_key, model_key in PANELS:
        rows, said = [], []
        for index, (name, values) in enumerate(dimensions):
            before = (parent or {}).get(name)
            human, model = _finite(values.get(human_key)), _finite(values.get(model_key))
            previous = _finite(before.get(model_key)) if isinstance(before, dict) else None
            rows.append({"name": name, "y": index * ROW_HEIGHT + ROW_HEIGHT // 2, "human": human, "model": model,
                         "parent": previous, "x_human": x(human), "x_model": x(model), "x_parent": x(previous),
                         "box_model": _box(x(model)), "box_parent": _box(x(previous))})
            said.append(f"{name}: humans {_said(human)}, this version {_said(model)}, parent {_said(previous)}")
        panels.append({"key": key, "title": title, "rows": rows, "summary": f"{title}. " + "; ".join(said) + "."})
    ticks = [{"value": value, "x": x(value)} for value in sorted({low, 0.0, 0.5, 1.0})]
    return {"panels": panels, "ticks": ticks, "width": WIDTH, "height": len(dimensions) * ROW_HEIGHT, "low": low}


def _box(centre: float | None) -> float | None:
    """The left edge of a 10-unit square mark centred on ``centre``."""
    return None if centre is None else round(centre - 5, 1)


def _said(value: float | None) -> str:
    return "none" if value is None else f"{value:.2f}"
