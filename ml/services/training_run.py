"""Running a training job on a worker and registering what it made.

The run executes in a child process (``ml.core.training.child``) and streams step, total and
loss to the job row: ``done``/``total`` carry the steps, ``result.curve`` the loss curve so far.
A re-run of the same job (after a worker was killed) resumes from the run folder's newest
checkpoint and registers its version once: the version's name is derived from the job, and an
existing one is returned as it is. A cancelled run registers nothing.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from django.db import transaction

from ml.core.errors import Cancelled
from ml.models import ModelJob, ModelKind, ModelVersion
from ml.services.model_store import version_path, version_publish
from ml.services.registry import RegistryError, model_version_register
from ml.services.training import run_folder
from webapp.jobs.errors import JobError
from webapp.jobs.models import Job

log = logging.getLogger(__name__)
CURVE_EVERY = 1  # steps between loss-curve writes to the job row


def _device() -> str:
    from django.conf import settings

    return str(getattr(settings, "RESONANCE_DEVICE", "auto") or "auto")


def trained_version_name(job: ModelJob) -> str:
    return f"{job.model_version.name}-{job.params['recipe']}-job{job.pk}"


def _request(job: ModelJob) -> dict:
    params, snapshot = job.params, job.params["snapshot"]
    parent = job.model_version
    fixed = None
    heldout = (parent.training_settings or {}).get("split", {}).get("parts", {}).get("heldout")
    if heldout and (parent.training_settings or {}).get("recipe") == params["recipe"]:
        fixed = heldout  # the line keeps its held-out items
    return {"recipe": params["recipe"], "base": _base_path(parent), "out": str(run_folder(job) / "run"),
            "source": snapshot["source"], "raw_source": snapshot.get("raw_source"),
            "dimensions": snapshot.get("dimensions") or [], "overrides": params.get("overrides") or {},
            "device": _device(), "holdout_group": tuple(params["holdout_group"]) if params.get("holdout_group")
            else None, "fixed_heldout": fixed, "scorer": _active_scorer(params["recipe"])}


def _active_scorer(recipe: str) -> dict | None:
    """The active reward model, which scores a generator's held-out replies (new and parent alike)."""
    if recipe not in ("sft", "dpo"):
        return None
    scorer = ModelVersion.objects.filter(kind=ModelKind.SCORER, is_active=True).first()
    if scorer is None:
        return None
    return {"path": version_path(scorer), "name": scorer.name}


def _base_path(version: ModelVersion) -> str:
    return version_path(version)


@transaction.atomic
def training_curve_record(*, job_id: int, point: dict) -> None:
    """Appends one point (step, loss, eval metrics) to the job's live loss curve."""
    job = Job.objects.select_for_update().only("result").get(pk=job_id)
    curve = [p for p in job.result.get("curve", []) if p.get("step") != point.get("step")]
    Job.objects.filter(pk=job_id).update(result={**job.result, "curve": [*curve, point]})


def run_training(job: ModelJob, on_batch) -> dict:
    """The ``train`` job runner (registered by ``ml.jobs``)."""
    from ml.core.training.child import ChildFailed, run_in_child
    from ml.core.training.data import TrainingDataError

    existing = ModelVersion.objects.filter(name=trained_version_name(job)).first()
    if existing is not None:  # registered by an earlier attempt that died before finishing the job
        return {"version": existing.name, "version_id": existing.pk}

    def on_progress(progress: dict) -> bool:
        if progress.get("loss") is not None or progress.get("metrics"):
            training_curve_record(job_id=job.pk, point={"step": progress["step"], "loss": progress.get("loss"),
                                                        **progress.get("metrics", {})})
        return on_batch(int(progress["step"]), int(progress["total"]))

    try:
        outcome = run_in_child(_request(job), on_progress=on_progress)
    except TrainingDataError as exc:
        raise JobError(exc.message, field=exc.field) from None
    except ChildFailed as exc:
        raise JobError(str(exc)) from None
    job.refresh_from_db(fields=["cancel_requested"])
    if job.cancel_requested:
        raise Cancelled("cancelled after the last step; nothing registered")
    version = trained_version_register(job=job, outcome=outcome)
    return {"version": version.name, "version_id": version.pk, "steps": outcome["record"]["steps"],
            "resumed_from": outcome["record"]["resumed_from"]}


@transaction.atomic
def trained_version_register(*, job: ModelJob, outcome: dict) -> ModelVersion:
    """Registers the run's model as a new, inactive version; idempotent per job."""
    name = trained_version_name(job)
    existing = ModelVersion.objects.select_for_update().filter(name=name).first()
    if existing is not None:
        return existing
    parent, snapshot = job.model_version, job.params["snapshot"]
    target = {"project": job.project.slug} if job.project_id else {"study": job.study.slug}
    settings = {"recipe": job.params["recipe"], "job": job.pk, **target, "adapter": outcome["adapter"],
                "snapshot": {"file": snapshot["source"], "sha256": snapshot["sha256"],
                             "manifest": snapshot["manifest"]},
                "holdout_group": job.params.get("holdout_group"), "split": outcome["split"],
                "hyperparameters": outcome["record"]["hyperparameters"], "record": outcome["record"]}
    if outcome["kind"] == ModelKind.SCORER:
        settings["outputs"] = scorer_outputs(Path(outcome["model_dir"]))
    settings["artifact"] = version_publish(folder=Path(outcome["model_dir"]), name=name)
    metrics = {"heldout": outcome["metrics"], "parent": outcome["parent_metrics"],
               "predictions": outcome["details"].get("predictions", {}),
               "heldout_means": outcome["details"].get("heldout_means", {})}
    try:
        return model_version_register(
            name=name, kind=outcome["kind"], path=outcome["model_dir"], registered_by=job.created_by,
            base=parent.base or parent.name, parent=parent, export=f"sha256:{snapshot['sha256']}",
            training_settings=settings, metrics=metrics)
    except RegistryError as exc:
        raise JobError(f"the trained model could not be registered: {exc}") from exc


def scorer_outputs(folder: Path) -> list[str]:
    """The dimensions a trained reward model scores, in its output order, read off its config: the keys of
    ``resonance_soft_labels`` for a soft-label model, else ``id2label`` by index. A scoring job with this version
    scores these unless it names others."""
    config = json.loads((folder / "config.json").read_text())
    if config.get("resonance_soft_labels"):
        return list(config["resonance_soft_labels"])
    return [label for _, label in sorted((int(index), label) for index, label in config.get("id2label", {}).items())]
