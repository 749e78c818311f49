from django.core.management.base import BaseCommand, CommandError

from ml.models import ModelKind, ModelVersion
from ml.services import RegistryError, model_version_register
from webapp.people.acting import acting_researcher


class Command(BaseCommand):
    help = "Registers a model folder as a new model version; refuses a folder that is not a loadable model of KIND."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--kind", required=True, choices=ModelKind.values)
        parser.add_argument("--path", required=True, help="the model folder (as the workers see it)")
        parser.add_argument("--base", default="", help="the base model it started from")
        parser.add_argument("--parent", default=None, help="name of the version it was trained from")
        parser.add_argument("--export", default="", help="the export it was trained from")
        parser.add_argument("--activate", action="store_true", help="make it the active version of its kind")
        parser.add_argument("--user", default=None, help="the researcher registering it")

    def handle(self, *args, name, kind, path, base, parent, export, activate, user, **options):
        parent_version = None
        if parent:
            parent_version = ModelVersion.objects.filter(name=parent).first()
            if parent_version is None:
                raise CommandError(f"--parent: no model version called {parent!r}")
        try:
            version = model_version_register(name=name, kind=kind, path=path, base=base, parent=parent_version,
                                             export=export, activate=activate, registered_by=acting_researcher(user, option="--user"))
        except RegistryError as exc:
            raise CommandError(str(exc)) from exc
        state = "active" if version.is_active else "inactive"
        self.stdout.write(f"registered {version.name} ({version.kind}, {state}) id={version.pk} at {version.path}")
