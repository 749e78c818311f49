from django.core.management.base import BaseCommand, CommandError

from ml.models import ModelVersion
from ml.services.comparison import comparison_study_create
from webapp.jobs.errors import JobError
from webapp.people.acting import acting_researcher


class Command(BaseCommand):
    help = ("Creates a blinded study of a trained generator against its parent on the line's held-out prompts, "
            "and launches both generation jobs; the study opens when both are done.")

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--user", required=True, help="the researcher who will own the study")

    def handle(self, *args, name, user, **options):
        version = ModelVersion.objects.filter(name=name).first()
        if version is None:
            raise CommandError(f"name: no model version called {name!r}")
        try:
            study, jobs = comparison_study_create(version=version, owner=acting_researcher(user, option="--user"))
        except JobError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"study {study.slug} created with {study.prompts.count()} held-out prompts; "
                          f"generation jobs {', '.join(str(j.pk) for j in jobs)} queued")
