"""Imports of items or labels run as a background job (``import``, on the ``default`` queue), for files larger
than ``RESONANCE_IMPORT_INLINE_BYTES``; smaller ones are imported inside the request by the same services.

The launch stores the upload (``annotations.services.import_uploads``) and queues the job. The runner reads
the file twice: a read pass through the parsers, outside any transaction, reports progress (lines read of the
file's lines, every ``PROGRESS_EVERY`` rows), observes a cancel and refuses a malformed line; then the store
pass runs the import service itself (``items_import`` / ``labels_import``, the inline path's own function),
one transaction that also records the job's result, so a failing import stores nothing and a redelivered job
finds its rows already stored instead of writing them twice. The store pass reports no progress: an update
written inside its transaction would stay invisible, and the job row locked, until it commits. The stored file
is removed when the job ends (``import_ended``), whatever the outcome, also when it is cancelled before it ran.
"""

from __future__ import annotations

from django.db import transaction

from annotations.importing import ITEM_FORMATS, LABEL_FORMATS, iter_items, iter_label_rows
from annotations.models import Project
from annotations.services.import_uploads import (
    upload_lines,
    upload_open,
    upload_remove,
    upload_shown_name,
    upload_store,
)
from webapp.jobs.errors import Cancelled, JobError
from webapp.jobs.models import Job, Queue
from webapp.jobs.registry import JobKind, job_kind_register
from webapp.jobs.services import job_queue, job_result_record

IMPORT_KIND = "import"
WHAT_FORMATS = {"items": ITEM_FORMATS, "labels": LABEL_FORMATS}
PROGRESS_EVERY = 2000  # rows between progress updates (each is one small UPDATE of the job row)


@transaction.atomic
def import_job_launch(*, project: Project, created_by, upload, what: str, fmt: str | None = None,
                      same_annotators_as: Project | None = None) -> Job:
    """Stores ``upload`` and queues the import of its ``what`` (``items`` or ``labels``) into ``project``.
    ``same_annotators_as`` (labels only) is the project whose annotators the file's ids are. The caller has
    checked that ``created_by`` may use both projects and that the upload's size is allowed. Raises
    ``JobError`` naming ``what`` or ``format``."""
    if what not in WHAT_FORMATS:
        raise JobError(f"must be one of {', '.join(WHAT_FORMATS)}", field="what")
    if fmt is not None and fmt not in WHAT_FORMATS[what]:
        raise JobError(f"{fmt!r} is not one of {', '.join(WHAT_FORMATS[what])}", field="format")
    if same_annotators_as is not None and what != "labels":
        raise JobError("only a labels import names whose annotators its ids are", field="same_annotators_as")
    params = {"what": what, "format": fmt, "file": upload_shown_name(upload),
              "same_annotators_as": same_annotators_as.pk if same_annotators_as else None}
    job = job_queue(kind=IMPORT_KIND, target=project, created_by=created_by, params=params)
    job.params = {**params, "upload": upload_store(job_id=job.pk, upload=upload)}
    job.save(update_fields=["params"])
    return job


def run_import(job: Job, on_batch) -> dict:
    """Reads, then stores, the job's file (see the module docstring); returns ``{"what", "file", "imported"}``,
    plus ``"attributes"`` (the annotator attribute columns kept) for labels. Raises ``ImportFormatError`` naming
    the researcher's file, line and field, with nothing stored."""
    if "imported" in job.result:  # an earlier run of this job committed its rows
        return job.result
    return _read_then_store(job, on_batch)


def import_ended(job: Job) -> None:
    """Removes the job's stored file once the job has ended, whatever the outcome (a job that Celery retries
    after a transient error has not ended, and keeps it)."""
    if job.params.get("upload"):
        upload_remove(job.params["upload"])


def _read_then_store(job: Job, on_batch) -> dict:
    from annotations.services.importing import items_import, labels_import

    project, params = job.target, job.params
    try:
        total = upload_lines(params["upload"])
    except FileNotFoundError:
        raise JobError("the uploaded file was removed when this job ended; upload it again", field="file") from None
    if not on_batch(0, total):
        raise Cancelled("stopped before the file was read")
    with upload_open(params["upload"], shown_as=params["file"]) as handle:
        rows = (iter_items(handle, fmt=params["format"], kind=project.kind) if params["what"] == "items"
                else iter_label_rows(handle, fmt=params["format"]))
        for count, row in enumerate(rows, start=1):
            if count % PROGRESS_EVERY == 0 and not on_batch(row["line"], total):
                raise Cancelled(f"stopped at line {row['line']}, before anything was stored")
    if not on_batch(total, total):
        raise Cancelled("stopped after reading the file, before anything was stored")
    summary = {"what": params["what"], "file": params["file"]}
    with transaction.atomic(), upload_open(params["upload"], shown_as=params["file"]) as handle:
        if params["what"] == "items":
            summary["imported"] = items_import(project=project, path_or_file=handle, fmt=params["format"])
        else:
            imported = labels_import(project=project, path_or_file=handle, fmt=params["format"],
                                     same_annotators_as=_annotators_project(params["same_annotators_as"]))
            summary.update(imported=int(imported), attributes=imported.attributes)
        job_result_record(job_id=job.pk, result=summary)
    return summary


def _annotators_project(pk: int | None) -> Project | None:
    if pk is None:
        return None
    found = Project.objects.filter(pk=pk).first()
    if found is None:
        raise JobError("the project whose annotators these are was deleted", field="same_annotators_as")
    return found


def _from_data(*, target, created_by, data: dict) -> Job:
    raise JobError("an import starts from its file: upload it to /api/projects/<slug>/items/ or /labels/, "
                   "or on the project's import page", field="kind")


def _described(job: Job) -> dict:
    return {"note": f"{job.params.get('what', 'items')} from {job.params.get('file', 'a file')}"}


def register() -> None:
    """Registers the import kind (the project target is registered by ``annotations.jobs``)."""
    job_kind_register(JobKind(
        name=IMPORT_KIND, label="Import", queue=Queue.DEFAULT, run=run_import, launch=_from_data,
        targets=(Project,), describe=_described, progress_template="annotations/_import_progress.html",
        ended=import_ended))
