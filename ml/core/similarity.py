"""Empathic similarity of two narratives with a sentence-transformers bi-encoder."""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch

from ml.core.device import resolve_device
from ml.core.errors import ModelLoadError


def to_scale(cosine: float, lo: float, hi: float) -> float:
    """Maps a cosine similarity onto a schema scale ``[lo, hi]`` (e.g. 1–4).

    Negative cosines are clipped to 0 first: for narratives, "opposite" embeddings carry no
    more meaning than unrelated ones, so both land on the bottom of the scale.
    """
    if hi < lo:
        raise ValueError(f"scale top {hi} is below its bottom {lo}")
    clipped = min(max(float(cosine), 0.0), 1.0)
    return lo + clipped * (hi - lo)


class PairSimilarity:
    """A ``SentenceTransformer`` loaded from a local folder; ``score`` gives cosine per pair."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        device: str | torch.device | None = None,
        batch_size: int = 64,
    ) -> None:
        from sentence_transformers import SentenceTransformer

        self.path = os.fspath(path)
        self.device = resolve_device(device)
        self.batch_size = batch_size
        if not os.path.isdir(self.path):
            raise ModelLoadError(f"{self.path} is not a folder")
        try:
            self.model = SentenceTransformer(self.path, device=str(self.device), local_files_only=True)
        except (OSError, ValueError, KeyError) as exc:
            raise ModelLoadError(f"cannot load a sentence encoder from {self.path}: {exc}") from exc
        self.model.eval()

    @torch.inference_mode()
    def score(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        """Cosine similarity in [-1, 1] of each (left, right) pair, in input order.

        Each distinct text is encoded once, even when it appears in many pairs.
        """
        if not pairs:
            return []
        unique = list(dict.fromkeys(text for pair in pairs for text in pair))
        embeddings = self.model.encode(
            unique, batch_size=self.batch_size, convert_to_tensor=True, normalize_embeddings=True
        ).float()
        position = {text: index for index, text in enumerate(unique)}
        left = embeddings[[position[a] for a, _ in pairs]]
        right = embeddings[[position[b] for _, b in pairs]]
        return (left * right).sum(dim=1).clamp(-1.0, 1.0).cpu().tolist()

    def score_on_scale(self, pairs: Sequence[tuple[str, str]], lo: float, hi: float) -> list[float]:
        """``score`` mapped through ``to_scale`` onto ``[lo, hi]``."""
        return [to_scale(value, lo, hi) for value in self.score(pairs)]
