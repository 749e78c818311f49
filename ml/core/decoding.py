"""What one generation call asks of a decoder, and what every decoder answers.

``ml.core.generation.Generator`` tokenizes, batches and cuts answers; a decoder turns one batch
of token ids into new token ids. Two implement it: the plain ``TransformersDecoder``
(``model.generate``, in ``ml.core.generation``) and the accelerated ``CachedDecoder``
(``ml.core.accel.decoder``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import torch


@dataclass(frozen=True)
class Decoding:
    """How one ``generate`` call decodes: its length limit, sampling settings and random stream."""

    max_new_tokens: int
    temperature: float
    top_p: float
    sampler: torch.Generator


class Decoder(Protocol):
    def decode(self, batch: Sequence[list[int]], decoding: Decoding) -> list[list[int]]:
        """New token ids for each prompt of ``batch`` (unpadded prompt token ids), in batch order:
        at most ``decoding.max_new_tokens`` each; a row may run on past its first stop token,
        which the caller cuts at. Temperature 0 is greedy decoding."""
        ...
