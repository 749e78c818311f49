"""The kinds of job studies owns, registered with the job system from ``StudiesConfig.ready()``: the
full preference report of a study and its preference export (DPO pairs or raw judgments, with the
manifest), both on the ``default`` queue, each leaving its file for download. Also registers the study as
a job target: a job on a study is visible to whoever may see the study."""

from __future__ import annotations

from pathlib import Path

from django.db import models, transaction
from django.urls import reverse

from studies.models import Study
from webapp.jobs.errors import JobError
from webapp.jobs.files import job_file_write
from webapp.jobs.models import Job, Queue
from webapp.jobs.registry import JobKind, ResultFile, Target, job_kind_register, target_register
from webapp.jobs.reports import REPORT_BOOTSTRAP, report_file_name, report_numbers_clean, report_run
from webapp.jobs.services import job_queue


class StudyJobKind(models.TextChoices):
    STUDY_REPORT = "study_report", "Statistical report"
    PREFERENCE_EXPORT = "preference_export", "Preference export"


EXPORT_SWITCHES = ("include_ended", "exclude_one_sided", "per_judgment", "with_attributes")


@transaction.atomic
def preference_export_job_launch(*, study: Study, created_by, fmt: str = "dpo", criteria: list[str] | None = None,
                                 **switches) -> Job:
    """Queues the study's preference export as ``fmt`` ("dpo": chosen/rejected pairs for training; "raw": one
    record per judgment), for the ``criteria`` named (default: all), with the export's switches
    (EXPORT_SWITCHES, each true or false). The caller has checked that ``created_by`` may see the study. Raises
    ``JobError`` naming the field."""
    from studies.export import FORMATS

    if fmt not in FORMATS:
        raise JobError(f"must be one of {', '.join(FORMATS)}", field="format")
    unknown = sorted(set(switches) - set(EXPORT_SWITCHES))
    if unknown:
        raise JobError("is not a setting of a preference export", field=f"params.{unknown[0]}")
    for name, value in switches.items():
        if not isinstance(value, bool):
            raise JobError("must be true or false", field=f"params.{name}")
    known = [criterion["name"] for criterion in study.spec.get("criteria") or []]
    criteria = list(criteria or [])
    strangers = [name for name in criteria if name not in known]
    if strangers:
        raise JobError(f"{strangers[0]!r} is not a criterion of this study (its criteria: {', '.join(known)})",
                       field="params.criteria")
    params = {"format": fmt, "criteria": criteria, **{name: bool(switches.get(name, False)) for name in EXPORT_SWITCHES}}
    return job_queue(kind=StudyJobKind.PREFERENCE_EXPORT, target=study, created_by=created_by, params=params)


def preference_export_file(job: Job) -> str:
    """The job's file, as a name in the default storage; its manifest is ``<name>.manifest.json``."""
    return f"exports/job-{job.pk}/{job.target.slug}-preferences-{job.params['format']}.jsonl"


def run_preference_export(job: Job, on_batch) -> dict:
    """Writes the export and its manifest (filters, counts, the file's SHA-256), stored whole."""
    from studies.export import export_filters, export_write

    study, params = job.target, job.params
    filters = export_filters(study, criteria=params["criteria"], **{name: params[name] for name in EXPORT_SWITCHES})
    name = preference_export_file(job)
    manifest = job_file_write(job, on_batch, name=name, write=lambda local: export_write(
        study, path=local, format=params["format"], filters=filters))
    return {"file": Path(name).name, "format": params["format"], "records": manifest["counts"]["records"],
            "sha256": manifest["sha256"]}


def _preference_export_from_data(*, target, created_by, data: dict) -> Job:
    settings = dict(data)
    criteria = settings.pop("criteria", None) or []
    if not isinstance(criteria, list) or not all(isinstance(name, str) for name in criteria):
        raise JobError("must be a list of criterion names", field="params.criteria")
    # what is left besides the format are the switches; the launch refuses any other name
    return preference_export_job_launch(study=target, created_by=created_by, fmt=settings.pop("format", "dpo"),
                                        criteria=criteria, **settings)


@transaction.atomic
def study_report_job_launch(*, study: Study, created_by, n_bootstrap: int | str = REPORT_BOOTSTRAP,
                            seed: int | str = 0, include_ended: bool = False) -> Job:
    """Queues the report of ``study`` (``include_ended`` keeps participants ended by the attention
    checks) with more bootstrap replicates than a page can afford. The caller has checked that
    ``created_by`` may see the study. Raises ``JobError`` naming the field."""
    if not isinstance(include_ended, bool):
        raise JobError("must be true or false", field="params.include_ended")
    params = {"report": "study", **report_numbers_clean(n_bootstrap=n_bootstrap, seed=seed),
              "include_ended": include_ended}
    return job_queue(kind=StudyJobKind.STUDY_REPORT, target=study, created_by=created_by, params=params)


def study_report_file(job: Job) -> str:
    return report_file_name(job, slug=job.target.slug)


def run_study_report(job: Job, on_batch) -> dict:
    """Computes the study's report and writes it as JSON with its manifest."""
    from studies.analysis.load import study_report_for

    study, params = job.target, job.params

    def build() -> tuple[dict, dict]:
        report = study_report_for(study, include_ended=params["include_ended"], n_bootstrap=params["n_bootstrap"],
                                  seed=params["seed"])
        counts = {"judgments": report["counts"]["judgments"], "participants": report["counts"]["participants"]}
        return report, {"study": study.slug, "spec_hash": study.spec_hash,
                        "include_ended": params["include_ended"], **counts}

    return report_run(job, on_batch, name=study_report_file(job), build=build)


def _study_report_from_data(*, target, created_by, data: dict) -> Job:
    if data.get("by"):
        raise JobError("only an agreement report breaks down by annotator attributes", field="params.by")
    unknown = sorted(set(data) - {"n_bootstrap", "seed", "include_ended", "by"})
    if unknown:
        raise JobError("is not a setting of a study report", field=f"params.{unknown[0]}")
    return study_report_job_launch(study=target, created_by=created_by,
                                   n_bootstrap=data.get("n_bootstrap", REPORT_BOOTSTRAP), seed=data.get("seed", 0),
                                   include_ended=data.get("include_ended", False))


def register() -> None:
    target_register(Target(
        name="study", model=Study,
        visible=lambda *, user: _selectors().studies_for_user(user=user),
        get_for_user=lambda *, user, key: _selectors().study_get_for_user(user=user, slug=key),
        url=lambda study: reverse("studies:study_detail", args=[study.slug])))
    job_kind_register(JobKind(
        name=StudyJobKind.STUDY_REPORT, label=StudyJobKind.STUDY_REPORT.label, queue=Queue.DEFAULT,
        run=run_study_report, launch=_study_report_from_data, targets=(Study,),
        file=ResultFile(name="report", path=study_report_file, summary_template="studies/_study_report_file.html")))
    job_kind_register(JobKind(
        name=StudyJobKind.PREFERENCE_EXPORT, label=StudyJobKind.PREFERENCE_EXPORT.label, queue=Queue.DEFAULT,
        run=run_preference_export, launch=_preference_export_from_data, targets=(Study,),
        file=ResultFile(name="export", path=preference_export_file,
                        summary_template="studies/_preference_export_file.html")))


def _selectors():
    from studies import selectors

    return selectors
