"""Writes for the model registry and model jobs. Import from here: ``from ml.services import model_job_launch``.
The job machinery itself (cancel, retry, run, progress) is the job system's: ``webapp.jobs.services``."""

from ml.services.jobs import model_job_launch, params_clean
from ml.services.registry import (
    RegistryError,
    model_defaults_register,
    model_version_active,
    model_version_promote,
    model_version_register,
)
from ml.services.running import generations_store, scores_store

__all__ = [
    "RegistryError", "generations_store", "model_defaults_register", "model_job_launch", "model_version_active",
    "model_version_promote", "model_version_register", "params_clean", "scores_store",
]
