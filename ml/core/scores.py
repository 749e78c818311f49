"""Score containers and the rules that combine per-dimension scores into one reward.

Pure Python: no torch, so the rules can be reused in analysis code and tested by hand.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

PERM_DIMENSIONS: tuple[str, ...] = ("resonation", "expression", "reception", "bystander")
COMBINE_RULES = ("mean", "weighted", "geometric", "harmonic")


@dataclass(frozen=True)
class ScoreResult:
    """Scores for a list of texts, in the order given.

    ``per_dimension[name][i]`` is text i's score on that dimension (NaN when it could not be
    obtained); ``reward[i]`` combines text i's dimensions; ``unparseable`` counts the judge
    answers that held no score (always 0 for a reward model).
    """

    per_dimension: dict[str, list[float]]
    reward: list[float]
    unparseable: int = 0
    dimensions: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.dimensions:
            object.__setattr__(self, "dimensions", tuple(self.per_dimension))


class Scorer(Protocol):
    """What every scorer offers: scores per dimension and a reward for each text.

    ``contexts[i]``, when given, is what text i answers (the seeker's post or the dialogue).
    """

    dimensions: tuple[str, ...]

    def score(self, texts: Sequence[str], contexts: Sequence[str] | None = None) -> ScoreResult: ...


def combine(
    scores: Sequence[float],
    rule: str = "mean",
    weights: Sequence[float] | Mapping[str, float] | None = None,
    *,
    names: Sequence[str] | None = None,
) -> float:
    """Combines one text's per-dimension scores into a single number.

    rules: ``mean`` (arithmetic), ``weighted`` (weighted arithmetic; weights required),
    ``geometric`` and ``harmonic`` (weights optional; scores must be > 0, as on a 1–5 scale).
    NaN scores are left out and the remaining weights renormalized; all NaN gives NaN.
    ``weights`` is a sequence aligned with ``scores`` or a mapping by dimension name (then
    ``names`` gives each score's dimension; a missing name weighs 0).
    """
    if rule not in COMBINE_RULES:
        raise ValueError(f"unknown combine rule {rule!r}; expected one of {', '.join(COMBINE_RULES)}")
    if rule == "weighted" and weights is None:
        raise ValueError("the weighted rule needs weights")
    aligned = _aligned_weights(len(scores), weights, names)
    kept = [(float(s), w) for s, w in zip(scores, aligned, strict=True) if not math.isnan(float(s)) and w > 0]
    if not kept:
        return math.nan
    total = sum(w for _, w in kept)
    if rule in {"mean", "weighted"}:
        return sum(s * w for s, w in kept) / total
    if any(s <= 0 for s, _ in kept):
        raise ValueError(f"the {rule} mean needs positive scores; got {[s for s, _ in kept]}")
    if rule == "geometric":
        return math.exp(sum(w * math.log(s) for s, w in kept) / total)
    return total / sum(w / s for s, w in kept)


def _aligned_weights(
    count: int, weights: Sequence[float] | Mapping[str, float] | None, names: Sequence[str] | None
) -> list[float]:
    if weights is None:
        return [1.0] * count
    if isinstance(weights, Mapping):
        if names is None or len(names) != count:
            raise ValueError("weights given by name need one name per score")
        aligned = [float(weights.get(name, 0.0)) for name in names]
    else:
        aligned = [float(w) for w in weights]
        if len(aligned) != count:
            raise ValueError(f"{len(aligned)} weights for {count} scores")
    if any(w < 0 or math.isnan(w) for w in aligned):
        raise ValueError("weights must be non-negative numbers")
    return aligned


def combine_columns(
    per_dimension: Mapping[str, Sequence[float]],
    rule: str = "mean",
    weights: Sequence[float] | Mapping[str, float] | None = None,
) -> list[float]:
    """Applies ``combine`` row by row to equally long per-dimension columns."""
    names = list(per_dimension)
    columns = [per_dimension[name] for name in names]
    if not columns:
        return []
    rows = zip(*columns, strict=True)
    return [combine(row, rule, weights, names=names) for row in rows]
