"""Choosing where models run and in which precision.

The setting string comes from configuration (e.g. ``RESONANCE_ML_DEVICE``): empty, ``None`` or
``"auto"`` picks the best device present; anything else is taken literally and checked.
"""

from __future__ import annotations

import torch

from ml.core.errors import DeviceUnavailable

AUTO_SETTINGS = {"", "auto"}


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def resolve_device(setting: str | torch.device | None = None) -> torch.device:
    """Returns the device to run on.

    ``None``/``""``/``"auto"``: CUDA if present, else Apple MPS, else CPU. An explicit setting
    (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``) is honoured, but raises ``DeviceUnavailable``
    when that device is absent, rather than silently falling back to a slower one.
    """
    if isinstance(setting, torch.device):
        device = setting
    else:
        text = (setting or "").strip().lower()
        if text in AUTO_SETTINGS:
            if torch.cuda.is_available():
                return torch.device("cuda")
            if _mps_available():
                return torch.device("mps")
            return torch.device("cpu")
        try:
            device = torch.device(text)
        except RuntimeError as exc:
            raise DeviceUnavailable(f"{setting!r} is not a device name torch understands") from exc
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceUnavailable(f"{device} was asked for but this host has no usable CUDA device")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise DeviceUnavailable(f"{device} was asked for but only {torch.cuda.device_count()} CUDA devices exist")
    elif device.type == "mps" and not _mps_available():
        raise DeviceUnavailable("mps was asked for but Apple MPS is not available here")
    elif device.type not in {"cpu", "cuda", "mps"}:
        raise DeviceUnavailable(f"{device.type} devices are not supported")
    return device


def default_dtype(device: torch.device) -> torch.dtype:
    """bfloat16 on CUDA (float16 on GPUs without bf16), float32 elsewhere.

    CPU and MPS stay in float32: half-precision matmuls there are slow or inexact.
    """
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def free_accelerator_memory(device: torch.device) -> None:
    """Returns cached blocks to the allocator after an OOM or an eviction (no-op on CPU)."""
    if device.type == "cuda":
        torch.cuda.empty_cache()
    elif device.type == "mps" and _mps_available():
        torch.mps.empty_cache()
