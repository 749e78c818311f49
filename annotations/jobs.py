"""The kinds of job annotations owns, registered with the job system from ``AnnotationsConfig.ready()``:
the label export and the full agreement report, both on the ``default`` queue (no GPU needed), both on
an annotation project, both leaving a file the job page offers for download. Also registers the project
as a job target: a job on a project is visible to whoever may see the project."""

from __future__ import annotations

from pathlib import Path

from django.db import models, transaction
from django.urls import reverse

from annotations.models import Project
from webapp.jobs.errors import JobError
from webapp.jobs.files import job_file_write
from webapp.jobs.models import Job, Queue
from webapp.jobs.registry import JobKind, ResultFile, Target, job_kind_register, target_register
from webapp.jobs.reports import REPORT_BOOTSTRAP, report_file_name, report_numbers_clean, report_run
from webapp.jobs.services import job_queue


class AnnotationJobKind(models.TextChoices):
    EXPORT = "export", "Label export"
    AGREEMENT_REPORT = "agreement_report", "Statistical report"


def export_job_launch(*, project: Project, created_by, fmt: str = "jsonl", aggregate: str = "none") -> Job:
    """Queues an export of ``project``'s labels (raw, or aggregated by ``aggregate``) as ``fmt``.
    The caller has checked that ``created_by`` may see the project. Raises ``JobError``."""
    from annotations.services.exporting import AGGREGATES, FORMATS

    if fmt not in FORMATS:
        raise JobError(f"must be one of {', '.join(FORMATS)}", field="format")
    if aggregate not in AGGREGATES:
        raise JobError(f"must be one of {', '.join(AGGREGATES)}", field="aggregate")
    return job_queue(kind=AnnotationJobKind.EXPORT, target=project, created_by=created_by,
                     params={"format": fmt, "aggregate": aggregate})


def export_file(job: Job) -> str:
    """The job's file, as a name in the default storage; its manifest is ``<name>.manifest.json``."""
    params = job.params
    suffix = "" if params["aggregate"] == "none" else f"-{params['aggregate']}"
    return f"exports/job-{job.pk}/{job.target.slug}-labels{suffix}.{params['format']}"


def run_export(job: Job, on_batch) -> dict:
    """Writes the file and its manifest, stored whole (``webapp.jobs.files``; a re-run replaces them)."""
    from annotations.services.exporting import labels_export

    name = export_file(job)
    manifest = job_file_write(job, on_batch, name=name, write=lambda local: labels_export(
        project=job.target, out=str(local), fmt=job.params["format"], aggregate=job.params["aggregate"]))
    return {"file": Path(name).name, "rows": manifest["rows"], "labels": manifest["labels"]}


@transaction.atomic
def agreement_report_job_launch(*, project: Project, created_by, n_bootstrap: int | str = REPORT_BOOTSTRAP,
                                seed: int | str = 0, by: list[str] | tuple[str, ...] = ()) -> Job:
    """Queues the agreement report of ``project``, broken down by the annotator attributes ``by``, with
    more bootstrap replicates than a page can afford. The caller has checked that ``created_by`` may see
    the project. Raises ``JobError`` naming the field."""
    params = {"report": "agreement", **report_numbers_clean(n_bootstrap=n_bootstrap, seed=seed),
              "by": _attributes_clean(by)}
    return job_queue(kind=AnnotationJobKind.AGREEMENT_REPORT, target=project, created_by=created_by, params=params)


def _attributes_clean(by) -> list[str]:
    if isinstance(by, str) or not all(isinstance(name, str) and name.strip() for name in by):
        raise JobError("must be a list of annotator attribute names", field="params.by")
    names = [name.strip() for name in by]
    if len(set(names)) != len(names):
        raise JobError("names must be distinct", field="params.by")
    return names


def agreement_report_file(job: Job) -> str:
    return report_file_name(job, slug=job.target.slug)


def run_agreement_report(job: Job, on_batch) -> dict:
    """Computes the project's agreement report and writes it as JSON with its manifest."""
    from annotations.agreement.load import excluded_annotator_ids, project_agreement_report
    from annotations.models import Item, Label

    project, params = job.target, job.params

    def build() -> tuple[dict, dict]:
        report = project_agreement_report(project=project, by=params["by"], n_bootstrap=params["n_bootstrap"],
                                          seed=params["seed"])
        labels = Label.objects.filter(project=project, item__role=Item.Role.TASK).exclude(
            annotator_id__in=excluded_annotator_ids(project=project))
        counts = {"items": labels.values("item_id").distinct().count(), "labels": labels.count()}
        return report, {"project": project.slug, "spec_hash": project.spec_hash, "by": params["by"], **counts}

    return report_run(job, on_batch, name=agreement_report_file(job), build=build)


def _export_from_data(*, target, created_by, data: dict) -> Job:
    return export_job_launch(project=target, created_by=created_by, fmt=data.get("format", "jsonl"),
                             aggregate=data.get("aggregate", "none"))


def _agreement_report_from_data(*, target, created_by, data: dict) -> Job:
    if "include_ended" in data:
        raise JobError("only a study's report leaves out ended participants", field="params.include_ended")
    unknown = sorted(set(data) - {"n_bootstrap", "seed", "by"})
    if unknown:
        raise JobError("is not a setting of an agreement report", field=f"params.{unknown[0]}")
    return agreement_report_job_launch(project=target, created_by=created_by,
                                       n_bootstrap=data.get("n_bootstrap", REPORT_BOOTSTRAP),
                                       seed=data.get("seed", 0), by=data.get("by") or ())


def register() -> None:
    target_register(Target(
        name="project", model=Project,
        visible=lambda *, user: _selectors().projects_for_user(user=user),
        get_for_user=lambda *, user, key: _selectors().project_get_for_user(user=user, slug=key),
        url=lambda project: reverse("annotations:project_detail", args=[project.slug])))
    job_kind_register(JobKind(
        name=AnnotationJobKind.EXPORT, label=AnnotationJobKind.EXPORT.label, queue=Queue.DEFAULT, run=run_export,
        launch=_export_from_data, targets=(Project,),
        file=ResultFile(name="export", path=export_file, summary_template="annotations/_export_file.html")))
    job_kind_register(JobKind(
        name=AnnotationJobKind.AGREEMENT_REPORT, label=AnnotationJobKind.AGREEMENT_REPORT.label,
        queue=Queue.DEFAULT, run=run_agreement_report, launch=_agreement_report_from_data, targets=(Project,),
        file=ResultFile(name="report", path=agreement_report_file,
                        summary_template="annotations/_agreement_report_file.html")))


def _selectors():
    from annotations import selectors

    return selectors
