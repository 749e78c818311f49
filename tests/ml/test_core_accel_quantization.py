"""int8 linear layers: per-token scales, SmoothQuant smoothing, no int16 overflow without VNNI."""

from __future__ import annotations

import pytest
import torch

from ml.core.accel.first_token_head import last_layer_computes_first_token_only
from ml.core.accel.quantization import (
    SharedInputProduct,
    SharedInputSlice,
    SmoothedInt8Linear,
    cpu_has_int8_dot_product,
    quantize_linear_layers,
    smoothing_factors,
)
from ml.core.accel.quantization_plan import plan_quantization


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


def test_a_shared_product_answers_each_layer_as_the_layer_alone_would():
    torch.manual_seed(0)
    linears = [torch.nn.Linear(96, 48), torch.nn.Linear(96, 32), torch.nn.Linear(96, 48)]
    # 8-bit weights only where the CPU sums int8 products in int32 (elsewhere int16 sums overflow).
    levels = 127 if cpu_has_int8_dot_product() else 63
    shared = SharedInputProduct(linears, None, weight_levels=levels)
    slices = [SharedInputSlice(shared, 0, 48), SharedInputSlice(shared, 48, 80), SharedInputSlice(shared, 80, 128)]
    x, other = activations_with_outliers(), activations_with_outliers(tokens=8)

    with torch.inference_mode():
        outputs = [piece(x) for piece in slices]
        assert shared._input is None  # all three took theirs: the activations are let go
        alone = slices[1](other)  # a tensor the others were not given
        for linear, out in zip(linears, outputs, strict=True):
            # the same numbers as the layer converted on its own (same per-token and per-channel scales)
            assert torch.allclose(out, SmoothedInt8Linear(linear, None, weight_levels=levels)(x), atol=1e-4)
            assert per_row_error(out, linear(x)).max() < 0.05
        assert per_row_error(alone, linears[1](other)).max() < 0.05


def tiny_bert_inputs():
    return [{"input_ids": torch.tensor([[1, 5, 9, 7, 2]]), "attention_mask": torch.ones(1, 5, dtype=torch.long)},
            {"input_ids": torch.tensor([[1, 4, 2]]), "attention_mask": torch.ones(1, 3, dtype=torch.long)}]


def tiny_first_token_regressor(path):
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(path).eval()  # 2 layers
    assert last_layer_computes_first_token_only(model)
    return model


def test_the_plan_is_read_off_what_each_layer_computes(tiny_regressor_path):
    model = tiny_first_token_regressor(tiny_regressor_path)

    plan = plan_quantization(model, tiny_bert_inputs(), include_down_projections=True)

    first, last = "bert.encoder.layer.0.", "bert.encoder.layer.1.layer."
    assert plan.groups == [
        [f"{first}attention.self.{part}" for part in ("query", "key", "value")],  # read the same tensor
        [f"{first}attention.output.dense"], [f"{first}intermediate.dense"], [f"{first}output.dense"],
        [f"{last}attention.self.key", f"{last}attention.self.value"],  # the query reads the first token only
    ]
    one_row = {f"{last}attention.self.query", f"{last}attention.output.dense", f"{last}intermediate.dense",
               f"{last}output.dense", "bert.pooler.dense", "classifier"}
    assert plan.kept_float == dict.fromkeys(one_row, "computes one row per text")
    assert plan.unsmoothed == {f"{first}output.dense"}
    # The largest input of each channel over both texts: the embeddings' LayerNorm output, here.
    with torch.inference_mode():
        embedded = [model.bert.embeddings(input_ids=batch["input_ids"]) for batch in tiny_bert_inputs()]
    expected = torch.maximum(*(e.abs().amax(dim=(0, 1)) for e in embedded))
    assert torch.allclose(plan.channel_max[f"{first}attention.self.query"], expected)
    assert not any(module._forward_hooks for module in model.modules())


def test_down_projections_stay_float32_where_weights_keep_only_seven_bits(tiny_regressor_path):
    plan = plan_quantization(tiny_first_token_regressor(tiny_regressor_path), tiny_bert_inputs(),
                             include_down_projections=False)

    assert plan.kept_float["bert.encoder.layer.0.output.dense"] == (
        "feed-forward down projection, and this CPU keeps only 7-bit weights")
    assert ["bert.encoder.layer.0.output.dense"] not in plan.groups


def test_planning_needs_calibration_texts(tiny_regressor_path):
    with pytest.raises(ValueError, match="at least one calibration batch"):
        plan_quantization(tiny_first_token_regressor(tiny_regressor_path), [], include_down_projections=True)


@pytest.mark.parametrize("int8_dot_product", [
    pytest.param(True, marks=pytest.mark.skipif(not cpu_has_int8_dot_product(),
                                                reason="8-bit weights overflow int16 sums on a CPU without VNNI/AMX")),
    False,
])
def test_quantize_linear_layers_converts_as_planned_and_keeps_the_outputs(tiny_regressor_path, int8_dot_product):
    model = tiny_first_token_regressor(tiny_regressor_path)
    inputs = tiny_bert_inputs()[0]
    with torch.inference_mode():
        exact = model(**inputs).logits

    plan = quantize_linear_layers(model, tiny_bert_inputs(), int8_dot_product=int8_dot_product)

    kinds = {name: type(module) for name, module in model.named_modules()}
    for group in plan.groups:
        assert {kinds[name] for name in group} == ({SharedInputSlice} if len(group) > 1 else {SmoothedInt8Linear})
    for name in plan.kept_float:
        assert kinds[name] is torch.nn.Linear
    levels = 127 if int8_dot_product else 63
    query = model.get_submodule("bert.encoder.layer.0.attention.self.query")
    weight, _bias = torch.ops.quantized.linear_unpack(query.shared.linear._packed)
    assert int(weight.int_repr().abs().max()) == levels
    with torch.inference_mode():
        assert torch.allclose(model(**inputs).logits, exact, atol=0.05 * float(exact.abs().max()))
