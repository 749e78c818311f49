"""Reward model scorer: a transformer with a regression head, one output per dimension."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence

import torch

from ml.core.accel import accelerate_scorer, accelerating
from ml.core.batching import order_by_length, padding_groups, run_splitting_on_oom
from ml.core.device import default_dtype, free_accelerator_memory, resolve_device
from ml.core.errors import ModelLoadError
from ml.core.scores import PERM_DIMENSIONS, ScoreResult, combine_columns

# Generic texts of the kinds scored here (replies, disclosures, off-topic chat), for measuring
# activation ranges before int8 quantization; outlier channels are a property of the model,
# so they need not be the texts being scored.
CALIBRATION_TEXTS = (
    "I'm so sorry about your grandmother. It sounds like she meant the world to you.",
    "My dog chewed through the couch while I was at work, and now my landlord is angry.",
    "Have you tried talking to your manager about how much work you have been given?",
    "That must have been terrifying. I'm really glad you are safe now.",
    "We moved to a new city in March and I still don't know anyone here.",
    "Congratulations on the new baby! How are you all sleeping?",
    "I don't think you understand how hard this year has been for me.",
    "The weather has been awful, rain every single day this month.",
    "Honestly, it sounds like you did everything you could. Be gentle with yourself.",
    "I failed the exam even though I studied for weeks, and I feel like giving up.",
    "Thank you for listening, it really means a lot to me.",
    "Just ignore them, people are like that and there is nothing you can do.",
    "Could you tell me more about what happened after the doctor called?",
    "I feel so proud of my daughter for finishing her degree while working two jobs.",
    "The project was cancelled and half of the team was let go on Friday.",
    "Maybe write down a plan for the week and call the bank about the payment.",
    "lol that game last night was wild, did you see the last five minutes?",
    "It's okay to feel lost. Grief doesn't follow a schedule, and you are not alone in this.",
    "My brother hasn't spoken to me since the wedding and I don't know how to fix it.",
    "You should just get over it, everyone has problems.",
    "I finally told my parents that I'm changing careers, and they were supportive!",
    "When my father got sick I had to take care of everything on my own.",
    "What would help you most right now: talking it through, or a distraction?",
    "The new phone has a great camera but the battery dies by the afternoon.",
)

# Batches hold up to ``batch_size`` texts of similar length, cut where padding would cost more
# than one more forward pass, which costs about this many token positions (``padding_groups``).
SCORING_GROUP_COST = 64


class RewardModelScorer:
    """Scores texts with ``AutoModelForSequenceClassification`` (regression, one label per dimension).

    A folder holding a bare encoder gets a freshly initialised head (useful only as a starting
    point for training or for timing). When the checkpoint names its labels (``id2label``)
    and they are the dimensions, outputs are matched by name; otherwise by position.
    ``acceleration`` ``auto`` lets ``ml.core.accel`` speed the model up (the same outputs to float
    rounding), ``off`` runs the classifier's own forward as loaded. ``quantize=True`` (accelerated
    only) computes the per-token linear layers in int8, CPU only: faster there, with rankings
    nearly unchanged (see ``ml.core.accel.quantization`` and bench/scoring.py); its activation
    ranges are calibrated on ``CALIBRATION_TEXTS``. ``reward`` combines the dimensions with
    ``combine_rule`` (see ``ml.core.scores.combine``).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        dimensions: Sequence[str] = PERM_DIMENSIONS,
        batch_size: int = 32,
        quantize: bool = False,
        *,
        device: str | torch.device | None = None,
        max_length: int = 512,
        combine_rule: str = "mean",
        weights: Sequence[float] | Mapping[str, float] | None = None,
        acceleration: str = "auto",
    ) -> None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self.path = os.fspath(path)
        self.dimensions = tuple(dimensions)
        self.batch_size = batch_size
        self.max_length = max_length
        self.combine_rule = combine_rule
        self.weights = weights
        self.device = resolve_device(device)
        if quantize and self.device.type != "cpu":
            raise ValueError("int8 dynamic quantization runs on CPU only; use quantize=False on an accelerator")
        accelerate = accelerating(acceleration)
        if quantize and not accelerate:
            raise ValueError("int8 is part of the accelerated path; acceleration 'off' computes in float")
        try:
            from transformers import AutoConfig

            # A model trained on soft labels (ml.core.training) has one logit per scale point and
            # dimension; its score is the expectation over the points.
            self.soft_labels = getattr(AutoConfig.from_pretrained(self.path), "resonance_soft_labels", None)
            width = sum(len(points) for points in self.soft_labels.values()) if self.soft_labels else len(self.dimensions)
            self.tokenizer = AutoTokenizer.from_pretrained(self.path)
            model = AutoModelForSequenceClassification.from_pretrained(
                self.path,
                num_labels=width,
                problem_type="regression",
                dtype=default_dtype(self.device),
            )
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise ModelLoadError(f"cannot load a reward model from {self.path}: {exc}") from exc
        if model.config.pad_token_id is None and self.tokenizer.pad_token_id is not None:
            model.config.pad_token_id = self.tokenizer.pad_token_id  # LM-based heads pick the last non-pad token
        model.eval()
        self.quantization_plan = (
            accelerate_scorer(model, int8_calibration=self._calibration_batches() if quantize else None)
            if accelerate
            else None
        )
        self.model = model.to(self.device)
        self.output_columns = (self._output_columns(dict(enumerate(self.soft_labels))) if self.soft_labels
                               else self._output_columns(model.config.id2label))

    def _calibration_batches(self) -> list[dict[str, torch.Tensor]]:
        """Model inputs for measuring activation ranges before quantization: one generic text
        each, so padding never counts and a tokenizer without a pad token works."""
        return [
            dict(self.tokenizer(text, truncation=True, return_tensors="pt")) for text in CALIBRATION_TEXTS
        ]

    def _output_columns(self, id2label: Mapping[int, str] | None) -> list[int]:
        """Which model output feeds each dimension."""
        labels = {str(name): int(index) for index, name in (id2label or {}).items()}
        if set(self.dimensions) <= set(labels):
            return [labels[name] for name in self.dimensions]
        return list(range(len(self.dimensions)))

    def score(self, texts: Sequence[str], contexts: Sequence[str] | None = None) -> ScoreResult:
        """Scores ``texts`` (each optionally paired with ``contexts[i]``); order is kept."""
        if contexts is not None and len(contexts) != len(texts):
            raise ValueError(f"{len(contexts)} contexts for {len(texts)} texts")
        encoded = [self._encode(text, None if contexts is None else contexts[i]) for i, text in enumerate(texts)]
        order = order_by_length([len(features["input_ids"]) for features in encoded])
        rows: list[list[float]] = [[] for _ in texts]
        lengths = [len(encoded[index]["input_ids"]) for index in order]
        spans = padding_groups(lengths, cost_per_group=SCORING_GROUP_COST, max_size=self.batch_size)
        for batch in [order[span.start : span.stop] for span in spans]:
            outputs = run_splitting_on_oom(
                [encoded[index] for index in batch],
                self._forward,
                on_oom=lambda: free_accelerator_memory(self.device),
            )
            for index, row in zip(batch, outputs, strict=True):
                rows[index] = row
        per_dimension = {
            name: [row[column] for row in rows] for name, column in zip(self.dimensions, self.output_columns, strict=True)
        }
        reward = combine_columns(per_dimension, self.combine_rule, self.weights)
        return ScoreResult(per_dimension=per_dimension, reward=reward, unparseable=0, dimensions=self.dimensions)

    def _encode(self, text: str, context: str | None) -> dict[str, list[int]]:
        if context is None:
            return dict(self.tokenizer(text, truncation=True, max_length=self.max_length))
        # Context first, response second, as the model sees a dialogue; truncate the longer one.
        return dict(self.tokenizer(context, text, truncation="longest_first", max_length=self.max_length))

    def _expectations(self, logits: torch.Tensor) -> torch.Tensor:
        """Expected value on each dimension's scale, in the order the model was trained with."""
        columns, start = [], 0
        for points in self.soft_labels.values():
            values = torch.tensor(points, dtype=logits.dtype)
            columns.append((torch.softmax(logits[:, start : start + len(values)], dim=-1) * values).sum(-1))
            start += len(values)
        return torch.stack(columns, dim=1)

    @torch.inference_mode()
    def _forward(self, batch: Sequence[dict[str, list[int]]]) -> list[list[float]]:
        padded = self.tokenizer.pad(list(batch), return_tensors="pt").to(self.device)
        logits = self.model(**padded).logits.float().cpu()
        if self.soft_labels:
            logits = self._expectations(logits)
        return [[value if math.isfinite(value) else math.nan for value in row] for row in logits.tolist()]
