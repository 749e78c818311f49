"""Reads for the registry and model jobs, with the access checks. Views and the API never filter by hand.

The model registry is lab-wide: every researcher sees and uses every version. Who may see a job is
the job system's rule (``webapp.jobs.selectors``); these read what a model job produced.
"""

from __future__ import annotations

from statistics import mean

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from annotations.selectors import project_get_for_user
from ml.models import GeneratedText, MlJobKind, ModelJob, ModelKind, ModelVersion, Score
from studies.selectors import study_get_for_user
from webapp.jobs.models import Job
from webapp.jobs.selectors import job_get_for_user


def _is_researcher(user) -> bool:
    return bool(user and user.is_authenticated and user.is_researcher)


def model_versions_for_user(*, user) -> QuerySet[ModelVersion]:
    if not _is_researcher(user):
        return ModelVersion.objects.none()
    return ModelVersion.objects.select_related("registered_by", "parent").order_by("kind", "-is_active", "-created_at")


def model_version_get_for_user(*, user, pk: int) -> ModelVersion:
    """The version, for a researcher; PermissionDenied otherwise (also when it does not exist)."""
    version = model_versions_for_user(user=user).filter(pk=pk).first()
    if version is None:
        raise PermissionDenied("no such model version")
    return version


def model_version_by_name(*, name: str) -> ModelVersion | None:
    return ModelVersion.objects.filter(name=name).first()


def model_job_get_for_user(*, user, pk: int) -> ModelJob:
    """The model job if ``user`` may see it (the job system's rule); PermissionDenied otherwise (also when
    it does not exist or is not a model job)."""
    job = job_get_for_user(user=user, pk=pk)
    model_job = ModelJob.objects.select_related("model_version").filter(pk=job.pk).first()
    if model_job is None:
        raise PermissionDenied("no such model job among yours")
    return model_job


def job_score_table(*, job: Job) -> dict:
    """Mean score per dimension (and reward) for each system of a study job, or one row for a project's
    items: ``{"dimensions": [...], "rows": [{"label", "n", "means": {dim: mean or None}}]}``.
    Unscored values (null) are left out of the means; ``n`` counts scored responses or items."""
    job = ModelJob.of(job)
    values: dict[str, dict[str, list[float]]] = {}
    inputs: dict[str, set[str]] = {}
    dimensions: list[str] = []
    rows = Score.objects.filter(job=job).values_list("response__system__name", "input_key", "dimension", "value")
    for system, key, dimension, value in rows.iterator():
        label = system or ("items" if job.project_id else "responses")
        if dimension not in dimensions:
            dimensions.append(dimension)
        inputs.setdefault(label, set()).add(key)
        if value is not None:
            values.setdefault(label, {}).setdefault(dimension, []).append(value)
    ordered = [d for d in dimensions if d != Score.REWARD] + ([Score.REWARD] if Score.REWARD in dimensions else [])
    table = []
    for label in sorted(inputs):
        per = values.get(label, {})
        means = {d: (round(mean(per[d]), 4) if per.get(d) else None) for d in ordered}
        table.append({"label": label, "n": len(inputs[label]), "means": means, "cells": [means[d] for d in ordered]})
    return {"dimensions": ordered, "rows": table}


def job_similarity_vs_annotators(*, job: Job) -> list[dict]:
    """For a similarity job on a project: per numeric dimension of the project, the Spearman
    correlation between the model's similarity and the annotators' mean rating of each pair
    (excluded annotators left out), over the items that have both. Read live, so it follows
    the labels as they come in: ``[{"dimension", "spearman" (None below 3 items), "n"}]``."""
    job = ModelJob.of(job)
    if job.model_version is None or job.model_version.kind != ModelKind.SIMILARITY or not job.project_id:
        return []
    from scipy.stats import spearmanr

    from annotations.agreement.aggregate import aggregate_rows
    from annotations.agreement.dimensions import is_numeric
    from annotations.agreement.load import project_label_frame

    model = dict(
        Score.objects.filter(job=job, dimension="similarity", value__isnull=False).values_list(
            "item__external_id", "value"
        )
    )
    numeric = [dimension for dimension in job.project.dimensions if is_numeric(dimension)]
    frame = project_label_frame(project=job.project, tasks_only=True)
    human: dict[str, dict[str, float]] = {dimension["name"]: {} for dimension in numeric}
    if len(frame):
        for row in aggregate_rows(frame, "mean", dimensions=numeric):
            if row["value"] is not None:
                human[row["dimension"]][row["item"]] = row["value"]
    rows = []
    for name, means in human.items():
        both = [(model[item], mean_rating) for item, mean_rating in means.items() if item in model]
        rho = float(spearmanr(*zip(*both, strict=True)).statistic) if len(both) >= 3 else None
        rows.append({"dimension": name, "spearman": None if rho != rho else rho, "n": len(both)})
    return rows


def job_human_agreement(*, job: Job) -> dict[str, dict]:
    """For a reward-model or judge scoring job on a project with human labels: per dimension the
    model and the project share, the model's agreement with the humans beside the humans' own
    (see :mod:`annotations.agreement.versus_model`), with the items of largest disagreement.
    Read live from the labels (excluded annotators left out); ``{}`` for other jobs."""
    job = ModelJob.of(job)
    if job.kind != MlJobKind.SCORING or not job.project_id or job.model_version is None:
        return {}
    if job.model_version.kind not in (ModelKind.JUDGE, ModelKind.SCORER):
        return {}
    import pandas as pd

    from annotations.agreement.load import project_label_frame
    from annotations.agreement.versus_model import model_human_agreement

    scores = pd.DataFrame.from_records(
        list(Score.objects.filter(job=job, item__isnull=False).exclude(dimension=Score.REWARD)
             .values_list("item__external_id", "dimension", "value")),
        columns=["item", "dimension", "value"],
    )
    frame = project_label_frame(project=job.project, tasks_only=True)
    if scores.empty or not len(frame):
        return {}
    return model_human_agreement(frame, job.project.dimensions, scores)


def job_generations(*, job: Job, limit: int = 20) -> list[GeneratedText]:
    return list(GeneratedText.objects.filter(job=job).select_related("prompt", "item").order_by("id")[:limit])


def job_target_for_user(*, user, study: str | None, project: str | None) -> tuple:
    """(study, project) a job launch names by slug, each checked for ``user`` (PermissionDenied / Http404 as
    their own selectors answer); None where not named."""
    return (study_get_for_user(user=user, slug=study) if study else None,
            project_get_for_user(user=user, slug=project) if project else None)
