from django.core.management.base import BaseCommand, CommandError

from ml.models import ModelVersion
from ml.services import model_version_promote


class Command(BaseCommand):
    help = "Makes the named model version the active one of its kind, so the workers use it."

    def add_arguments(self, parser):
        parser.add_argument("name")

    def handle(self, *args, name, **options):
        version = ModelVersion.objects.filter(name=name).first()
        if version is None:
            raise CommandError(f"name: no model version called {name!r}")
        version = model_version_promote(version=version)
        self.stdout.write(f"{version.name} is now the active {version.kind}")
