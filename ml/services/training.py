"""Training jobs: launch (check the request, freeze the export snapshot, queue) and the training
defaults. The run itself and the registration of its version are in ``ml.services.training_run``.

The snapshot is written when the job is launched, into the model store
(``RESONANCE_MODEL_STORE``, default ``MEDIA_ROOT/models``): a label export for a project
(JSONL, one row per label), a study's ``dpo`` and ``raw`` preference exports for a study. Its
SHA-256 is the manifest hash recorded on the job and on the version, so labels added after
the launch change nothing in the run.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from django.conf import settings
from django.db import transaction

from ml.core.training.config import RECIPES, defaults_for, processes_check
from ml.models import MlJobKind, ModelJob, ModelKind, ModelVersion
from webapp.jobs.errors import JobError
from webapp.jobs.services import job_queue

PROJECT_RECIPES = {"reward-model": ("narrative", "pair", "response", "dialogue"), "bi-encoder": ("pair",),
                   "sft": ("response",)}
STUDY_RECIPES = ("dpo", "preference-rm")
BASE_KINDS = {"reward-model": (ModelKind.SCORER, ModelKind.SIMILARITY), "bi-encoder": (ModelKind.SIMILARITY,),
              "sft": (ModelKind.GENERATOR,), "dpo": (ModelKind.GENERATOR,),
              "preference-rm": (ModelKind.SCORER, ModelKind.SIMILARITY)}
# The base a recipe starts from when none is named: a version of this name, else the active one of the kind.
DEFAULT_BASES = {"reward-model": "all-minilm-l6-v2-scorer-base", "preference-rm": "all-minilm-l6-v2-scorer-base"}
MIN_UNITS = 5  # fewer items (prompts) cannot fill train, validation and held-out


def model_store() -> Path:
    return Path(getattr(settings, "RESONANCE_MODEL_STORE", None) or Path(settings.MEDIA_ROOT) / "models")


def run_folder(job: ModelJob) -> Path:
    """The job's folder in the store; the launch time is in the name, as ids restart with a new database."""
    return model_store() / "runs" / f"job-{job.pk}-{job.created_at:%Y%m%dT%H%M%S%f}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _base_for(recipe: str, base: ModelVersion | None) -> ModelVersion:
    kinds = BASE_KINDS[recipe]
    if base is None:
        base = ModelVersion.objects.filter(name=DEFAULT_BASES.get(recipe, "")).first() or \
            ModelVersion.objects.filter(kind=kinds[0], is_active=True).first()
        if base is None:
            raise JobError(f"no base model for {recipe}; name one (a {' or '.join(kinds)}) or run "
                           "register_defaults", field="base")
    if base.kind not in kinds:
        raise JobError(f"{base.name} is a {base.kind}; {recipe} trains from a {' or '.join(kinds)}", field="base")
    folder = Path(base.path)
    if (folder / "adapter_config.json").is_file():
        raise JobError(f"{base.name} is a LoRA adapter; train from a full model (its base: {base.base})", field="base")
    if not (folder / "config.json").is_file():
        raise JobError(f"{base.name} cannot be used: {folder} has no config.json", field="base")
    return base


def _overrides_clean(recipe: str, overrides: dict | None) -> dict:
    known = defaults_for(recipe, "cpu")
    for key in overrides or {}:
        if key not in known:
            raise JobError(f"is not a setting of {recipe} (known: {', '.join(sorted(known))})", field=f"params.{key}")
    if "processes" in (overrides or {}):
        try:  # how many GPUs the worker has is known only there, where a run asking for more is refused
            processes_check(overrides["processes"], "cpu")
        except ValueError as exc:
            raise JobError(str(exc).removeprefix("processes: "), field="params.processes") from None
    return dict(overrides or {})


def _lora_targets_check(base: ModelVersion, targets) -> None:
    """Builds the base's module tree without weights and names targets it lacks."""
    from accelerate import init_empty_weights
    from transformers import AutoConfig, AutoModelForCausalLM

    from ml.core.training.common import lora_target_check
    from ml.core.training.data import TrainingDataError

    if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
        raise JobError("must be a list of module names", field="params.lora_target_modules")
    with init_empty_weights():
        model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(base.path))
    try:
        lora_target_check(model, targets)
    except TrainingDataError as exc:
        raise JobError(exc.message, field=f"params.{exc.field}") from None


def _project_snapshot(project, recipe: str, folder: Path) -> dict:
    from annotations.services.exporting import labels_export

    if project.kind not in PROJECT_RECIPES[recipe]:
        raise JobError(f"{recipe} needs a project of kind {' or '.join(PROJECT_RECIPES[recipe])}; "
                       f"{project.slug} is a {project.kind} project", field="recipe")
    numeric = [d for d in project.spec.get("dimensions", [])
               if d.get("type") in ("likert", "levels", "slider", "number") and not d.get("per_turn")]
    if not numeric:
        raise JobError(f"{recipe} needs a numeric per-item dimension; {project.slug} has none", field="recipe")
    labelled = project.items.filter(labels__isnull=False).distinct().count()
    if labelled < MIN_UNITS:
        raise JobError(f"{project.slug} has {labelled} labelled items; training needs at least {MIN_UNITS}", field="snapshot")
    path = folder / "labels.jsonl"
    manifest = labels_export(project=project, out=str(path), fmt="jsonl")
    return {"source": str(path), "manifest": {k: manifest[k] for k in ("project", "spec_hash", "rows", "labels",
                                                                       "items", "exported_at")},
            "sha256": _sha256(path), "dimensions": project.spec.get("dimensions", [])}


def _study_snapshot(study, folder: Path) -> dict:
    from studies.export import export_filters, export_write

    filters = export_filters(study)
    dpo, raw = folder / "preferences.jsonl", folder / "judgments.jsonl"
    manifest = export_write(study, path=dpo, format="dpo", filters=filters)
    if manifest["counts"]["records"] == 0:
        raise JobError(f"study {study.slug} has no preferences (no judgments, or only ties)", field="snapshot")
    prompts = len({json.loads(line)["prompt_id"] for line in dpo.read_text(encoding="utf-8").splitlines()})
    if prompts < MIN_UNITS:
        raise JobError(f"study {study.slug} has preferences on {prompts} prompts; training needs at "
                       f"least {MIN_UNITS}", field="snapshot")
    export_write(study, path=raw, format="raw", filters=filters)
    return {"source": str(dpo), "raw_source": str(raw), "manifest": {"study": study.slug,
            "spec_hash": manifest["spec_hash"], "counts": manifest["counts"], "filters": filters},
            "sha256": manifest["sha256"], "dimensions": []}


@transaction.atomic
def train_job_launch(*, recipe: str, created_by, project=None, study=None, base: ModelVersion | None = None,
                     holdout_group: tuple[str, str] | None = None, overrides: dict | None = None) -> ModelJob:
    """Checks the request, freezes the export snapshot and queues a training job; ``JobError``
    naming the field when the request cannot train (nothing is queued then). The caller has
    checked that ``created_by`` may see the project or study."""
    if recipe not in RECIPES:
        raise JobError(f"must be one of {', '.join(RECIPES)}", field="recipe")
    if (project is None) == (study is None):
        raise JobError("give either an annotation project or a study", field="target")
    if study is not None and recipe not in STUDY_RECIPES:
        raise JobError(f"{recipe} trains from an annotation project's labels, not a study", field="recipe")
    if project is not None and recipe in STUDY_RECIPES:
        raise JobError(f"{recipe} trains from a study's preferences, not a project's labels", field="recipe")
    if holdout_group is not None and recipe not in ("reward-model", "bi-encoder"):
        raise JobError(f"{recipe} cannot hold out an annotator group", field="holdout_group")
    base = _base_for(recipe, base)
    clean = _overrides_clean(recipe, overrides)
    if clean.get("lora_target_modules"):
        _lora_targets_check(base, clean["lora_target_modules"])
    job = job_queue(kind=MlJobKind.TRAIN, row=ModelJob, target=project or study, created_by=created_by,
                    params={"recipe": recipe, "overrides": clean}, model_version=base)
    folder = run_folder(job) / "snapshot"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        snapshot = _snapshot(project, study, recipe, folder, holdout_group)
    except JobError:
        shutil.rmtree(run_folder(job), ignore_errors=True)  # the job row goes with the transaction
        raise
    job.params = {**job.params, "snapshot": snapshot,
                  "holdout_group": list(holdout_group) if holdout_group is not None else None}
    job.save(update_fields=["params"])  # before the commit that publishes its task
    return job


def _snapshot(project, study, recipe: str, folder: Path, holdout_group) -> dict:
    snapshot = _project_snapshot(project, recipe, folder) if project is not None else _study_snapshot(study, folder)
    if holdout_group is not None:
        attribute, value = holdout_group
        if not any(json.loads(line).get(f"annotator_{attribute}") == value
                   for line in Path(snapshot["source"]).read_text(encoding="utf-8").splitlines()):
            raise JobError(f"no label in the snapshot is from an annotator with {attribute}={value} "
                           "(and export.allow_attributes must be on)", field="holdout_group")
    return snapshot

