"""Training from the platform's own exports (plain Python: never imports Django or Celery).

``train(TrainRequest(...))`` reads a label export or a study preference export, splits it by
item (by prompt for preferences and for sft) with a seed, trains one of the five recipes with
the field's libraries, and measures the new model and its parent on the same held-out part.

Names are loaded on first use, so that importing ``ml.core.training.config`` (as the web
process does to check a launch) never imports torch or transformers.
"""

from __future__ import annotations

import importlib

_NAMES = {
    "RECIPES": "config", "defaults_for": "config", "hyperparameters": "config",
    "TrainingDataError": "data", "Progress": "progress",
    "TrainOutcome": "run", "TrainRequest": "run", "train": "run",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str):
    if name not in _NAMES:
        raise AttributeError(f"module 'ml.core.training' has no attribute {name!r}")
    return getattr(importlib.import_module(f"ml.core.training.{_NAMES[name]}"), name)
