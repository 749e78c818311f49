"""Progress reporting, cancelling and checkpoint resume for the recipes' trainers."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from transformers import TrainerCallback

from ml.core.errors import Cancelled
from ml.core.training.processes import agreed


@dataclass
class Progress:
    step: int
    total: int
    loss: float | None = None
    metrics: dict = field(default_factory=dict)


class ProgressCallback(TrainerCallback):
    """Calls ``on_progress(Progress)`` on each log and evaluation, records the loss curve into
    ``curve``, and raises ``Cancelled`` at the end of the step after ``should_cancel()`` turns true
    (the checkpoints written so far stay; the caller discards the run). In data-parallel training every process
    stops at the same step, as soon as one of them is asked to."""

    def __init__(self, *, on_progress: Callable[[Progress], None] | None = None,
                 should_cancel: Callable[[], bool] | None = None, curve: list[dict] | None = None):
        self.on_progress = on_progress
        self.should_cancel = should_cancel
        self.curve = curve if curve is not None else []

    def on_step_end(self, args, state, control, **kwargs):
        if agreed(self.should_cancel is not None and self.should_cancel()):
            raise Cancelled(f"cancelled at step {state.global_step} of {state.max_steps}")

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        loss = logs.get("loss")
        metrics = {k: v for k, v in logs.items() if k.startswith("eval_") and isinstance(v, int | float)}
        if loss is not None:
            self.curve.append({"step": state.global_step, "loss": float(loss)})
        if metrics and self.curve and self.curve[-1]["step"] == state.global_step:
            self.curve[-1].update(metrics)
        elif metrics:
            self.curve.append({"step": state.global_step, **metrics})
        if self.on_progress is not None:
            self.on_progress(Progress(step=state.global_step, total=state.max_steps,
                                      loss=None if loss is None else float(loss), metrics=metrics))


def last_checkpoint(folder: Path) -> str | None:
    """The newest ``checkpoint-N`` folder under ``folder`` that has a trainer state, or None."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    found = []
    for child in folder.iterdir():
        match = re.fullmatch(r"checkpoint-(\d+)", child.name)
        if match and (child / "trainer_state.json").is_file():
            found.append((int(match.group(1)), child))
    return str(max(found)[1]) if found else None
