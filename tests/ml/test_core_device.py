"""Device and precision choice."""

from __future__ import annotations

import pytest
import torch

from ml.core.device import default_dtype, resolve_device
from ml.core.errors import DeviceUnavailable


@pytest.mark.parametrize("setting", [None, "", "auto", " AUTO "])
def test_automatic_choice_prefers_cuda_then_cpu(setting):
    expected = "cuda" if torch.cuda.is_available() else None
    device = resolve_device(setting)
    if expected:
        assert device.type == expected
    else:
        assert device.type in {"cpu", "mps"}


def test_explicit_cpu_is_honoured():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this host has CUDA")
def test_asking_for_cuda_without_it_fails_loudly_instead_of_falling_back():
    with pytest.raises(DeviceUnavailable, match="no usable CUDA"):
        resolve_device("cuda:0")


def test_nonsense_device_names_are_refused():
    with pytest.raises(DeviceUnavailable):
        resolve_device("gpu-please")


def test_cpu_runs_in_float32():
    assert default_dtype(torch.device("cpu")) is torch.float32
