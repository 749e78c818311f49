"""Shared by ml's commands: who acts, which model version, and the common body of `generate` and `score`
(parse the target, launch, optionally follow)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from annotations.models import Project
from ml.models import ModelVersion
from ml.services import model_job_launch
from studies.models import Study
from webapp.jobs.commands import job_announce, job_follow
from webapp.jobs.errors import JobError
from webapp.people.acting import acting_researcher


def version_by_name_or_active(name: str | None, kinds: tuple[str, ...]) -> ModelVersion:
    """The version called ``name``, or the active one of the first kind in ``kinds`` that has one."""
    if name:
        version = ModelVersion.objects.filter(name=name).first()
        if version is None:
            raise CommandError(f"--model: no model version called {name!r} (see /models/)")
        return version
    for kind in kinds:
        version = ModelVersion.objects.filter(kind=kind, is_active=True).first()
        if version is not None:
            return version
    raise CommandError(f"--model: no active {' or '.join(kinds)}; name one or run register_defaults")


class LaunchCommand(BaseCommand):
    job_kind = ""
    model_kinds: tuple[str, ...] = ()

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--study", help="study slug")
        target.add_argument("--project", help="annotation project slug")
        parser.add_argument("--model", help=f"model version name (default: the active {' or '.join(self.model_kinds)})")
        parser.add_argument("--system", default="", help="study system to fill (generation) or to score")
        parser.add_argument("--params", default="{}", help='job parameters as JSON, e.g. \'{"batch_size": 8}\'')
        parser.add_argument("--user", default=None, help="the researcher launching it")
        parser.add_argument("--wait", action="store_true", help="follow progress; exit non-zero unless it succeeds")
        parser.add_argument("--timeout", type=float, default=None, help="with --wait: give up following after S")

    def default_model_kinds(self, project) -> tuple[str, ...]:
        """Kinds whose active version is used when --model is not given."""
        return self.model_kinds

    def handle(self, *args, study, project, model, system, params, user, wait, timeout, **options):
        try:
            parsed = json.loads(params)
        except json.JSONDecodeError as exc:
            raise CommandError(f"--params: not valid JSON ({exc.msg})") from exc
        target_study = Study.objects.filter(slug=study).first() if study else None
        target_project = Project.objects.filter(slug=project).first() if project else None
        if study and target_study is None:
            raise CommandError(f"--study: no study {study!r}")
        if project and target_project is None:
            raise CommandError(f"--project: no project {project!r}")
        version = version_by_name_or_active(model, self.default_model_kinds(target_project))
        try:
            job = model_job_launch(kind=self.job_kind, model_version=version, created_by=acting_researcher(user, option="--user"),
                             study=target_study, project=target_project, system_name=system, params=parsed)
        except JobError as exc:
            raise CommandError(str(exc)) from exc
        job_announce(self, job)
        if wait:
            job = job_follow(self, job, timeout=timeout)
            self.stdout.write(f"job {job.pk} succeeded: {json.dumps(job.result)}")
