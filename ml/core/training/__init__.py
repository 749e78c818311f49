"""Training from the platform's own exports (plain Python: never imports Django or Celery).

``train(TrainRequest(...))`` reads a label export or a study preference export, splits it by
item (by prompt for preferences and for sft) with a seed, trains one of the five recipes with
the field's libraries, and measures the new model and its parent on the same held-out part.
"""

from ml.core.training.config import RECIPES, defaults_for, hyperparameters
from ml.core.training.data import TrainingDataError
from ml.core.training.progress import Progress
from ml.core.training.run import TrainOutcome, TrainRequest, train

__all__ = ["RECIPES", "Progress", "TrainOutcome", "TrainRequest", "TrainingDataError", "defaults_for",
           "hyperparameters", "train"]
