"""int8 linear layers: per-token scales, SmoothQuant smoothing, no int16 overflow without VNNI."""

from __future__ import annotations

import pytest
import torch

from ml.core.quantization import (
    SmoothedInt8Linear,
    input_channel_maxima,
    quantize_linear_layers,
    smoothing_factors,
)


def activations_with_outliers(tokens: int = 64, width: int = 96) -> torch.Tensor:
    """Token rows of very different loudness, and two channels far louder than the rest,
    as the LayerNorm outputs of a trained transformer look."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(tokens, width, generator=generator)
    x *= torch.logspace(-1, 1, tokens)[:, None]  # quiet and loud tokens
    x[:, [5, 40]] *= 30.0  # outlier channels
    return x


def relative_error(approx: torch.Tensor, exact: torch.Tensor) -> float:
    return float((approx - exact).norm() / exact.norm())


def per_row_error(approx: torch.Tensor, exact: torch.Tensor) -> torch.Tensor:
    return (approx - exact).norm(dim=-1) / exact.norm(dim=-1)


@pytest.fixture
def linear() -> torch.nn.Linear:
    torch.manual_seed(0)
    return torch.nn.Linear(96, 48)


def test_smoothed_int8_linear_follows_float32_where_stock_dynamic_quantization_does_not(linear):
    x = activations_with_outliers()
    with torch.inference_mode():
        exact = linear(x)
    smoothing = smoothing_factors(x.abs().amax(dim=0), linear.weight)
    ours = SmoothedInt8Linear(linear, smoothing, weight_levels=63)
    stock = torch.ao.quantization.quantize_dynamic(
        torch.nn.Sequential(linear), {torch.nn.Linear}, dtype=torch.qint8
    )

    with torch.inference_mode():
        ours_out, stock_out = ours(x), stock(x)

    assert relative_error(ours_out, exact) < 0.02
    # Per-token scales: the quietest tokens are as well served as the loudest.
    assert per_row_error(ours_out, exact).max() < 0.05
    assert per_row_error(ours_out, exact).max() * 5 < per_row_error(stock_out, exact).max()


def test_the_output_keeps_the_input_shape_and_bias(linear):
    ours = SmoothedInt8Linear(linear, None, weight_levels=127)
    x = torch.zeros(2, 3, 96)

    with torch.inference_mode():
        out = ours(x)

    assert out.shape == (2, 3, 48)
    assert torch.allclose(out, linear.bias.expand(2, 3, 48), atol=1e-6)


def test_weights_stay_within_seven_bits_where_int16_sums_could_overflow(linear):
    ours = SmoothedInt8Linear(linear, None, weight_levels=63)
    weight, _bias = torch.ops.quantized.linear_unpack(ours._packed)

    assert int(weight.int_repr().abs().max()) == 63


def test_smoothing_balances_activation_and_weight_ranges():
    activation_max = torch.tensor([100.0, 1.0])
    weight = torch.tensor([[0.01, 1.0], [-0.04, 0.5]])

    factors = smoothing_factors(activation_max, weight, alpha=0.5)

    # s_j = sqrt(max|X_j| / max|W_j|): channel 0 is divided by 50, channel 1 by 1.
    assert factors.tolist() == pytest.approx([50.0, 1.0])
    assert (activation_max / factors).tolist() == pytest.approx((weight.abs().amax(dim=0) * factors).tolist())


def test_calibration_reads_each_layer_input_and_leaves_no_hooks():
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))

    class Wrapper(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = model

        def forward(self, inputs):
            return self.inner(inputs)

    wrapper = Wrapper()
    batches = [
        {"inputs": torch.tensor([[1.0, -2.0, 0.5, 0.0]])},
        {"inputs": torch.tensor([[-3.0, 1.0, 0.0, 0.25]])},
    ]

    maxima = input_channel_maxima(wrapper, {"inner.0": model[0]}, batches)

    assert maxima["inner.0"].tolist() == [3.0, 2.0, 0.5, 0.25]
    assert not model[0]._forward_hooks


def test_quantize_linear_layers_keeps_the_last_layer_and_the_head_in_float(tiny_regressor_path):
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(tiny_regressor_path).eval()  # 2 layers
    inputs = {"input_ids": torch.tensor([[1, 5, 9, 2]]), "attention_mask": torch.ones(1, 4, dtype=torch.long)}
    with torch.inference_mode():
        exact = model(**inputs).logits

    quantize_linear_layers(model, [inputs])

    kinds = {name: type(module) for name, module in model.named_modules()}
    assert kinds["bert.encoder.layer.0.attention.self.query"] is SmoothedInt8Linear
    assert kinds["bert.encoder.layer.0.intermediate.dense"] is SmoothedInt8Linear
    assert kinds["bert.encoder.layer.0.output.dense"] is torch.nn.Linear  # reads the activation output
    assert kinds["bert.encoder.layer.1.output.dense"] is torch.nn.Linear
    assert kinds["bert.pooler.dense"] is torch.nn.Linear
    assert kinds["classifier"] is torch.nn.Linear
    with torch.inference_mode():
        assert torch.allclose(model(**inputs).logits, exact, atol=0.05 * float(exact.abs().max()))
