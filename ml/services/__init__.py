"""Writes for the model registry and jobs. Import from here: ``from ml.services import job_launch``."""

from ml.services.exports import export_file, export_job_launch
from ml.services.files import MANIFEST_SUFFIX
from ml.services.jobs import (
    QUEUE_UNREACHABLE,
    JobError,
    job_cancel,
    job_claim,
    job_enqueue,
    job_finish,
    job_launch,
    job_progress,
    job_requeue,
    jobs_recover,
    params_clean,
)
from ml.services.registry import (
    RegistryError,
    model_defaults_register,
    model_version_active,
    model_version_promote,
    model_version_register,
)
from ml.services.reports import REPORT_BOOTSTRAP, report_file, report_job_launch
from ml.services.running import generations_store, job_file, job_run, scores_store

__all__ = [
    "MANIFEST_SUFFIX", "QUEUE_UNREACHABLE", "JobError", "RegistryError", "export_file", "export_job_launch",
    "generations_store", "job_cancel", "job_claim", "job_enqueue", "job_finish", "job_launch", "job_progress", "job_requeue", "job_run", "jobs_recover", "model_defaults_register",
    "model_version_active", "model_version_promote", "model_version_register", "params_clean", "scores_store",
    "REPORT_BOOTSTRAP", "job_file", "report_file", "report_job_launch",
]
