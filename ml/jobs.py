"""The kinds of job ml owns, registered with the job system from ``MlConfig.ready()``: generation,
scoring and training, all on the ``gpu`` queue, all on a study or an annotation project.

Each runner loads the job's ``ModelJob`` row and turns the ml core's stops into the job system's:
the core's ``Cancelled`` into ``webapp.jobs.errors.Cancelled``, a model that cannot be loaded, a
device that does not exist and unusable input into a ``JobError`` (the job fails with the reason)."""

from __future__ import annotations

from collections.abc import Callable

from annotations.models import Project
from ml.core.errors import Cancelled as CoreCancelled
from ml.core.errors import DeviceUnavailable, ModelLoadError
from ml.models import MlJobKind, ModelJob
from ml.services.inputs import InputError
from studies.models import Study
from webapp.jobs.errors import Cancelled, JobError
from webapp.jobs.models import Job, Queue
from webapp.jobs.registry import JobKind, job_kind_register


def _on_model_job(run: Callable[[ModelJob, Callable[[int, int], bool]], dict]):
    def runner(job: Job, on_batch) -> dict:
        try:
            return run(ModelJob.of(job), on_batch)
        except CoreCancelled as exc:
            raise Cancelled(str(exc)) from exc
        except ModelLoadError as exc:
            raise JobError(f"the model could not be loaded: {exc}") from exc
        except (DeviceUnavailable, InputError) as exc:
            raise JobError(str(exc)) from exc

    runner.__name__ = run.__name__
    return runner


def _run_generation(job: ModelJob, on_batch) -> dict:
    from ml.services.running import run_generation

    return run_generation(job, on_batch)


def _run_scoring(job: ModelJob, on_batch) -> dict:
    from ml.services.running import run_scoring

    return run_scoring(job, on_batch)


def _run_training(job: ModelJob, on_batch) -> dict:
    from ml.services.training_run import run_training

    return run_training(job, on_batch)


def _after_generation(job: Job) -> None:
    """A generation on a comparison study opens the study once both systems are filled."""
    from ml.services.comparison import comparison_open_if_ready

    if isinstance(job.target, Study):
        comparison_open_if_ready(study_id=job.target_id)


def _describe(job: Job) -> dict:
    model_job = ModelJob.of(job)
    note = f"system {model_job.system_name}" if model_job.system_name else ""
    return {"with": model_job.model_version.name, "note": note}


def _detail(job: Job) -> dict:
    from ml import selectors

    model_job = ModelJob.of(job)
    return {
        "model_job": model_job, "study": model_job.study, "project": model_job.project,
        "scores": selectors.job_score_table(job=model_job) if job.kind == MlJobKind.SCORING else None,
        "versus_annotators": selectors.job_similarity_vs_annotators(job=model_job) if job.is_finished else [],
        "human_agreement": selectors.job_human_agreement(job=model_job) if job.is_finished else {},
        "generations": selectors.job_generations(job=model_job) if job.kind == MlJobKind.GENERATION else [],
    }


def _model_launch(kind: str):
    def launch(*, target, created_by, data: dict) -> Job:
        from ml.services.jobs import model_job_launch
        from ml.services.launching import model_version_field

        version = model_version_field(data.get("model_version"))
        study, project = (target, None) if isinstance(target, Study) else (None, target)
        return model_job_launch(kind=kind, model_version=version, created_by=created_by, study=study,
                                project=project, system_name=str(data.get("system") or ""),
                                params=data.get("params") or {})

    return launch


def _train_launch(*, target, created_by, data: dict) -> Job:
    from ml.services.launching import train_launch_from_data

    return train_launch_from_data(target=target, created_by=created_by, data=data)


def register() -> None:
    common = {"queue": Queue.GPU, "targets": (Study, Project), "describe": _describe, "detail": _detail,
              "detail_template": "ml/_job_results.html"}
    job_kind_register(JobKind(name=MlJobKind.GENERATION, label=MlJobKind.GENERATION.label,
                              run=_on_model_job(_run_generation), launch=_model_launch(MlJobKind.GENERATION),
                              after=_after_generation, **common))
    job_kind_register(JobKind(name=MlJobKind.SCORING, label=MlJobKind.SCORING.label,
                              run=_on_model_job(_run_scoring), launch=_model_launch(MlJobKind.SCORING), **common))
    job_kind_register(JobKind(name=MlJobKind.TRAIN, label=MlJobKind.TRAIN.label, run=_on_model_job(_run_training),
                              launch=_train_launch, progress_template="ml/_train_progress.html", **common))

