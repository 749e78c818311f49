"""Few-rows linear layers compute what torch.nn.Linear computes, for any number of rows."""

from __future__ import annotations

import pytest
import torch

from ml.core.accel.few_rows_linear import FEW_ROWS, FewRowsLinear, use_few_rows_linears


@pytest.mark.parametrize("shape", [(1, 1, 24), (3, 5, 24), (FEW_ROWS + 1, 24)])
@pytest.mark.parametrize("bias", [True, False])
def test_matches_the_linear_layer_it_wraps(shape, bias):
    torch.manual_seed(0)
    linear = torch.nn.Linear(24, 40, bias=bias)
    x = torch.randn(*shape)

    with torch.inference_mode():
        assert torch.allclose(FewRowsLinear(linear)(x), linear(x), atol=1e-5)


def test_replaces_plain_linears_sharing_their_parameters():
    model = torch.nn.Sequential(
        torch.nn.Linear(4, 4), torch.nn.ReLU(), torch.nn.Sequential(torch.nn.Linear(4, 2))
    )
    weight = model[2][0].weight

    use_few_rows_linears(model)

    assert type(model[0]) is FewRowsLinear and type(model[2][0]) is FewRowsLinear
    assert model[2][0].weight is weight
    assert sum(1 for _ in model.parameters()) == 4
