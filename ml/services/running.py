"""Running a claimed generation or scoring job on a worker (the runners ``ml.jobs`` registers): load the
model (cached per process), work batch by batch, write each batch's results in one transaction,
record progress, honour cancellation between batches.

Batches are fixed by the job's inputs (``ml.services.inputs``), and a batch whose results are
stored is skipped on the next run, so a task that runs again after a crash adds no duplicates and
loses nothing.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

from django.conf import settings
from django.db import transaction

from ml.core.errors import Cancelled
from ml.core.registry_checks import check_loadable
from ml.core.scores import score_health
from ml.models import GeneratedText, ModelJob, ModelKind, Score
from ml.services.inputs import (
    GenerationInput,
    InputError,
    PairInput,
    ScoringInput,
    chat_messages,
    generation_inputs,
    plain_prompt,
    scoring_inputs,
    similarity_inputs,
)
from ml.services.model_store import version_path
from webapp.jobs.errors import JobError

log = logging.getLogger(__name__)


def load_model(kind: str, path: str, **options):
    """The ml core's per-process cache, loading with the ``ML_ACCELERATION`` setting; imported
    here so that web processes never import torch."""
    from ml.core.cache import load_model as cached_load

    return cached_load(kind, path, acceleration=settings.ML_ACCELERATION, **options)


def _device() -> str:
    return str(getattr(settings, "RESONANCE_DEVICE", "auto") or "auto")


def _work(job: ModelJob, inputs: list, done_keys: set[str], on_batch: Callable[[int, int], bool],
          process: Callable[[int, list], None]) -> None:
    """Runs ``process(batch_index, todo)`` on each batch with inputs not yet done, then reports progress."""
    total = len(inputs)
    done = sum(1 for row in inputs if row.key in done_keys)
    if not on_batch(done, total):
        raise Cancelled("stopped before the first batch")
    size = int(job.params.get("batch_size", 16))
    for index, batch in enumerate(inputs[start : start + size] for start in range(0, total, size)):
        todo = [row for row in batch if row.key not in done_keys]
        if not todo:
            continue
        process(index, todo)
        done += len(todo)
        if not on_batch(done, total):
            raise Cancelled(f"stopped after {done} of {total}")


def run_generation(job: ModelJob, on_batch) -> dict:
    version = job.model_version
    check_loadable(version_path(version), "generator")
    inputs = generation_inputs(job=job)
    if not inputs:
        raise InputError("there is nothing to generate for: the target has no prompts or usable items")
    done_keys = set(GeneratedText.objects.filter(job=job).values_list("input_key", flat=True))
    generator = load_model("generator", version_path(version), version_key=f"model-version-{version.pk}", device=_device())
    params = job.params
    use_chat = bool(getattr(generator.tokenizer, "chat_template", None))
    system_prompt = params.get("system_prompt", "")

    def process(index: int, todo: list[GenerationInput]) -> None:
        prompts = [chat_messages(row.turns, system_prompt=system_prompt) if use_chat
                   else plain_prompt(row.turns, system_prompt=system_prompt) for row in todo]
        results = generator.generate(
            prompts, max_new_tokens=params["max_new_tokens"], temperature=params["temperature"],
            top_p=params["top_p"], seed=params["seed"] + index, batch_size=len(todo),
        )
        generations_store(job=job, rows=[(row, result.text, result.new_tokens) for row, result in zip(todo, results, strict=True)])

    _work(job, inputs, done_keys, on_batch, process)
    return {"generated": GeneratedText.objects.filter(job=job).count(), "chat_template": use_chat}


@transaction.atomic
def generations_store(*, job: ModelJob, rows: list[tuple[GenerationInput, str, int]]) -> int:
    """Upserts one batch of generated texts keyed by (job, input) and, for a study, the system's
    responses keyed by (prompt, system): both or neither."""
    GeneratedText.objects.bulk_create(
        [GeneratedText(job=job, input_key=row.key, prompt_id=row.prompt_id, item_id=row.item_id, text=text,
                       new_tokens=tokens) for row, text, tokens in rows],
        update_conflicts=True, unique_fields=["job", "input_key"], update_fields=["text", "new_tokens"],
    )
    if job.study_id:
        from studies.services import StudyError, responses_store

        try:
            responses_store(study=job.study, system_name=job.system_name, rows=[
                {"prompt_id": row.prompt_external_id, "text": text, "model_version_id": job.model_version_id,
                 "metadata": {"job": job.pk, "new_tokens": tokens, "params": job.params}}
                for row, text, tokens in rows
            ])
        except StudyError as exc:
            raise JobError(f"the responses could not be stored: {exc}") from exc
    return len(rows)


def _scorer_options(job: ModelJob) -> tuple[str, dict]:
    params = job.params
    dimensions = tuple(params.get("dimensions") or ())
    weights = params.get("weights")
    aligned = tuple(float(weights.get(name, 0.0)) for name in dimensions) if weights else None
    if job.model_version.kind == ModelKind.JUDGE:
        rubrics = params.get("rubrics") or {}
        return "judge", {"perspectives": dimensions, "combine": params["combine"], "weights": aligned,
                         "batch_size": params["batch_size"], "mode": params.get("judge_mode", "expected"),
                         "rubrics": tuple(sorted(rubrics.items())) or None}
    return "scorer", {"dimensions": dimensions, "combine_rule": params["combine"], "weights": aligned,
                      "batch_size": params["batch_size"]}


def run_scoring(job: ModelJob, on_batch) -> dict:
    version = job.model_version
    if version.kind == ModelKind.SIMILARITY:
        return _run_similarity(job, on_batch)
    kind, options = _scorer_options(job)
    check_loadable(version_path(version), kind)
    inputs = scoring_inputs(job=job)
    if not inputs:
        raise InputError("there is nothing to score: the target has no responses or usable items")
    done_keys = _scored_keys(job)
    scorer = load_model(kind, version_path(version), version_key=f"model-version-{version.pk}", device=_device(), **options)

    def process(index: int, todo: list[ScoringInput]) -> None:
        contexts = [row.context for row in todo]
        result = scorer.score([row.text for row in todo], None if all(c is None for c in contexts)
                              else [c or "" for c in contexts])
        # a judge's raw answers come perspective-major: every text for the first perspective, then the next
        raw = list(getattr(scorer, "last_answers", None) or [])
        answers = None
        if len(raw) == len(todo) * len(result.dimensions):
            answers = [{name: raw[d * len(todo) + i] for d, name in enumerate(result.dimensions)}
                       for i in range(len(todo))]
        scores_store(job=job, rows=[
            (row, {name: result.per_dimension[name][i] for name in result.dimensions}, result.reward[i])
            for i, row in enumerate(todo)
        ], answers=answers)

    _work(job, inputs, done_keys, on_batch, process)
    dimensions = list(options.get("dimensions") or options.get("perspectives"))
    missing = Score.objects.filter(job=job, value__isnull=True).exclude(dimension=Score.REWARD).count()
    health = score_health(_stored_scores(job, dimensions), unparseable=missing)
    return {"scored": len(inputs), "dimensions": dimensions, "unparseable": missing,
            "mode": options.get("mode", "regression"), "health": health}


def _stored_scores(job: ModelJob, dimensions: list[str]) -> dict[str, list[float | None]]:
    """Every stored score of the job per dimension (None: the judge gave none), for the health check."""
    columns: dict[str, list[float | None]] = {name: [] for name in dimensions}
    for dimension, value in Score.objects.filter(job=job, dimension__in=dimensions).values_list("dimension", "value"):
        columns[dimension].append(value)
    return columns


def similarity_scale(project) -> tuple[float, float]:
    """The rating scale the project's annotators use (its first dimension with a numeric min and
    max), so model similarity and human ratings read alike; (0, 1) when it has none."""
    from annotations.agreement.dimensions import is_numeric

    for dimension in project.dimensions:
        low, high = dimension.get("min"), dimension.get("max")
        if is_numeric(dimension) and low is not None and high is not None and high > low:
            return float(low), float(high)
    return 0.0, 1.0


def _run_similarity(job: ModelJob, on_batch) -> dict:
    """Cosine similarity of each pair item's two narratives, stored raw (``cosine``) and on the
    project's scale (``similarity``, also the reward)."""
    from ml.core.similarity import to_scale

    version = job.model_version
    check_loadable(version_path(version), "similarity")
    inputs = similarity_inputs(job=job)
    if not inputs:
        raise InputError("there is nothing to score: the project has no pair items")
    low, high = similarity_scale(job.project)
    done_keys = _scored_keys(job)
    model = load_model(
        "similarity",
        version_path(version),
        version_key=f"model-version-{version.pk}",
        device=_device(),
        batch_size=job.params["batch_size"],
    )

    def process(index: int, todo: list[PairInput]) -> None:
        cosines = model.score([(row.left, row.right) for row in todo])
        rows = []
        for row, cosine in zip(todo, cosines, strict=True):
            on_scale = to_scale(cosine, low, high)
            rows.append((row, {"similarity": on_scale, "cosine": cosine}, on_scale))
        scores_store(job=job, rows=rows)

    _work(job, inputs, done_keys, on_batch, process)
    return {"scored": len(inputs), "dimensions": ["similarity", "cosine"], "scale": [low, high]}


def _scored_keys(job: ModelJob) -> set[str]:
    """Inputs this job already stored scores for (skipped when it runs again)."""
    return set(Score.objects.filter(job=job).values_list("input_key", flat=True).distinct())


def _number(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


@transaction.atomic
def scores_store(*, job: ModelJob, rows: list[tuple[ScoringInput | PairInput, dict[str, float], float]],
                 answers: list[dict[str, str]] | None = None) -> int:
    """Upserts one batch of scores keyed by (job, input, dimension); ``reward`` is stored as a dimension.
    NaN (no score) is stored as null. ``answers`` (one {dimension: raw text} per row) are a judge's raw
    answers, kept beside the scores parsed from them."""
    objects = []
    for index, (row, values, reward) in enumerate(rows):
        said = answers[index] if answers else {}
        for dimension, value in [*values.items(), (Score.REWARD, reward)]:
            objects.append(Score(job=job, model_version_id=job.model_version_id, input_key=row.key,
                                 response_id=row.response_id, item_id=row.item_id, dimension=dimension,
                                 value=_number(value), answer=said.get(dimension, "")))
    Score.objects.bulk_create(objects, update_conflicts=True, unique_fields=["job", "input_key", "dimension"],
                              update_fields=["value", "answer"])
    return len(objects)
