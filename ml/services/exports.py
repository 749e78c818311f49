"""Label exports as background jobs on the ``default`` queue: the file is written by a worker into the
default storage (``MEDIA_ROOT``, which the web and the workers share) and downloaded from the job page,
so a large project's export never holds a web request open."""

from __future__ import annotations

from pathlib import Path

from annotations.models import Project
from annotations.services.exporting import AGGREGATES, FORMATS, labels_export
from ml.models import Job
from ml.services.files import job_file_write
from ml.services.jobs import JobError, job_queue


def export_job_launch(*, project: Project, created_by, fmt: str = "jsonl", aggregate: str = "none") -> Job:
    """Queues an export of ``project``'s labels (raw, or aggregated by ``aggregate``) as ``fmt``.
    The caller has checked that ``created_by`` may see the project. Raises ``JobError``."""
    if fmt not in FORMATS:
        raise JobError(f"format: must be one of {', '.join(FORMATS)}")
    if aggregate not in AGGREGATES:
        raise JobError(f"aggregate: must be one of {', '.join(AGGREGATES)}")
    return job_queue(kind=Job.Kind.EXPORT, project=project, params={"format": fmt, "aggregate": aggregate},
                     created_by=created_by)


def export_file(job: Job) -> str:
    """The job's file, as a name in the default storage; its manifest is ``<name>.manifest.json``."""
    params = job.params
    suffix = "" if params["aggregate"] == "none" else f"-{params['aggregate']}"
    return f"exports/job-{job.pk}/{job.project.slug}-labels{suffix}.{params['format']}"


def run_export(job: Job, on_batch) -> dict:
    """Writes the file and its manifest, stored whole (``ml.services.files``; a re-run replaces them)."""
    name = export_file(job)
    manifest = job_file_write(job, on_batch, name=name, write=lambda local: labels_export(
        project=job.project, out=str(local), fmt=job.params["format"], aggregate=job.params["aggregate"]))
    return {"file": Path(name).name, "rows": manifest["rows"], "labels": manifest["labels"]}
