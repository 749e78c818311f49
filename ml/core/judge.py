"""LLM-as-judge scorer: a chat model rates each response from several perspectives, 1 to 5.

The perspectives follow the multi-perspective view of empathy (PERM): the supporter's
resonation and expression, the seeker's reception, and a bystander's view of the overall
quality. The rubric wording is ours; researchers can pass their own.

Two ways to read a score (``mode``):

* ``expected`` (what jobs use): one forward pass per prompt, and the expected score under the
  model's next-token distribution restricted to the scale's tokens "1".."5",
  ``sum_k k * p(k) / sum_k p(k)``. Continuous, never unparseable, and far more informative
  from a small model, whose greedy answer is often the same digit for everything.
* ``parsed``: greedy generation, then :func:`parse_judge_score` on the text (NaN when the
  answer holds no score on the scale).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping, Sequence

import torch

from ml.core.errors import Cancelled
from ml.core.generation import Generator, ProgressCallback
from ml.core.scores import PERM_DIMENSIONS, ScoreResult, combine_columns

SCALE_LOW, SCALE_HIGH = 1, 5
MODES = ("expected", "parsed")

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
    # Named after the five bystander sub-dimensions of the PERM preset
    # (annotations/presets/multi_perspective_empathy.yaml), each also a perspective of its own below.
    "bystander": (
        "Judge as a neutral BYSTANDER the overall quality of the reply on five aspects: content effectiveness "
        "(is the content useful), logical clarity (clear and well structured), communication efficiency "
        "(says what it needs to without padding), objectivity (balanced and free of judgement), and accuracy "
        "(is any information it gives accurate). "
        "1 = poor on most of the five; 2 = weak on several; 3 = acceptable on all; 4 = good on all; "
        "5 = excellent on all five."
    ),
    "content_effectiveness": (
        "Judge as a neutral BYSTANDER the CONTENT EFFECTIVENESS of the reply: how useful is what it says for "
        "the seeker's problem? 1 = useless; 2 = little use; 3 = of some use; 4 = useful; 5 = very useful."
    ),
    "logical_clarity": (
        "Judge as a neutral BYSTANDER the LOGICAL CLARITY of the reply: is it clear and well structured? "
        "1 = confused; 2 = hard to follow; 3 = followable; 4 = clear; 5 = very clear and well ordered."
    ),
    "communication_efficiency": (
        "Judge as a neutral BYSTANDER the COMMUNICATION EFFICIENCY of the reply: does it say what it needs to "
        "without padding? 1 = rambling; 2 = wordy; 3 = acceptable; 4 = concise; 5 = concise and complete."
    ),
    "objectivity": (
        "Judge as a neutral BYSTANDER the OBJECTIVITY of the reply: is it balanced and free of judgement? "
        "1 = judgemental; 2 = one-sided; 3 = mostly fair; 4 = balanced; 5 = balanced and respectful throughout."
    ),
    "accuracy": (
        "Judge as a neutral BYSTANDER the ACCURACY of the reply: is any information in it accurate? "
        "1 = misleading; 2 = partly wrong; 3 = mostly right; 4 = accurate; 5 = accurate and careful."
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


PAIRWISE_PROMPT = (
    "You compare two replies in an emotional-support conversation. Answer 1 if the first reply is more "
    "empathic and helpful, 2 if the second is, and nothing else."
)


def build_pairwise_messages(first: str, second: str, context: str | None) -> list[dict[str, str]]:
    """The chat messages asking which of two replies is better (the order given is the order shown)."""
    situation = f"The seeker wrote:\n{context.strip()}\n\n" if context else ""
    user = f"{situation}Reply 1:\n{first.strip()}\n\nReply 2:\n{second.strip()}\n\nThe better reply (1 or 2):"
    return [{"role": "system", "content": PAIRWISE_PROMPT}, {"role": "user", "content": user}]


class LLMJudgeScorer:
    """Rates texts with a chat LLM, one prompt per (text, perspective), greedy decoding.

    ``generator`` is a model folder or an already loaded ``Generator`` (e.g. from the model
    cache). ``perspectives`` name the dimensions; each needs a rubric, from ``rubrics`` (a
    mapping, or name–rubric pairs so that the model cache can key on them) or the built-in
    ``RUBRICS``. ``mode`` is ``parsed`` or ``expected`` (module docstring). ``acceleration``
    applies to a generator loaded here (see ``Generator``). Unparseable answers
    are NaN in ``per_dimension``, are left out of the reward, and are counted in
    ``ScoreResult.unparseable``.
    """

    def __init__(
        self,
        generator: str | os.PathLike[str] | Generator,
        perspectives: Sequence[str] = PERM_DIMENSIONS,
        combine: str = "mean",
        weights: Sequence[float] | Mapping[str, float] | None = None,
        *,
        rubrics: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
        device: str | torch.device | None = None,
        batch_size: int = 16,
        max_new_tokens: int = 8,
        mode: str = "parsed",
        acceleration: str = "auto",
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.mode = mode
        self.generator = (
            generator
            if isinstance(generator, Generator)
            else Generator(generator, device=device, acceleration=acceleration)
        )
        self.dimensions = tuple(perspectives)
        known = {**RUBRICS, **dict(rubrics or {})}
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
        if self.mode == "expected":
            values = self.expected_scores(prompts, on_batch=on_batch)
            self.last_answers = [f"{value:.3f}" for value in values]
            return self.score_values(values, len(texts))
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
        return self.score_values([parse(answer) for answer in answers], count)

    def score_values(self, values: Sequence[float], count: int) -> ScoreResult:
        """Perspective-major scores (NaN: none) as a ``ScoreResult``."""
        per_dimension = {name: values[d * count : (d + 1) * count] for d, name in enumerate(self.dimensions)}
        reward = combine_columns(per_dimension, self.combine_rule, self.weights)
        unparseable = sum(1 for value in values if math.isnan(value))
        return ScoreResult(per_dimension=per_dimension, reward=reward, unparseable=unparseable, dimensions=self.dimensions)

    def scale_token_ids(self) -> list[int]:
        """The token of each scale point "1".."5"; ValueError when a digit is not one token."""
        ids = []
        for point in range(SCALE_LOW, SCALE_HIGH + 1):
            encoded = self.generator.tokenizer.encode(str(point), add_special_tokens=False)
            if len(encoded) != 1:
                raise ValueError(f"the judge's tokenizer splits {point!r} into {len(encoded)} tokens")
            ids.append(encoded[0])
        return ids

    def scale_probabilities(self, prompts: Sequence, *, on_batch: ProgressCallback | None = None) -> torch.Tensor:
        """``(prompts, 5)``: the next-token probabilities of "1".."5" after each prompt, renormalised over them."""
        return self.token_probabilities(prompts, self.scale_token_ids(), on_batch=on_batch)

    def prefer_first(
        self, contexts: Sequence[str | None], firsts: Sequence[str], seconds: Sequence[str], *,
        on_batch: ProgressCallback | None = None,
    ) -> list[float]:
        """For each (context, first reply, second reply): the judge's probability that the first is
        better, from its next-token probabilities of "1" and "2" (renormalised over the two)."""
        if not len(contexts) == len(firsts) == len(seconds):
            raise ValueError("contexts, firsts and seconds must be equally long")
        prompts = [build_pairwise_messages(first, second, context)
                   for context, first, second in zip(contexts, firsts, seconds, strict=True)]
        tokens = self.scale_token_ids()[:2]
        return self.token_probabilities(prompts, tokens, on_batch=on_batch)[:, 0].tolist()

    @torch.inference_mode()
    def token_probabilities(
        self, prompts: Sequence, token_ids: Sequence[int], *, on_batch: ProgressCallback | None = None
    ) -> torch.Tensor:
        """``(prompts, tokens)``: next-token probabilities of ``token_ids`` after each prompt, renormalised over them."""
        tokens = torch.tensor(list(token_ids))
        generator = self.generator
        encoded = [generator.encode(prompt) for prompt in prompts]
        out = torch.empty((len(prompts), tokens.numel()), dtype=torch.float64)
        order = sorted(range(len(encoded)), key=lambda i: -len(encoded[i]))
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            padded = generator.tokenizer.pad({"input_ids": [encoded[i] for i in batch]}, return_tensors="pt")
            mask = padded["attention_mask"].to(generator.device)
            positions = (mask.cumsum(-1) - 1).clamp(min=0)
            logits = generator.model(
                input_ids=padded["input_ids"].to(generator.device), attention_mask=mask, position_ids=positions
            ).logits[:, -1, :]
            chosen = logits.float().log_softmax(-1)[:, tokens.to(logits.device)].double()
            out[batch] = chosen.softmax(-1).cpu()
            if on_batch is not None and on_batch(min(start + len(batch), len(order)), len(order)) is False:
                raise Cancelled(f"judging stopped after {start + len(batch)} of {len(order)} prompts")
        return out

    def expected_scores(self, prompts: Sequence, *, on_batch: ProgressCallback | None = None) -> list[float]:
        """The expected scale point after each prompt (see the module docstring)."""
        points = torch.arange(SCALE_LOW, SCALE_HIGH + 1, dtype=torch.float64)
        return (self.scale_probabilities(prompts, on_batch=on_batch) @ points).tolist()
