"""Hyperparameter defaults per recipe and per device, and the record every run keeps."""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass, field

RECIPES = ("reward-model", "bi-encoder", "sft", "dpo", "preference-rm")

_COMMON = {"seed": 0, "epochs": 3.0, "max_steps": -1, "batch_size": 16, "learning_rate": 5e-5,
           "weight_decay": 0.01, "max_length": 256, "save_steps": 50,
           "save_total_limit": 2, "logging_steps": 5, "eval_steps": 0, "validation": 0.1, "heldout": 0.2,
           "min_units": 1, "sampling": "random",  # or "group_by_length" (less padding per batch)
           "processes": 1}  # data-parallel training processes; on CUDA the default is one per GPU

_PER_RECIPE: dict[str, dict] = {
    "reward-model": {"learning_rate": 5e-5, "targets": "mean"},            # or "distribution" (soft labels)
    "bi-encoder": {"learning_rate": 2e-5, "loss": "cosent", "dimension": None},
    "sft": {"learning_rate": 2e-4, "batch_size": 4, "epochs": 1.0, "dimension": None, "threshold": None,
            "top_k": 1, "lora_r": 8, "lora_alpha": 16, "lora_dropout": 0.05, "lora_target_modules": None},
    "dpo": {"learning_rate": 5e-5, "batch_size": 4, "epochs": 1.0, "beta": 0.1, "min_weight": 0.0,
            "lora_r": 8, "lora_alpha": 16, "lora_dropout": 0.05, "lora_target_modules": None},
    "preference-rm": {"learning_rate": 2e-5, "batch_size": 8, "epochs": 1.0, "use_margin": True},
}

_PER_DEVICE: dict[str, dict] = {
    "cpu": {"bf16": False, "gradient_checkpointing": False},
    "mps": {"bf16": False, "gradient_checkpointing": False},
    "cuda": {"bf16": True, "gradient_checkpointing": False},
}


def defaults_for(recipe: str, device: str) -> dict:
    """The defaults of ``recipe`` on a ``device`` type ("cpu", "cuda", "mps")."""
    if recipe not in RECIPES:
        raise ValueError(f"recipe must be one of {', '.join(RECIPES)}, not {recipe!r}")
    out = {**_COMMON, **_PER_RECIPE[recipe], **_PER_DEVICE.get(device, _PER_DEVICE["cpu"])}
    if device == "cuda":
        import torch

        out["bf16"] = bool(torch.cuda.is_bf16_supported())
        out["processes"] = max(1, torch.cuda.device_count())
    if recipe in ("sft", "dpo") and device == "cuda":
        out["gradient_checkpointing"] = True
    return out


def hyperparameters(recipe: str, device: str, overrides: dict | None = None) -> dict:
    """Defaults with ``overrides`` applied; an unknown key raises ``ValueError`` naming it."""
    params = defaults_for(recipe, device)
    for key, value in (overrides or {}).items():
        if key not in params:
            raise ValueError(f"hyperparameter {key!r} is not one of {recipe}'s ({', '.join(sorted(params))})")
        params[key] = value
    if device == "cpu" and params["bf16"]:
        raise ValueError("bf16: not supported on CPU")
    processes_check(params["processes"], device)
    return params


def processes_check(processes, device: str) -> None:
    """Raises ``ValueError`` (starting "processes:") for a count that is no whole number of at least 1, or (on CUDA)
    more than this host's GPUs."""
    if isinstance(processes, bool) or not isinstance(processes, int) or processes < 1:
        raise ValueError(f"processes: must be a whole number of at least 1, not {processes!r}")
    if device == "cuda":
        import torch

        if processes > torch.cuda.device_count():
            raise ValueError(f"processes: {processes} asked for, but this host has {torch.cuda.device_count()} GPUs")


def library_versions() -> dict[str, str]:
    import accelerate
    import datasets
    import peft
    import sentence_transformers
    import torch
    import transformers
    import trl

    return {"python": platform.python_version(), "torch": torch.__version__,
            **{m.__name__: m.__version__ for m in (transformers, trl, peft, sentence_transformers, accelerate,
                                                    datasets)}}


@dataclass
class RunRecord:
    """What a run used and how long it took; ``as_dict`` is stored beside the model."""

    recipe: str
    base: str
    device: str
    hyperparameters: dict
    seed: int
    versions: dict = field(default_factory=library_versions)
    started: float = field(default_factory=time.time)
    wall_seconds: float | None = None
    resumed_from: str | None = None
    steps: int = 0
    train_seconds: float | None = None    # inside trainer.train only (no loading, evaluation or saving)
    peak_memory_mb: float | None = None   # accelerator peak on CUDA, else the process's peak RSS
    processes: int = 1                    # the data-parallel group that trained (its size)
    loss_curve: list[dict] = field(default_factory=list)

    def finish(self) -> None:
        self.wall_seconds = round(time.time() - self.started, 3)

    def as_dict(self) -> dict:
        return {"recipe": self.recipe, "base": self.base, "device": self.device, "seed": self.seed,
                "hyperparameters": self.hyperparameters, "versions": self.versions,
                "wall_seconds": self.wall_seconds, "resumed_from": self.resumed_from, "steps": self.steps,
                "train_seconds": self.train_seconds, "peak_memory_mb": self.peak_memory_mb, "processes": self.processes,
                "loss_curve": self.loss_curve}
