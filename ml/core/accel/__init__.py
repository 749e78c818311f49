"""The speed-ups of ml.core, behind one seam: ``accelerate_generator`` and ``accelerate_scorer``.

The plain path (transformers' ``model.generate``, the classifier's own forward, float weights)
lives in ``ml.core.generation`` and ``ml.core.reward_model`` and is always there. Acceleration,
chosen by one setting (``ACCELERATIONS``: ``auto`` accelerates where it can, ``off`` runs the
plain path), replaces parts of a loaded model or drives it with our own loop:

- generation: our decoding loop (shared-prefix prefill, in-place KV cache, finished rows leave
  the batch; ``decoder``, ``kv_cache``) and, on CPU, linear layers faster at few rows
  (``few_rows_linear``); greedy answers are token for token ``model.generate``'s;
- scoring: a last encoder layer that computes only the token the head reads
  (``first_token_head``; the same outputs to float rounding) and, when asked, int8 linear
  layers planned from a calibration run (``quantization``, ``quantization_plan``; rankings
  kept to Spearman >= 0.99).

bench/generation.py and bench/scoring.py print what each gains.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import torch

from ml.core.accel.decoder import CachedDecoder, cache_argument
from ml.core.accel.few_rows_linear import use_few_rows_linears
from ml.core.accel.first_token_head import last_layer_computes_first_token_only
from ml.core.accel.quantization import quantize_linear_layers
from ml.core.accel.quantization_plan import QuantizationPlan

ACCELERATIONS = ("auto", "off")


def accelerating(setting: str) -> bool:
    """Whether an acceleration setting asks for the accelerated path; ValueError for an unknown one."""
    if setting not in ACCELERATIONS:
        raise ValueError(f"acceleration must be one of {', '.join(ACCELERATIONS)}, not {setting!r}")
    return setting == "auto"


def accelerate_generator(
    model: torch.nn.Module, *, pad_token_id: int, stop_token_ids: set[int]
) -> CachedDecoder | None:
    """Speeds a loaded causal LM up: on CPU its linear layers become few-rows ones (in place, the
    same results); returns our decoder for it, or None when its forward cannot be driven by ours
    (then ``model.generate`` decodes, on the model as changed here)."""
    if model.device.type == "cpu":
        use_few_rows_linears(model)
    if cache_argument(model) is None:
        return None
    return CachedDecoder(model, pad_token_id=pad_token_id, stop_token_ids=stop_token_ids)


def accelerate_scorer(
    model: torch.nn.Module, *, int8_calibration: Iterable[Mapping[str, torch.Tensor]] | None = None
) -> QuantizationPlan | None:
    """Speeds a loaded (float32, CPU, when quantizing) sequence classifier up, in place: its last
    layer computes only the first token where the head reads only that one; with
    ``int8_calibration`` (model inputs, one text each) its per-token linear layers become int8.
    Returns the int8 plan, or None without int8."""
    last_layer_computes_first_token_only(model)
    if int8_calibration is None:
        return None
    return quantize_linear_layers(model, int8_calibration)
