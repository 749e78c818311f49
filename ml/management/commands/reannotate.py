from django.core.management.base import BaseCommand, CommandError

from ml.models import ModelVersion
from ml.services.reannotation import items_reannotate
from webapp.jobs.errors import JobError


class Command(BaseCommand):
    help = ("Sends the held-out items where a trained version and the humans disagree most back to their "
            "project's queue for N more labels each.")

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--top", type=int, required=True, help="how many items")
        parser.add_argument("--labels", type=int, default=3, help="more labels per item (default 3)")

    def handle(self, *args, name, top, labels, **options):
        version = ModelVersion.objects.filter(name=name).first()
        if version is None:
            raise CommandError(f"name: no model version called {name!r}")
        try:
            items = items_reannotate(version=version, top=top, labels=labels)
        except JobError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{len(items)} items back in the queue for {labels} more labels: {', '.join(items)}")
