"""Statistical reports as background jobs on the ``default`` queue: the full agreement report of an
annotation project, or a study's preference report, with more bootstrap replicates than a page can
afford, written by a worker as JSON into the default storage and downloaded from the job page
(``ml.services.files``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from django.db import transaction

from annotations.agreement.load import excluded_annotator_ids, project_agreement_report
from annotations.models import Item, Label, Project
from ml.models import Job
from ml.services.files import job_file_write
from ml.services.jobs import NUMBER_LIMITS, JobError, job_queue, number_clean
from studies.analysis.load import study_report_for
from studies.models import Study

REPORT_BOOTSTRAP = 2000  # the default: a page shows 500 to 1000 to stay quick
BOOTSTRAP_LIMITS = (int, 100, 20000)
# What the job row keeps of the manifest (the job page shows them).
RESULT_KEYS = ("file", "report", "items", "labels", "judgments", "participants", "n_bootstrap", "seed")


@transaction.atomic
def report_job_launch(
    *,
    created_by,
    project: Project | None = None,
    study: Study | None = None,
    n_bootstrap: int | str = REPORT_BOOTSTRAP,
    seed: int | str = 0,
    by: list[str] | tuple[str, ...] = (),
    include_ended: bool = False,
) -> Job:
    """Queues the agreement report of ``project`` (broken down by the annotator attributes ``by``) or the
    report of ``study`` (``include_ended`` keeps participants ended by the attention checks). The caller
    has checked that ``created_by`` may see the target. Raises ``JobError`` naming the field."""
    if (study is None) == (project is None):
        raise JobError("target: give either a study or an annotation project")
    params = {"report": "agreement" if project else "study",
              "n_bootstrap": number_clean("n_bootstrap", n_bootstrap, *BOOTSTRAP_LIMITS),
              "seed": number_clean("seed", seed, *NUMBER_LIMITS["seed"])}
    if project is not None:
        if include_ended:
            raise JobError("params.include_ended: only a study's report leaves out ended participants")
        params["by"] = _attributes_clean(by)
    else:
        if by:
            raise JobError("params.by: only an agreement report breaks down by annotator attributes")
        if not isinstance(include_ended, bool):
            raise JobError("params.include_ended: must be true or false")
        params["include_ended"] = include_ended
    return job_queue(kind=Job.Kind.REPORT, project=project, study=study, params=params, created_by=created_by)


def _attributes_clean(by) -> list[str]:
    if isinstance(by, str) or not all(isinstance(name, str) and name.strip() for name in by):
        raise JobError("params.by: must be a list of annotator attribute names")
    names = [name.strip() for name in by]
    if len(set(names)) != len(names):
        raise JobError("params.by: names must be distinct")
    return names


def report_file(job: Job) -> str:
    """The job's report, as a name in the default storage; its manifest is ``<name>.manifest.json``."""
    target = job.project or job.study
    return f"reports/job-{job.pk}/{target.slug}-{job.params['report']}-report.json"


def _agreement(job: Job) -> tuple[dict, dict]:
    project, params = job.project, job.params
    report = project_agreement_report(project=project, by=params["by"], n_bootstrap=params["n_bootstrap"],
                                      seed=params["seed"])
    labels = Label.objects.filter(project=project, item__role=Item.Role.TASK).exclude(
        annotator_id__in=excluded_annotator_ids(project=project))
    counts = {"items": labels.values("item_id").distinct().count(), "labels": labels.count()}
    return report, {"project": project.slug, "spec_hash": project.spec_hash, "by": params["by"], **counts}


def _study(job: Job) -> tuple[dict, dict]:
    study, params = job.study, job.params
    report = study_report_for(study, include_ended=params["include_ended"], n_bootstrap=params["n_bootstrap"],
                              seed=params["seed"])
    counts = {"judgments": report["counts"]["judgments"], "participants": report["counts"]["participants"]}
    return report, {"study": study.slug, "spec_hash": study.spec_hash,
                    "include_ended": params["include_ended"], **counts}


BUILDERS = {"agreement": _agreement, "study": _study}


def run_report(job: Job, on_batch) -> dict:
    """Computes the report, writes it as JSON with its manifest, and returns the manifest's figures."""
    name, params = report_file(job), job.params

    def write(local: Path) -> dict:
        started = datetime.now(UTC)
        report, about = BUILDERS[params["report"]](job)
        local.write_text(json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False), encoding="utf-8")
        return {"job": job.pk, "file": Path(name).name, "report": params["report"], **about,
                "n_bootstrap": params["n_bootstrap"], "seed": params["seed"], "built_at": started.isoformat(),
                "seconds": round((datetime.now(UTC) - started).total_seconds(), 3)}

    manifest = job_file_write(job, on_batch, name=name, write=write)
    return {key: manifest[key] for key in RESULT_KEYS if key in manifest}
