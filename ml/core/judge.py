"""LLM-as-judge scorer: a chat model rates each response from several perspectives, 1 to 5.

The perspectives follow the multi-perspective view of empathy (PERM): the supporter's
resonation and expression, the seeker's reception, and a bystander's view of the overall
quality. The rubric wording is ours; researchers can pass their own.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping, Sequence

import torch

from ml.core.generation import Generator, ProgressCallback
from ml.core.scores import PERM_DIMENSIONS, ScoreResult, combine_columns

SCALE_LOW, SCALE_HIGH = 1, 5

RUBRICS: dict[str, str] = {
    "resonation": (
        "Judge RESONATION: does the supporter show they understand the seeker's situation and feelings? "
        "1 = ignores or misreads them; 2 = a vague or generic grasp; 3 = gets the main point; "
        "4 = understands the situation and the feelings behind it; 5 = understands deeply, including what was left unsaid."
    ),
    "expression": (
        "Judge EXPRESSION: how well is the support communicated? "
        "1 = cold, dismissive or hurtful; 2 = stiff or formulaic; 3 = polite and adequate; "
        "4 = warm, clear and fitting; 5 = warm, natural and well judged for this person."
    ),
    "reception": (
        "Judge RECEPTION: imagine you are the seeker. How would you feel after reading the reply? "
        "1 = worse or unheard; 2 = barely helped; 3 = somewhat supported; 4 = supported and understood; "
        "5 = truly comforted and cared for."
    ),
    "bystander": (
        "Judge as a neutral BYSTANDER the overall quality of the reply: is its content useful, is it "
        "logically organised and clear, is it concise, is it objective and fair, is what it says accurate? "
        "1 = poor on most of these; 2 = weak; 3 = acceptable; 4 = good; 5 = excellent on all of them."
    ),
}

SYSTEM_PROMPT = (
    "You rate replies in emotional-support conversations. Read the rubric, then answer with a "
    "single whole number from 1 to 5 and nothing else."
)

_NUMBER = r"(\d+(?:\.\d+)?)"
# Tried in order: an explicit label beats an "x/5" form, which beats the first bare number.
_PATTERNS = (
    re.compile(r"\b(?:score|rating|rated|grade)\b\s*(?:is|of|=|:)?\s*\**\s*" + _NUMBER, re.IGNORECASE),
    re.compile(_NUMBER + r"\s*(?:/|out\s+of)\s*5\b", re.IGNORECASE),
    # A bare number, but not the scale itself ("out of 5", "/5", "1-5").
    re.compile(r"(?<![\d.\-/])(?<!of )" + _NUMBER + r"(?!\d)(?!\s*[-\u2013]\s*\d)"),
)
_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
_WORD_PATTERN = re.compile(r"\b(one|two|three|four|five)\b", re.IGNORECASE)


def parse_judge_score(answer: str) -> float:
    """The 1–5 score in a judge's answer, or NaN when there is none.

    Accepts "4", "Score: 4", "**4**", "4/5", "3.5 out of 5", "I'd say four". A number outside
    1–5 is not clipped: it is treated as unparseable, since the model did not follow the scale.
    """
    for pattern in _PATTERNS:
        match = pattern.search(answer)
        if match:
            value = float(match.group(1))
            return value if SCALE_LOW <= value <= SCALE_HIGH else math.nan
    word = _WORD_PATTERN.search(answer)
    return float(_WORDS[word.group(1).lower()]) if word else math.nan


def build_judge_messages(perspective_rubric: str, text: str, context: str | None) -> list[dict[str, str]]:
    """The chat messages asking for one perspective's score of one reply."""
    situation = f"The seeker wrote:\n{context.strip()}\n\n" if context else ""
    user = (
        f"{perspective_rubric}\n\n{situation}The supporter replied:\n{text.strip()}\n\n"
        "Your score (1-5):"
    )
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


class LLMJudgeScorer:
    """Rates texts with a chat LLM, one prompt per (text, perspective), greedy decoding.

    ``generator`` is a model folder or an already loaded ``Generator`` (e.g. from the model
    cache). ``perspectives`` name the dimensions; each needs a rubric, from ``rubrics`` or the
    built-in ``RUBRICS``. Unparseable answers are NaN in ``per_dimension``, are left out of
    the reward, and are counted in ``ScoreResult.unparseable``.
    """

    def __init__(
        self,
        generator: str | os.PathLike[str] | Generator,
        perspectives: Sequence[str] = PERM_DIMENSIONS,
        combine: str = "mean",
        weights: Sequence[float] | Mapping[str, float] | None = None,
        *,
        rubrics: Mapping[str, str] | None = None,
        device: str | torch.device | None = None,
        batch_size: int = 16,
        max_new_tokens: int = 8,
    ) -> None:
        self.generator = generator if isinstance(generator, Generator) else Generator(generator, device=device)
        self.dimensions = tuple(perspectives)
        known = {**RUBRICS, **(rubrics or {})}
        missing = [name for name in self.dimensions if name not in known]
        if missing:
            raise ValueError(f"no rubric for perspective(s) {', '.join(missing)}")
        self.rubrics = {name: known[name] for name in self.dimensions}
        self.combine_rule = combine
        self.weights = weights
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens
        self.last_answers: list[str] = []  # raw answers of the last call, kept for inspection

    def score(
        self,
        texts: Sequence[str],
        contexts: Sequence[str] | None = None,
        *,
        on_batch: ProgressCallback | None = None,
    ) -> ScoreResult:
        """Scores ``texts`` from every perspective; results keep the order of ``texts``."""
        if contexts is not None and len(contexts) != len(texts):
            raise ValueError(f"{len(contexts)} contexts for {len(texts)} texts")
        prompts = [
            build_judge_messages(self.rubrics[name], text, None if contexts is None else contexts[i])
            for name in self.dimensions
            for i, text in enumerate(texts)
        ]
        answers = [
            result.text
            for result in self.generator.generate(
                prompts,
                max_new_tokens=self.max_new_tokens,
                temperature=0.0,
                batch_size=self.batch_size,
                on_batch=on_batch,
            )
        ]
        self.last_answers = answers
        return self.score_answers(answers, len(texts))

    def score_answers(self, answers: Sequence[str], count: int, parse: Callable[[str], float] = parse_judge_score) -> ScoreResult:
        """Turns raw answers (perspective-major: all texts for the first perspective, then the next)
        into a ``ScoreResult``."""
        if len(answers) != count * len(self.dimensions):
            raise ValueError(f"{len(answers)} answers for {count} texts x {len(self.dimensions)} perspectives")
        values = [parse(answer) for answer in answers]
        per_dimension = {name: values[d * count : (d + 1) * count] for d, name in enumerate(self.dimensions)}
        reward = combine_columns(per_dimension, self.combine_rule, self.weights)
        unparseable = sum(1 for value in values if math.isnan(value))
        return ScoreResult(per_dimension=per_dimension, reward=reward, unparseable=unparseable, dimensions=self.dimensions)
