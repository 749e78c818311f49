"""Score containers and the rules that combine per-dimension scores into one reward.

Pure Python: no torch, so the rules can be reused in analysis code and tested by hand.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ml.core.errors import ParamError

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


# A judge whose scores barely move says nothing about the texts, whatever its mean.
MIN_SPREAD = 0.05  # standard deviation on the 1–5 scale
MAX_UNPARSEABLE_SHARE = 0.10


def score_health(
    per_dimension: Mapping[str, Sequence[float | None]],
    *,
    answers: int | None = None,
    unparseable: int = 0,
    min_spread: float = MIN_SPREAD,
    max_unparseable_share: float = MAX_UNPARSEABLE_SHARE,
) -> dict:
    """Whether a scoring run's scores are usable: ``{"degenerate", "warnings", "unparseable_share",
    "by_dimension": {name: {"n", "std", "distinct"}}}``.

    A dimension is degenerate when two or more scores have a (population) standard deviation
    below ``min_spread``, as when a judge answers "1" to everything; the run is degenerate too
    when more than ``max_unparseable_share`` of ``answers`` (default: every score slot) held no
    score. ``None`` and NaN are missing scores.
    """
    warnings: list[str] = []
    by_dimension = {}
    slots = 0
    for name, values in per_dimension.items():
        kept = [float(v) for v in values if v is not None and not math.isnan(float(v))]
        slots += len(values)
        std = _population_std(kept) if kept else None
        by_dimension[name] = {"n": len(kept), "std": std, "distinct": len(set(kept))}
        if len(kept) >= 2 and std is not None and std < min_spread:
            warnings.append(
                f"{name}: every score is about {kept[0]:g} (standard deviation {std:.3f}); "
                "the scores do not tell the texts apart"
            )
    total = answers if answers is not None else slots
    share = unparseable / total if total else 0.0
    if share > max_unparseable_share:
        warnings.append(f"{share:.0%} of the judge's answers held no score (above {max_unparseable_share:.0%})")
    return {"degenerate": bool(warnings), "warnings": warnings, "unparseable_share": share, "by_dimension": by_dimension}


def _population_std(values: Sequence[float]) -> float:
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


JUDGE_MODES = ("expected", "parsed")
MAX_RUBRIC_CHARS = 4000


def judge_param_clean(name: str, value):
    """A judge job's ``judge_mode`` or ``rubrics`` parameter, checked; ``ParamError`` names ``params.<name>``.

    ``rubrics`` maps perspective names to rubric texts (each non-empty, at most
    :data:`MAX_RUBRIC_CHARS` characters); they replace the built-in rubric of that perspective.
    """
    if name == "judge_mode":
        if value not in JUDGE_MODES:
            raise ParamError("params.judge_mode", f"must be one of {', '.join(JUDGE_MODES)}")
        return value
    if name == "rubrics":
        if not isinstance(value, Mapping) or not value:
            raise ParamError("params.rubrics", "must map perspective names to rubric texts")
        clean = {}
        for perspective, text in value.items():
            if not isinstance(perspective, str) or not perspective.strip() or perspective.strip() == "reward":
                raise ParamError("params.rubrics", "perspective names must be non-empty and not 'reward'")
            if not isinstance(text, str) or not text.strip() or len(text) > MAX_RUBRIC_CHARS:
                raise ParamError(f"params.rubrics.{perspective}",
                                 f"must be a non-empty text of at most {MAX_RUBRIC_CHARS} characters")
            clean[perspective.strip()] = text.strip()
        return clean
    raise ParamError(f"params.{name}", "is not a judge parameter")
