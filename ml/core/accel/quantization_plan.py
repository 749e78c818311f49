"""Which linear layers of a model to compute in int8, and how, read off one float32 run on calibration texts.

Watching the model work tells more than its layer names would:

- a layer that computes **one row per text** (the first-token part of a ``FirstTokenLayer``,
  the pooler, the head) costs little and feeds the scores directly: it stays float32;
- layers **fed the very same tensor** in every call (query, key and value) are one group, to be
  computed as one product;
- each layer's **largest input per channel** sets its SmoothQuant smoothing;
- feed-forward **down projections** (reading ``config.intermediate_size`` features, straight
  from the activation function) are not smoothed, and convert only where asked: with 7-bit
  weights (CPUs without int8 dot products) their inputs' tails cost rankings (on MiniLM,
  Spearman 0.996 -> 0.988).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import torch


@dataclass
class QuantizationPlan:
    groups: list[list[str]]  # the layers to convert, in model order; a group of several shares its input
    channel_max: dict[str, torch.Tensor]  # per converted layer: the largest |input| of each channel
    unsmoothed: set[str] = field(default_factory=set)
    kept_float: dict[str, str] = field(default_factory=dict)  # layer -> why it stays float32

    def smoothed(self, name: str) -> bool:
        return name not in self.unsmoothed


@dataclass
class _Observation:
    channel_max: torch.Tensor | None = None
    rows_per_text: float = float("inf")  # the fewest rows per text seen in one call
    calls: int = 0


@torch.inference_mode()
def plan_quantization(
    model: torch.nn.Module,
    calibration_batches: Iterable[Mapping[str, torch.Tensor]],
    *,
    include_down_projections: bool,
) -> QuantizationPlan:
    """Runs ``model`` on ``calibration_batches`` (model inputs) and plans its int8 conversion."""
    linears = {name: module for name, module in model.named_modules() if isinstance(module, torch.nn.Linear)}
    seen = {name: _Observation() for name in linears}
    shared_with: dict[str, frozenset[str]] = {}
    batch_inputs: list[tuple[str, torch.Tensor]] = []
    texts = 1

    def watch(name: str):
        def hook(_module, inputs, _output):
            x = inputs[0]
            observation = seen[name]
            channel_max = x.detach().abs().reshape(-1, x.shape[-1]).amax(dim=0).float()
            observation.channel_max = channel_max if observation.channel_max is None else torch.maximum(
                observation.channel_max, channel_max)
            observation.rows_per_text = min(observation.rows_per_text, x[..., 0].numel() / texts)
            observation.calls += 1
            batch_inputs.append((name, x))  # held until the batch ends, so identities stay unique

        return hook

    handles = [module.register_forward_hook(watch(name)) for name, module in linears.items()]
    batches = 0
    try:
        for batch in calibration_batches:
            texts = max(next(iter(batch.values())).shape[0], 1)
            batch_inputs.clear()
            model(**batch)
            _intersect_sharing(shared_with, batch_inputs)
            batches += 1
    finally:
        for handle in handles:
            handle.remove()
        batch_inputs.clear()
    if not batches:
        raise ValueError("planning int8 needs at least one calibration batch")
    return _plan(model, linears, seen, shared_with, include_down_projections)


def _intersect_sharing(shared_with: dict[str, frozenset[str]], batch_inputs: list[tuple[str, torch.Tensor]]) -> None:
    """Narrows each layer's group to the layers that read the same tensor as it in this batch too."""
    for name, x in batch_inputs:
        here = frozenset(other for other, y in batch_inputs if y is x)
        shared_with[name] = shared_with.get(name, here) & here


def _plan(model, linears, seen, shared_with, include_down_projections: bool) -> QuantizationPlan:
    down_width = getattr(getattr(model, "config", None), "intermediate_size", None)
    kept: dict[str, str] = {}
    for name, module in linears.items():
        observation = seen[name]
        if not observation.calls:
            kept[name] = "not called on the calibration texts"
        elif observation.rows_per_text <= 1:
            kept[name] = "computes one row per text"
        elif module.in_features == down_width and not include_down_projections:
            kept[name] = "feed-forward down projection, and this CPU keeps only 7-bit weights"
    converted = [name for name in linears if name not in kept]
    groups, placed = [], set()
    for name in converted:
        if name in placed:
            continue
        group = [other for other in converted if other in shared_with.get(name, {name}) and other not in placed]
        placed.update(group)
        groups.append(group)
    return QuantizationPlan(
        groups=groups,
        channel_max={name: seen[name].channel_max for name in converted},
        unsmoothed={name for name in converted if linears[name].in_features == down_width},
        kept_float=kept,
    )
