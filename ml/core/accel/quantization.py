"""CPU int8 for the linear layers of a transformer, close enough to float32 to keep rankings.

torch's stock dynamic quantization (``quantize_dynamic``) loses too much on encoder scorers:
on all-MiniLM-L6-v2 with a fitted head its scores rank texts with Spearman ~0.8 against
float32 (bench/scoring.py). Three things lose the precision, and each is fixed here while
keeping fbgemm's int8 matrix product (the part that makes it fast):

1. One activation scale for the whole batch: a few outlier channels and the loudest token
   set the step for every other value. Each token row is mapped onto [0, 1] by its own
   minimum and range before the product, and the output corrected back (exact, since the
   layer is linear: W·x = span·W·x' + min·rowsum(W)): per-token asymmetric scales on a
   per-tensor kernel, so every row uses all 256 levels.
2. Outlier channels: as in SmoothQuant (Xiao et al., 2023), each input channel j is divided by
   ``s_j = max|X_j|^α / max|W_j|^(1-α)`` and the weight column multiplied by it, moving
   the range the activations cannot afford into the weights, which are quantized per output
   channel. ``max|X_j|`` comes from running the float model once on calibration inputs.
3. 7-bit activations: without VNNI/AMX, fbgemm sums pairs of u8 x s8 products in int16, so
   torch asks for a "reduced range" input (0..127). Here the weights give up that bit
   instead (-63..63, per channel, where rounding hurts less), so two products
   (255·63·2 = 32130) can never overflow and the input keeps all 256 levels. With VNNI/AMX
   products go straight into int32 and both keep 8 bits.

Which layers convert, and how, is read off a calibration run (``ml.core.accel.quantization_plan``):
layers that compute one row per text (the first-token part of the last layer, the pooler, the
head) stay float32, layers fed the very same tensor (query, key and value) become one product,
and feed-forward down projections convert only where weights keep 8 bits.

Where the remaining error comes from (MiniLM, bench texts, simulated rounding on one side only):
the 8-bit activations cost ~0.007 of Spearman, the weights ~0.002; among the activations the
down projections (0.003), up projections (0.002) and query/key/value (0.0016) most. A second
int8 product of each row's rounding residual (16-bit activations) wins back the down
projections' share but costs ~20% of the speed-up per layer type, so it is not done.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence

import torch

from ml.core.accel.quantization_plan import QuantizationPlan, plan_quantization

SMOOTHING_ALPHA = 0.5


class SmoothedInt8Linear(torch.nn.Module):
    """A ``torch.nn.Linear`` computed with int8 weights (symmetric, per output channel, at most
    ``weight_levels`` steps each side of zero) and uint8 activations (asymmetric, per token),
    after SmoothQuant smoothing by ``smoothing`` (None: none)."""

    def __init__(
        self, linear: torch.nn.Linear, smoothing: torch.Tensor | None, *, weight_levels: int
    ) -> None:
        super().__init__()
        weight = linear.weight.detach().float()
        if smoothing is not None:
            weight = weight * smoothing[None, :]
            self.register_buffer("input_multiplier", 1 / smoothing)
        else:
            self.input_multiplier = None
        self.in_features, self.out_features = linear.in_features, linear.out_features
        scales = (weight.abs().amax(dim=1) / weight_levels).clamp(min=1e-12).double()
        zero_points = torch.zeros(self.out_features, dtype=torch.long)
        with warnings.catch_warnings():  # quantized tensor constructors are deprecated, fbgemm's kernels are not
            warnings.simplefilter("ignore", UserWarning)
            quantized = torch.quantize_per_channel(weight, scales, zero_points, 0, torch.qint8)
        self._packed = torch.ops.quantized.linear_prepack(quantized, None)
        # Row sums of the weights as fbgemm sees them (dequantized), for the per-token offset.
        self.register_buffer("weight_row_sums", quantized.dequantize().sum(dim=1))
        self.register_buffer("bias", _bias_of(linear))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.reshape(-1, self.in_features)
        smoothed = rows * self.input_multiplier if self.input_multiplier is not None else rows
        low = smoothed.amin(dim=-1, keepdim=True)
        span = (smoothed.amax(dim=-1, keepdim=True) - low).clamp_(min=1e-12)
        # Each token row mapped onto [0, 1]: x' = (x - low)/span (in place where the tensor is ours;
        # elementwise ops with a [rows, 1] operand, which are the cheap ones here).
        shifted = smoothed.sub_(low) if smoothed is not rows else rows - low
        product = torch.ops.quantized.linear_dynamic(shifted.mul_(span.reciprocal()), self._packed, reduce_range=False)
        # W·x + b = span·(W·x') + low·rowsum(W) + b
        return product.mul_(span).addcmul_(low, self.weight_row_sums).add_(self.bias).view(*x.shape[:-1], -1)

    def extra_repr(self) -> str:
        smoothed = self.input_multiplier is not None
        return f"in_features={self.in_features}, out_features={self.out_features}, smoothed={smoothed}"


class SharedInputProduct(torch.nn.Module):
    """Several linear layers that always read the same tensor (query, key and value of one
    attention layer), computed as one int8 product: one quantization of the input instead of
    one per layer, and one larger, faster matrix product. Each layer becomes a
    ``SharedInputSlice``; the first to be called computes the product, the others take their
    columns of it. Called with a tensor the others were not given, a slice still answers
    correctly (it computes the product for that tensor)."""

    def __init__(self, linears: Sequence[torch.nn.Linear], smoothing: torch.Tensor | None, *, weight_levels: int):
        super().__init__()
        merged = torch.nn.Linear(linears[0].in_features, sum(linear.out_features for linear in linears))
        with torch.no_grad():
            merged.weight.copy_(torch.cat([linear.weight.detach().float() for linear in linears]))
            merged.bias.copy_(torch.cat([_bias_of(linear) for linear in linears]))
        self.linear = SmoothedInt8Linear(merged, smoothing, weight_levels=weight_levels)
        self.members = len(linears)
        self._input: torch.Tensor | None = None
        self._output: torch.Tensor | None = None
        self._taken = 0

    def columns(self, x: torch.Tensor, start: int, stop: int) -> torch.Tensor:
        if x is not self._input:
            self._input, self._output, self._taken = x, self.linear(x), 0
        output = self._output[..., start:stop]
        self._taken += 1
        if self._taken == self.members:  # everyone has theirs: let the activations go
            self._input = self._output = None
        return output


class SharedInputSlice(torch.nn.Module):
    """One layer of a ``SharedInputProduct``: its columns of the shared product."""

    def __init__(self, shared: SharedInputProduct, start: int, stop: int) -> None:
        super().__init__()
        self.shared, self.start, self.stop = shared, start, stop
        self.in_features, self.out_features = shared.linear.in_features, stop - start

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shared.columns(x, self.start, self.stop)

    def extra_repr(self) -> str:
        return f"columns {self.start}:{self.stop} of a shared int8 product"


def _bias_of(linear: torch.nn.Linear) -> torch.Tensor:
    return linear.bias.detach().float() if linear.bias is not None else torch.zeros(linear.out_features)


def cpu_has_int8_dot_product() -> bool:
    """Whether this CPU multiplies-and-adds int8 straight into int32 (AVX512-VNNI / AMX)."""
    cpu = getattr(torch, "cpu", None)
    checks = [getattr(cpu, name, None) for name in ("_is_vnni_supported", "_is_amx_tile_supported")]
    return any(check is not None and check() for check in checks)


def smoothing_factors(
    activation_max: torch.Tensor, weight: torch.Tensor, alpha: float = SMOOTHING_ALPHA
) -> torch.Tensor:
    """SmoothQuant's per-input-channel divisor ``max|X_j|^α / max|W_j|^(1-α)``."""
    weight_max = weight.detach().abs().amax(dim=0).float().clamp(min=1e-5)
    return (activation_max.clamp(min=1e-5) ** alpha / weight_max ** (1 - alpha)).clamp(min=1e-5)


def quantize_linear_layers(
    model: torch.nn.Module,
    calibration_batches: Iterable[Mapping[str, torch.Tensor]],
    *,
    int8_dot_product: bool | None = None,
) -> QuantizationPlan:
    """Converts ``model``'s (CPU, float32) per-token linear layers to int8, in place, as planned
    from running it on ``calibration_batches`` (model inputs, one text each). Returns the plan.

    ``int8_dot_product`` (default: whether this CPU has it) decides 8- or 7-bit weights, and
    with that whether the feed-forward down projections convert (their inputs' tails cost
    rankings where weights have 7 bits)."""
    if int8_dot_product is None:
        int8_dot_product = cpu_has_int8_dot_product()
    plan = plan_quantization(model, calibration_batches, include_down_projections=int8_dot_product)
    levels = 127 if int8_dot_product else 63
    for group in plan.groups:
        linears = [model.get_submodule(name) for name in group]
        smoothing = None
        if plan.smoothed(group[0]):
            smoothing = smoothing_factors(plan.channel_max[group[0]], torch.cat([lin.weight for lin in linears]))
        if len(group) == 1:
            _replace(model, group[0], SmoothedInt8Linear(linears[0], smoothing, weight_levels=levels))
            continue
        shared = SharedInputProduct(linears, smoothing, weight_levels=levels)
        start = 0
        for name, linear in zip(group, linears, strict=True):
            _replace(model, name, SharedInputSlice(shared, start, start + linear.out_features))
            start += linear.out_features
    return plan


def _replace(model: torch.nn.Module, name: str, module: torch.nn.Module) -> None:
    parent_name, _, attribute = name.rpartition(".")
    setattr(model.get_submodule(parent_name) if parent_name else model, attribute, module)
