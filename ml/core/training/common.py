"""What every recipe shares: the run context, the trainer arguments, resume and loading checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ml.core.errors import ModelLoadError
from ml.core.training.data import TrainingDataError
from ml.core.training.processes import OtherProcessDone
from ml.core.training.progress import ProgressCallback, last_checkpoint


@dataclass
class RunContext:
    base: str
    out: Path                          # the run folder: checkpoints/ and model/ inside
    params: dict
    device: str
    callback: ProgressCallback
    dimensions: list[dict] = field(default_factory=list)
    scorer: dict | None = None         # {"path", "dimensions"}: the active reward model, for generators

    @property
    def checkpoints(self) -> Path:
        return self.out / "checkpoints"

    @property
    def model_dir(self) -> Path:
        return self.out / "model"


@dataclass
class RecipeResult:
    model_dir: Path
    kind: str                          # "scorer" | "similarity" | "generator"
    adapter: bool
    metrics: dict
    parent_metrics: dict
    log_history: list[dict]
    steps: int
    resumed_from: str | None
    details: dict = field(default_factory=dict)   # e.g. per held-out item predictions


def trainer_arguments(ctx: RunContext, *, has_eval: bool, **extra) -> dict:
    """Keyword arguments common to every ``TrainingArguments`` subclass the recipes use."""
    p = ctx.params
    eval_steps = int(p["eval_steps"] or 0)
    return {
        "output_dir": str(ctx.checkpoints), "num_train_epochs": float(p["epochs"]), "max_steps": int(p["max_steps"]),
        "per_device_train_batch_size": int(p["batch_size"]), "per_device_eval_batch_size": int(p["batch_size"]),
        "learning_rate": float(p["learning_rate"]), "weight_decay": float(p["weight_decay"]),
        "save_strategy": "steps", "save_steps": int(p["save_steps"]), "save_total_limit": int(p["save_total_limit"]),
        "logging_steps": int(p["logging_steps"]), "logging_first_step": True,
        "eval_strategy": "steps" if has_eval and eval_steps else "no", "eval_steps": eval_steps or None,
        "seed": int(p["seed"]), "data_seed": int(p["seed"]), "bf16": bool(p["bf16"]),
        **({"gradient_checkpointing": True} if p["gradient_checkpointing"] else {}), "use_cpu": ctx.device == "cpu",
        "report_to": [], "disable_tqdm": True, "train_sampling_strategy": p["sampling"], **extra,
    }


def run_trainer(trainer, ctx: RunContext) -> tuple[int, str | None, list[dict]]:
    """Trains, resuming from the newest checkpoint of an earlier, interrupted attempt. In data-parallel training,
    a process other than the main one raises ``OtherProcessDone`` here: saving and evaluating are the main one's."""
    from transformers.trainer_callback import PrinterCallback

    resume = last_checkpoint(ctx.checkpoints)
    trainer.remove_callback(PrinterCallback)  # progress goes to the callback, not to stdout
    trainer.add_callback(ctx.callback)
    trainer.train(resume_from_checkpoint=resume)
    if not trainer.is_world_process_zero():
        raise OtherProcessDone
    return trainer.state.global_step, resume, list(trainer.state.log_history)


def lora_target_check(model, targets) -> None:
    """Raises ``TrainingDataError`` (field ``lora_target_modules``) naming targets the model lacks."""
    if not targets or targets == "all-linear":
        return
    names = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    missing = [t for t in targets if t not in names]
    if missing:
        raise TrainingDataError("lora_target_modules", f"{', '.join(missing)} not in the model "
                                                       f"(it has e.g. {', '.join(sorted(names - {''})[:8])})")


def base_check(base: str) -> None:
    if not (Path(base) / "config.json").is_file():
        raise ModelLoadError(f"base: {base} is not a model folder (no config.json)")


def scale_of(dimension: dict) -> tuple[float, float]:
    lo, hi = dimension.get("min"), dimension.get("max")
    if lo is None or hi is None or float(hi) <= float(lo):
        raise TrainingDataError("dimensions", f"{dimension.get('name')} has no numeric scale (min/max)")
    return float(lo), float(hi)


def scale_points(dimension: dict) -> list[float]:
    lo, hi = scale_of(dimension)
    step = float(dimension.get("step") or 1)
    count = int(round((hi - lo) / step)) + 1
    if count > 101:
        raise TrainingDataError("targets", f"{dimension['name']} has {count} scale points; soft labels need a "
                                           "discrete scale (use targets=mean)")
    return [lo + i * step for i in range(count)]
