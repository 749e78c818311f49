"""What each dimension type means for agreement: which figures apply and how values become numbers.

Dimension dicts are the normalised spec's (``annotations/spec.py``): name, type, level, min,
max, step, choices ([{value, label}]), per_turn.

* categorical figures (Fleiss, Cohen) apply to discrete scales: choice, likert, levels;
* numeric figures (ICC, Pearson, Spearman, leave-one-out) to numbers: likert, levels, slider,
  number (a Likert scale is both, as researchers report both);
* text dimensions get no figures.

Choice values are coded by their position in the declared ``choices`` (so an ordinal choice
keeps its declared order); numeric values are used as they are.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CATEGORICAL_TYPES = frozenset({"choice", "likert", "levels"})
NUMERIC_TYPES = frozenset({"likert", "levels", "slider", "number"})


def is_categorical(dimension: dict) -> bool:
    return dimension.get("type") in CATEGORICAL_TYPES


def is_numeric(dimension: dict) -> bool:
    return dimension.get("type") in NUMERIC_TYPES


def has_agreement(dimension: dict) -> bool:
    return is_categorical(dimension) or is_numeric(dimension)


def _choice_values(dimension: dict) -> list:
    return [choice["value"] if isinstance(choice, dict) else choice for choice in dimension.get("choices") or []]


def _choice_key(value, numeric: bool):
    """One key per choice whatever type carried it: a numeric choice 1 matches 1, 1.0 and "1"."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if not numeric:
        return str(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def encode(values: pd.Series, dimension: dict) -> np.ndarray:
    """Numbers for ``values`` of ``dimension`` (NaN where a value is not on the scale)."""
    if dimension.get("type") == "choice":
        declared = _choice_values(dimension)
        numeric = bool(declared) and not any(isinstance(value, str) for value in declared)
        position = {_choice_key(value, numeric): index for index, value in enumerate(declared)}
        codes = [position.get(_choice_key(value, numeric), np.nan) for value in values]
        return np.asarray(codes, dtype=np.float64)
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)


def decode(code: float, dimension: dict):
    """The spec value for a code produced by ``encode`` (choice value, or the number)."""
    if code is None or (isinstance(code, float) and np.isnan(code)):
        return None
    if dimension.get("type") == "choice":
        return _choice_values(dimension)[int(code)]
    number = float(code)
    return int(number) if number.is_integer() and dimension.get("type") in ("likert", "levels") else number


def categories(dimension: dict, observed: np.ndarray) -> np.ndarray:
    """The ordered category codes that kappa weights are built on: the whole declared scale
    (so a point nobody used still counts in the distances), plus anything observed."""
    declared: list[float] = []
    if dimension.get("type") == "choice":
        declared = list(range(len(_choice_values(dimension))))
    elif dimension.get("min") is not None and dimension.get("max") is not None:
        step = dimension.get("step") or 1
        declared = list(np.arange(dimension["min"], dimension["max"] + step / 2.0, step))
    return np.union1d(np.asarray(declared, dtype=np.float64), np.unique(observed))


def scale_range(dimension: dict, observed: np.ndarray) -> float:
    """Span of the scale, from the spec when declared else from the data (0 if unknown)."""
    if dimension.get("type") == "choice":
        return float(max(len(_choice_values(dimension)) - 1, 1))
    low, high = dimension.get("min"), dimension.get("max")
    if low is not None and high is not None:
        return float(high - low)
    return float(np.ptp(observed)) if observed.size else 0.0
