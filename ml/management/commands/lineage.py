import json

from django.core.management.base import BaseCommand, CommandError

from ml.models import ModelVersion
from ml.selectors_training import version_lineage


class Command(BaseCommand):
    help = "Shows a model version's line: each ancestor with what it was trained on and its held-out metrics."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, name, json: bool, **options):  # noqa: A002
        version = ModelVersion.objects.filter(name=name).first()
        if version is None:
            raise CommandError(f"name: no model version called {name!r}")
        line = version_lineage(version=version)
        if json:
            self.stdout.write(_dumps(line))
            return
        for depth, entry in enumerate(line):
            trained = entry["trained_on"] or "not trained here"
            self.stdout.write(f"{'  ' * depth}{entry['name']} ({entry['kind']}{', active' if entry['active'] else ''})"
                              f" - {trained}")


def _dumps(data) -> str:
    return json.dumps(data, default=str, indent=1)
