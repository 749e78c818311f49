"""CPU int8 for the linear layers of a transformer, close enough to float32 to keep rankings.

torch's stock dynamic quantization (``quantize_dynamic``) loses too much on encoder scorers:
on all-MiniLM-L6-v2 with a fitted head its scores rank texts with Spearman ~0.8 against
float32 on an AVX2 CPU (bench/scoring.py). Three things lose the precision, and each is
fixed here while keeping fbgemm's int8 matrix product (the part that makes it fast):

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

Not every layer is converted (``linears_to_quantize``): the feed-forward down projections, the
last transformer layer and the head stay float32, where int8 would cost rankings more than it
saves time.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping

import torch

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
        with (
            warnings.catch_warnings()
        ):  # quantized tensor constructors are deprecated, fbgemm's kernels are not
            warnings.simplefilter("ignore", UserWarning)
            quantized = torch.quantize_per_channel(weight, scales, zero_points, 0, torch.qint8)
        self._packed = torch.ops.quantized.linear_prepack(quantized, None)
        bias = (
            linear.bias.detach().float().clone()
            if linear.bias is not None
            else torch.zeros(self.out_features)
        )
        self.register_buffer("bias", bias)
        # Row sums of the weights as fbgemm sees them (dequantized), for the per-token offset.
        self.register_buffer("weight_row_sums", quantized.dequantize().sum(dim=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x * self.input_multiplier if self.input_multiplier is not None else x.clone()
        low = x.amin(dim=-1, keepdim=True)
        span = (x.amax(dim=-1, keepdim=True) - low).clamp_(min=1e-12)
        # Each token row mapped onto [0, 1]: W·x = span·(W·x') + low·rowsum(W).
        product = torch.ops.quantized.linear_dynamic(x.sub_(low).div_(span), self._packed, reduce_range=False)
        return torch.addcmul(torch.addcmul(self.bias, low, self.weight_row_sums), product, span)

    def extra_repr(self) -> str:
        smoothed = self.input_multiplier is not None
        return f"in_features={self.in_features}, out_features={self.out_features}, smoothed={smoothed}"


def cpu_has_int8_dot_product() -> bool:
    """Whether this CPU multiplies-and-adds int8 straight into int32 (AVX512-VNNI / AMX)."""
    cpu = getattr(torch, "cpu", None)
    checks = [getattr(cpu, name, None) for name in ("_is_vnni_supported", "_is_amx_tile_supported")]
    return any(check is not None and check() for check in checks)


def linears_to_quantize(model: torch.nn.Module) -> dict[str, torch.nn.Linear]:
    """The linear layers to convert: those of the base model's transformer layers but

    - the feed-forward down projections (their input is the activation function's output,
      whose per-token tails 8 bits cannot hold: on MiniLM they alone cost the rankings 0.988 ->
      0.996 Spearman, for a third of the int8 products), recognised by reading
      ``config.intermediate_size`` features;
    - those of the last layer, whose output the head reads directly;
    - the pooler and the head, which see one vector per text.
    """
    base = getattr(model, "base_model", model)
    last_layer = _last_transformer_layer(base)
    candidates = set(base.modules()) - (set() if last_layer is None else set(last_layer.modules()))
    down_projection_width = getattr(getattr(model, "config", None), "intermediate_size", None)
    return {
        name: module
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear)
        and module in candidates
        and module.in_features != down_projection_width
        and "pooler" not in name.split(".")
    }


def _last_transformer_layer(base: torch.nn.Module) -> torch.nn.Module | None:
    """The last block of the longest ``ModuleList`` in ``base`` (the stack of transformer layers)."""
    stacks = [module for module in base.modules() if isinstance(module, torch.nn.ModuleList) and len(module)]
    return max(stacks, key=len)[-1] if stacks else None


@torch.inference_mode()
def input_channel_maxima(
    model: torch.nn.Module,
    linears: Mapping[str, torch.nn.Linear],
    batches: Iterable[Mapping[str, torch.Tensor]],
) -> dict[str, torch.Tensor]:
    """The largest |input| each channel of each of ``linears`` sees while ``model`` runs on ``batches``."""
    maxima: dict[str, torch.Tensor] = {}

    def record(name: str):
        def hook(_module, inputs, _output):
            seen = inputs[0].detach().abs().reshape(-1, inputs[0].shape[-1]).amax(dim=0).float()
            maxima[name] = torch.maximum(maxima[name], seen) if name in maxima else seen

        return hook

    handles = [linear.register_forward_hook(record(name)) for name, linear in linears.items()]
    try:
        for batch in batches:
            model(**batch)
    finally:
        for handle in handles:
            handle.remove()
    return maxima


def smoothing_factors(
    activation_max: torch.Tensor, weight: torch.Tensor, alpha: float = SMOOTHING_ALPHA
) -> torch.Tensor:
    """SmoothQuant's per-input-channel divisor ``max|X_j|^α / max|W_j|^(1-α)``."""
    weight_max = weight.detach().abs().amax(dim=0).float().clamp(min=1e-5)
    return (activation_max.clamp(min=1e-5) ** alpha / weight_max ** (1 - alpha)).clamp(min=1e-5)


def quantize_linear_layers(
    model: torch.nn.Module, calibration_batches: Iterable[Mapping[str, torch.Tensor]] = ()
) -> torch.nn.Module:
    """``model`` (CPU, float32) with its per-token linear layers replaced by ``SmoothedInt8Linear``.

    ``calibration_batches`` (model inputs) are run once in float32 to measure each layer's
    input channels for smoothing; without them layers are only quantized per token and
    channel. Converted in place and returned.
    """
    linears = linears_to_quantize(model)
    maxima = input_channel_maxima(model, linears, calibration_batches)
    weight_levels = 127 if cpu_has_int8_dot_product() else 63
    for name, linear in linears.items():
        smoothing = smoothing_factors(maxima[name], linear.weight) if name in maxima else None
        parent_name, _, attribute = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, attribute, SmoothedInt8Linear(linear, smoothing, weight_levels=weight_levels))
    return model
