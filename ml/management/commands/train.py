import json

from django.core.management.base import BaseCommand, CommandError

from annotations.models import Project
from ml.core.training.config import RECIPES
from ml.models import ModelVersion
from ml.services.training import STUDY_RECIPES, train_job_launch
from studies.models import Study
from webapp.jobs.commands import job_follow
from webapp.jobs.errors import JobError
from webapp.people.acting import acting_researcher


def _value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


class Command(BaseCommand):
    help = ("Trains a new model version from a project's labels (reward-model, bi-encoder, sft) or a study's "
            "preferences (dpo, preference-rm). The export is frozen at launch; the version is registered inactive. "
            "--wait follows the run; --json prints the new version's name, its metrics and its parent's.")

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the annotation project (or, for dpo / preference-rm, the study)")
        parser.add_argument("--recipe", required=True, choices=RECIPES)
        parser.add_argument("--base", default=None, help="the model version to start from")
        parser.add_argument("--holdout-group", default=None, metavar="ATTR=VALUE",
                            help="hold out the labels of one annotator group (e.g. country=B)")
        parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                            help="override a hyperparameter (repeatable), e.g. --set max_steps=20")
        parser.add_argument("--wait", action="store_true")
        parser.add_argument("--json", action="store_true", help="with --wait: print the result as JSON")
        parser.add_argument("--timeout", type=float, default=None)
        parser.add_argument("--user", default=None, help="the researcher launching it")

    def handle(self, *args, slug, recipe, base, holdout_group, set, wait, json, timeout, user, **options):  # noqa: A002
        target = {}
        if recipe in STUDY_RECIPES:
            target["study"] = Study.objects.filter(slug=slug).first()
            if target["study"] is None:
                raise CommandError(f"slug: no study called {slug!r}")
        else:
            target["project"] = Project.objects.filter(slug=slug).first()
            if target["project"] is None:
                raise CommandError(f"slug: no annotation project called {slug!r}")
        base_version = None
        if base:
            base_version = ModelVersion.objects.filter(name=base).first()
            if base_version is None:
                raise CommandError(f"--base: no model version called {base!r}")
        group = None
        if holdout_group:
            attribute, sep, value = holdout_group.partition("=")
            if not sep or not attribute or not value:
                raise CommandError("--holdout-group: write it as ATTR=VALUE, e.g. country=B")
            group = (attribute.strip(), value.strip())
        overrides = {}
        for item in set:
            key, sep, value = item.partition("=")
            if not sep:
                raise CommandError(f"--set: {item!r} is not KEY=VALUE")
            overrides[key.strip()] = _value(value)
        try:
            job = train_job_launch(recipe=recipe, created_by=acting_researcher(user, option="--user"), base=base_version,
                                   holdout_group=group, overrides=overrides, **target)
        except JobError as exc:
            raise CommandError(str(exc)) from exc
        if not wait:
            job.refresh_from_db()
            self.stdout.write(f"job {job.pk} queued (train {recipe} from {job.model_version.name})")
            return
        job = job_follow(self, job, timeout=timeout)
        version = ModelVersion.objects.get(pk=job.result["version_id"])
        if json:
            self.stdout.write(_json_dump({"version": version.name, "job": job.pk, "parent": version.parent.name,
                                          "metrics": version.metrics["heldout"],
                                          "parent_metrics": version.metrics["parent"]}))
        else:
            self.stdout.write(f"registered {version.name} ({version.kind}, inactive); promote it with "
                              f"`manage.py promote {version.name}`")


def _json_dump(data) -> str:
    return json.dumps(data, default=str)
