"""Label exports as background jobs on the ``default`` queue: the file is written by a worker into the
default storage (``MEDIA_ROOT``, which the web and the workers share) and downloaded from the job page,
so a large project's export never holds a web request open."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction

from annotations.models import Project
from annotations.services.exporting import AGGREGATES, FORMATS, labels_export
from ml.core.errors import Cancelled
from ml.models import Job
from ml.services.jobs import JobError, job_enqueue

MANIFEST_SUFFIX = ".manifest.json"


def export_job_launch(*, project: Project, created_by, fmt: str = "jsonl", aggregate: str = "none") -> Job:
    """Queues an export of ``project``'s labels (raw, or aggregated by ``aggregate``) as ``fmt``.
    The caller has checked that ``created_by`` may see the project. Raises ``JobError``."""
    if fmt not in FORMATS:
        raise JobError(f"format: must be one of {', '.join(FORMATS)}")
    if aggregate not in AGGREGATES:
        raise JobError(f"aggregate: must be one of {', '.join(AGGREGATES)}")
    job = Job.objects.create(
        kind=Job.Kind.EXPORT,
        project=project,
        params={"format": fmt, "aggregate": aggregate},
        created_by=created_by,
    )
    transaction.on_commit(lambda: job_enqueue(job_id=job.pk))
    return job


def export_file(job: Job) -> str:
    """The job's file, as a name in the default storage; its manifest is ``<name>.manifest.json``."""
    params = job.params
    suffix = "" if params["aggregate"] == "none" else f"-{params['aggregate']}"
    return f"exports/job-{job.pk}/{job.project.slug}-labels{suffix}.{params['format']}"


def run_export(job: Job, on_batch) -> dict:
    """Writes the file and its manifest locally, then stores both whole (a re-run replaces them)."""
    if not on_batch(0, 1):
        raise Cancelled("stopped before the export started")
    name = export_file(job)
    with tempfile.TemporaryDirectory() as folder:
        local = Path(folder) / Path(name).name
        manifest = labels_export(
            project=job.project, out=str(local), fmt=job.params["format"], aggregate=job.params["aggregate"]
        )
        for source, target in (
            (local, name),
            (Path(f"{local}{MANIFEST_SUFFIX}"), f"{name}{MANIFEST_SUFFIX}"),
        ):
            default_storage.delete(target)
            with source.open("rb") as handle:
                default_storage.save(target, File(handle))
    on_batch(1, 1)
    return {"file": Path(name).name, "rows": manifest["rows"], "labels": manifest["labels"]}
