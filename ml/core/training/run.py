"""One training run: read the export, split it, train a recipe, measure new and parent on the
held-out part, and write ``run.json`` (split, record, metrics) beside the model.

A run folder is resumable: a second call with the same folder reuses the stored split and
continues from the newest checkpoint of the first attempt.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ml.core.device import resolve_device
from ml.core.training.common import RunContext, base_check
from ml.core.training.config import RECIPES, RunRecord, hyperparameters
from ml.core.training.data import TrainingDataError, labels_read, preferences_read
from ml.core.training.processes import is_main
from ml.core.training.progress import Progress, ProgressCallback
from ml.core.training.split import Split, split_by_group, split_units

LABEL_RECIPES = ("reward-model", "bi-encoder", "sft")
PREFERENCE_RECIPES = ("dpo", "preference-rm")
RECIPE_KINDS = {"bi-encoder": "pair", "sft": "response"}


@dataclass
class TrainRequest:
    recipe: str
    base: str
    out: Path
    source: Path                                   # label export (JSONL) or study dpo export
    raw_source: Path | None = None                 # the study's raw export, for strength margins
    dimensions: list[dict] = field(default_factory=list)   # the project's spec dimensions
    overrides: dict = field(default_factory=dict)
    device: str | None = None
    holdout_group: tuple[str, str] | None = None   # (attribute, value)
    fixed_heldout: list[str] | None = None         # an earlier version's held-out units
    scorer: dict | None = None                     # {"path", "dimensions"}: scores generators' held-out replies


@dataclass
class TrainOutcome:
    model_dir: Path
    kind: str
    adapter: bool
    metrics: dict
    parent_metrics: dict
    split: dict
    record: dict
    details: dict


def _unit_of_response(item) -> str:
    return "prompt-" + hashlib.sha256(str(item.fields.get("context")).encode()).hexdigest()[:16]


def examples_split(request: TrainRequest, params: dict, stored: dict | None):
    """(parts of examples, split): label items by item (sft: by prompt), preferences by prompt."""
    if request.recipe in LABEL_RECIPES:
        examples = labels_read(request.source)
        unit = _unit_of_response if request.recipe == "sft" else (lambda i: i.item_id)
    else:
        examples = preferences_read(request.source, raw_path=request.raw_source)
        if not examples:
            raise TrainingDataError("snapshot", "the study has no preference pairs (no judgments, or only ties)")
        unit = lambda p: p.prompt_id  # noqa: E731
    if not examples:
        raise TrainingDataError("snapshot", "the export has no labels")
    needed = RECIPE_KINDS.get(request.recipe)
    if needed and any(getattr(e, "kind", needed) != needed for e in examples):
        raise TrainingDataError("recipe", f"{request.recipe} needs {needed} items; this project's are "
                                          f"{examples[0].kind}")
    if stored is not None:
        split = Split.from_dict(stored)
    elif request.holdout_group is not None:
        if request.recipe not in LABEL_RECIPES or request.recipe == "sft":
            raise TrainingDataError("holdout_group", f"{request.recipe} cannot hold out an annotator group")
        attribute, value = request.holdout_group
        split = split_by_group(examples, attribute=attribute, value=value, seed=params["seed"],
                               validation=params["validation"], heldout=params["heldout"],
                               minimum=params["min_units"])
    else:
        split = split_units([unit(e) for e in examples], seed=params["seed"], validation=params["validation"],
                            heldout=params["heldout"], minimum=params["min_units"],
                            fixed_heldout=request.fixed_heldout)
    parts = {name: [e for e in examples if unit(e) in set(units)] for name, units in split.parts.items()}
    if split.holdout_group:
        parts = _group_parts(parts, split.holdout_group)
        for name in ("train", "heldout"):
            if not parts[name]:
                raise TrainingDataError("holdout_group", f"no {name} labels left once the group's labels are "
                                                         f"{'held out' if name == 'train' else 'kept for testing'}")
    return parts, split


def _group_parts(parts: dict, group: dict) -> dict:
    """Train and validation keep the other annotators' labels, held-out the group's only."""
    import copy

    def keep(items, inside: bool):
        out = []
        for item in items:
            item = copy.deepcopy(item)
            members = {a for a, attrs in item.annotators.items() if (attrs.get(group["attribute"]) == group["value"])}
            for dimension, ratings in item.ratings.items():
                item.ratings[dimension] = {a: v for a, v in ratings.items() if (a in members) == inside}
            if any(item.ratings.values()):
                out.append(item)
        return out

    return {"train": keep(parts["train"], False), "validation": keep(parts["validation"], False),
            "heldout": keep(parts["heldout"], True)}


def _peak_memory_mb(device: str) -> float:
    import resource

    import torch

    if device == "cuda":
        return round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _recipe(name: str):
    from ml.core.training import bi_encoder, generator, preference_rm, reward_model

    return {"reward-model": reward_model.train_reward_model, "bi-encoder": bi_encoder.train_bi_encoder,
            "sft": generator.train_sft, "dpo": generator.train_dpo,
            "preference-rm": preference_rm.train_preference_rm}[name]


def train(request: TrainRequest, *, on_progress: Callable[[Progress], None] | None = None,
          should_cancel: Callable[[], bool] | None = None) -> TrainOutcome:
    """Runs (or resumes) the request. Raises ``TrainingDataError`` or ``ModelLoadError`` for bad
    input before any training, ``ml.core.errors.Cancelled`` when ``should_cancel`` turns true."""
    if request.recipe not in RECIPES:
        raise TrainingDataError("recipe", f"must be one of {', '.join(RECIPES)}, not {request.recipe!r}")
    base_check(request.base)
    device = resolve_device(request.device).type
    try:
        params = hyperparameters(request.recipe, device, request.overrides)
    except ValueError as exc:
        raise TrainingDataError("hyperparameters", str(exc)) from None
    out = Path(request.out)
    state_path = out / "run.json"
    stored = json.loads(state_path.read_text()) if state_path.is_file() else None
    parts, split = examples_split(request, params, stored["split"] if stored else None)
    out.mkdir(parents=True, exist_ok=True)
    if stored is None and is_main():
        _write_atomically(state_path, {"split": split.as_dict(), "hyperparameters": params})
    record = RunRecord(recipe=request.recipe, base=request.base, device=device, hyperparameters=params,
                       seed=int(params["seed"]))
    ctx = RunContext(base=request.base, out=out, params=params, device=device, dimensions=request.dimensions,
                     scorer=request.scorer,
                     callback=ProgressCallback(on_progress=on_progress, should_cancel=should_cancel))
    result = _recipe(request.recipe)(ctx, parts)
    record.finish()
    record.steps, record.resumed_from = result.steps, result.resumed_from
    record.train_seconds = next((e["train_runtime"] for e in result.log_history if "train_runtime" in e), None)
    record.peak_memory_mb = _peak_memory_mb(device)
    record.processes = _group_size()
    record.loss_curve = [{k: v for k, v in entry.items() if k in ("step", "loss") or k.startswith("eval_")}
                         for entry in result.log_history if "loss" in entry or any(k.startswith("eval_") for k in entry)]
    outcome = TrainOutcome(model_dir=result.model_dir, kind=result.kind, adapter=result.adapter,
                           metrics=result.metrics, parent_metrics=result.parent_metrics, split=split.as_dict(),
                           record=record.as_dict(), details=result.details)
    _write_atomically(state_path, {"split": outcome.split, "record": outcome.record, "metrics": outcome.metrics,
                                   "parent_metrics": outcome.parent_metrics, "kind": outcome.kind,
                                   "adapter": outcome.adapter})
    return outcome


def _write_atomically(path: Path, state: dict) -> None:
    """The other processes of a data-parallel run may read ``run.json`` while the main one writes it."""
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(state, indent=1, default=str))
    partial.replace(path)


def _group_size() -> int:
    """How many processes trained together (1 unless a data-parallel group was formed)."""
    import torch.distributed as dist

    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1
