"""Launching generation and scoring jobs: their parameters checked and filled with defaults, their
target checked against the model, then queued as ``ModelJob`` rows through the job system."""

from __future__ import annotations

from django.db import transaction

from annotations.models import Item
from ml.core.errors import ParamError
from ml.core.scores import COMBINE_RULES, PERM_DIMENSIONS, judge_param_clean
from ml.models import MlJobKind, ModelJob, ModelKind, ModelVersion
from ml.services.inputs import (
    DEFAULT_SYSTEM_PROMPT,
    GENERATION_ITEM_KINDS,
    SCORING_ITEM_KINDS,
    SIMILARITY_ITEM_KINDS,
)
from webapp.jobs.errors import JobError, number_clean
from webapp.jobs.services import job_queue

MODEL_KINDS_FOR_JOB = {MlJobKind.GENERATION: (ModelKind.GENERATOR,),
                       MlJobKind.SCORING: (ModelKind.SCORER, ModelKind.JUDGE, ModelKind.SIMILARITY)}

GENERATION_DEFAULTS = {"max_new_tokens": 64, "temperature": 0.7, "top_p": 0.9, "seed": 0, "batch_size": 32,
                       "system_prompt": DEFAULT_SYSTEM_PROMPT}
SCORING_DEFAULTS = {"batch_size": 32, "combine": "mean"}
# name: (type, minimum, maximum)
NUMBER_LIMITS = {"max_new_tokens": (int, 1, 4096), "temperature": (float, 0.0, 5.0), "top_p": (float, 0.01, 1.0),
                 "seed": (int, 0, 2**31 - 1), "batch_size": (int, 1, 1024)}


def params_clean(*, kind: str, raw: dict | None, default_dimensions: list[str] | None = None) -> dict:
    """Validates job parameters and fills defaults. Unknown keys are refused (typos must not pass silently).

    generation: max_new_tokens, temperature (0 = greedy), top_p, seed, batch_size, system_prompt.
    scoring: batch_size, combine (mean, weighted, geometric, harmonic), weights {dimension: w},
    dimensions (reward model outputs, in order) or perspectives (judge), default ``default_dimensions`` (the
    outputs of a version trained here) or else the four PERM ones;
    for a judge, judge_mode (expected, the default, or parsed) and rubrics {perspective: text}.
    """
    raw = dict(raw or {})
    if kind == MlJobKind.GENERATION:
        clean = dict(GENERATION_DEFAULTS)
        allowed = set(GENERATION_DEFAULTS)
    else:
        clean = {**SCORING_DEFAULTS, "dimensions": list(default_dimensions or PERM_DIMENSIONS)}
        allowed = {"batch_size", "combine", "weights", "dimensions", "perspectives", "judge_mode", "rubrics"}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise JobError(f"is not a parameter of a {kind} job (known: {', '.join(sorted(allowed))})", field=f"params.{unknown[0]}")
    for name, value in raw.items():
        if name in NUMBER_LIMITS:
            clean[name] = number_clean(name, value, *NUMBER_LIMITS[name])
        elif name == "system_prompt":
            clean[name] = str(value)
        elif name == "combine":
            if value not in COMBINE_RULES:
                raise JobError(f"must be one of {', '.join(COMBINE_RULES)}", field="params.combine")
            clean[name] = value
        elif name in {"dimensions", "perspectives"}:
            if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
                raise JobError("must be a non-empty list of names", field=f"params.{name}")
            if "reward" in value or len(set(value)) != len(value):
                raise JobError("names must be distinct and not 'reward'", field=f"params.{name}")
            clean["dimensions"] = [v.strip() for v in value]
        elif name in {"judge_mode", "rubrics"}:
            try:
                clean[name] = judge_param_clean(name, value)
            except ParamError as exc:
                raise JobError(exc.message, field=exc.field) from None
        elif name == "weights":
            if not isinstance(value, dict) or not all(isinstance(w, int | float) and w >= 0 for w in value.values()):
                raise JobError("must map dimension names to non-negative numbers", field="params.weights")
            clean[name] = {str(k): float(w) for k, w in value.items()}
    if clean.get("combine") == "weighted" and not clean.get("weights"):
        raise JobError("the weighted combination needs weights", field="params.weights")
    stray = sorted(set(clean.get("rubrics") or {}) - set(clean.get("dimensions") or ()))
    if stray:
        raise JobError("is not one of the job's perspectives", field=f"params.rubrics.{stray[0]}")
    return clean


@transaction.atomic
def model_job_launch(
    *,
    kind: str,
    model_version: ModelVersion,
    created_by,
    study=None,
    system_name: str = "",
    project=None,
    params: dict | None = None,
) -> ModelJob:
    """Creates a queued job and enqueues it once the transaction commits.

    The caller has checked that ``created_by`` may use ``study`` / ``project`` (selectors). A
    generation job on a study writes one system's responses: ``system_name``, or the study's system
    whose model version is ``model_version``; the study must be closed. Raises ``JobError``.
    """
    if kind not in MODEL_KINDS_FOR_JOB:
        raise JobError(f"must be one of {', '.join(MODEL_KINDS_FOR_JOB)}", field="kind")
    if model_version.kind not in MODEL_KINDS_FOR_JOB[kind]:
        wanted = " or ".join(MODEL_KINDS_FOR_JOB[kind])
        raise JobError(f"{model_version.name} is a {model_version.kind}; a {kind} job needs a {wanted}", field="model_version")
    if (study is None) == (project is None):
        raise JobError("give either a study or an annotation project", field="target")
    clean = params_clean(kind=kind, raw=params,
                         default_dimensions=(model_version.training_settings or {}).get("outputs"))
    system_name = (system_name or "").strip()
    if study is not None:
        if model_version.kind == ModelKind.SIMILARITY:
            raise JobError(f"{model_version.name} is a similarity model; it scores the pair items of an "
                           "annotation project, not a study's responses", field="target")
        system_name = _check_study_target(kind=kind, study=study, system_name=system_name, version=model_version)
    else:
        kinds = _item_kinds_for(kind=kind, model_kind=model_version.kind)
        if not project.items.filter(role=Item.Role.TASK, kind__in=kinds).exists():
            raise JobError(f"{project.slug} has no items a {kind} job can use (kinds {', '.join(kinds)})", field="project")
    return job_queue(kind=kind, row=ModelJob, target=study or project, created_by=created_by, params=clean,
                     model_version=model_version, system_name=system_name)


def _item_kinds_for(*, kind: str, model_kind: str) -> tuple[str, ...]:
    if kind == MlJobKind.GENERATION:
        return GENERATION_ITEM_KINDS
    return SIMILARITY_ITEM_KINDS if model_kind == ModelKind.SIMILARITY else SCORING_ITEM_KINDS


def _check_study_target(*, kind: str, study, system_name: str, version: ModelVersion) -> str:
    systems = study.systems.all()
    if kind == MlJobKind.GENERATION:
        if study.is_open:
            raise JobError(f"{study.slug} is open; close it before generating new responses", field="study")
        if not system_name:
            match = systems.filter(model_version_id=version.pk).first()
            if match is None:
                raise JobError(f"name the system of {study.slug} to fill (none is linked to model "
                               f"version {version.pk})", field="system")
            return match.name
    if system_name and not systems.filter(name=system_name).exists():
        raise JobError(f"{system_name!r} is not a system of study {study.slug}", field="system")
    if kind == MlJobKind.GENERATION and not study.prompts.exists():
        raise JobError(f"{study.slug} has no prompts", field="study")
    if kind == MlJobKind.SCORING:
        responses = study.responses.all()
        if system_name:
            responses = responses.filter(system__name=system_name)
        if not responses.exists():
            raise JobError(f"{study.slug} has no responses{' from ' + system_name if system_name else ''} to score", field="study")
    return system_name
