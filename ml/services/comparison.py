"""Compare in a study: a blinded study of a trained generator against its parent on the line's
held-out prompts only, with both generation jobs launched; the study opens itself once both
jobs have succeeded (``comparison_open_if_ready``, called as a generation job on a study ends)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from django.db import transaction

from ml.models import MlJobKind, ModelJob, ModelKind, ModelVersion
from ml.services.jobs import model_job_launch
from webapp.jobs.errors import JobError
from webapp.jobs.models import targeting

NEW, PARENT = "trained", "parent"


def _heldout_prompts(version: ModelVersion) -> list[dict]:
    settings = version.training_settings or {}
    heldout = set(settings.get("split", {}).get("parts", {}).get("heldout", []))
    if settings.get("recipe") == "dpo":
        from studies.models import Prompt

        return [{"id": p.external_id, "context": p.context}
                for p in Prompt.objects.filter(study__slug=settings["study"], external_id__in=heldout)]
    prompts, seen = [], set()
    for line in Path(settings["snapshot"]["file"]).read_text(encoding="utf-8").splitlines():
        context = str(json.loads(line).get("context"))
        unit = "prompt-" + hashlib.sha256(context.encode()).hexdigest()[:16]
        if unit in heldout and unit not in seen:
            seen.add(unit)
            prompts.append({"id": unit, "context": [{"speaker": "seeker", "text": context}]})
    return prompts


@transaction.atomic
def comparison_study_create(*, version: ModelVersion, owner) -> tuple[object, list[ModelJob]]:
    """Creates the study (closed) and queues one generation job per system. ``JobError`` naming
    the field when the version cannot be compared."""
    from studies.services import StudyError, study_load
    from studies.spec import SpecError, spec_parse

    settings = version.training_settings or {}
    if version.kind != ModelKind.GENERATOR or settings.get("recipe") not in ("sft", "dpo"):
        raise JobError(f"{version.name} is not a generator trained here (sft or dpo)", field="name")
    parent = version.parent
    if parent is None or parent.kind != ModelKind.GENERATOR:
        raise JobError(f"{version.name} has no generator parent to compare with", field="name")
    prompts = _heldout_prompts(version)
    if len(prompts) < 1:
        raise JobError(f"{version.name} has no held-out prompts", field="split")
    raw = {"slug": f"compare-{version.pk}", "title": f"{version.name} against {parent.name} (held-out prompts)",
           "prompts": prompts,
           "systems": [{"name": NEW, "kind": "model", "model_version": version.pk},
                       {"name": PARENT, "kind": "model", "model_version": parent.pk}],
           "pairs_per_participant": min(len(prompts), 10), "judgments_per_pair": 3}
    try:
        study = study_load(spec=spec_parse(raw), owner=owner)
    except (SpecError, StudyError) as exc:
        raise JobError(f"{exc}", field="study") from exc
    jobs = [model_job_launch(kind=MlJobKind.GENERATION, model_version=model, created_by=owner, study=study,
                             system_name=name) for name, model in ((NEW, version), (PARENT, parent))]
    return study, jobs


def comparison_open_if_ready(*, study_id: int) -> bool:
    """Opens a comparison study once all its generation jobs succeeded; True when it opened it."""
    from studies.models import Study
    from studies.services import study_open

    with transaction.atomic():
        study = Study.objects.select_for_update().filter(pk=study_id, slug__startswith="compare-").first()
        if study is None or study.is_open:
            return False
        jobs = ModelJob.objects.filter(targeting(study), kind=MlJobKind.GENERATION)
        names = set(jobs.filter(status=ModelJob.Status.SUCCEEDED).values_list("system_name", flat=True))
        if names != {NEW, PARENT} or jobs.exclude(status=ModelJob.Status.SUCCEEDED).exists():
            return False
        study_open(study=study)
        return True
