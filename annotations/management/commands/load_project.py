"""manage.py load_project SPEC [--owner USERNAME]: create or update a project from a YAML/JSON spec."""

from django.core.management.base import BaseCommand, CommandError

from annotations.services.importing import project_load_spec
from annotations.spec import SpecError
from webapp.people.acting import acting_researcher


class Command(BaseCommand):
    help = "Create or update (by slug) an annotation project from a YAML or JSON spec file."

    def add_arguments(self, parser):
        parser.add_argument("spec", help="path to the spec file (YAML or JSON)")
        parser.add_argument("--owner", help="username of the owning researcher (required for a new project)")

    def handle(self, *args, spec, owner=None, **options):
        try:
            with open(spec, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as exc:
            raise CommandError(f"cannot read {spec}: {exc.strerror}") from None
        owner_user = acting_researcher(owner)
        try:
            project = project_load_spec(spec_text=text, owner=owner_user)
        except SpecError as exc:
            raise CommandError(f"{spec}: {exc}") from None
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"project {project.slug} loaded (spec {project.spec_hash[:12]}, "
                          f"{len(project.spec['dimensions'])} dimensions)")
