from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from studies.services import StudyError, study_load
from studies.spec import SpecError, spec_load_file
from webapp.people.acting import acting_researcher


class Command(BaseCommand):
    help = "Creates or updates a preference study from a YAML/JSON spec (prompts_file resolved beside it)."

    def add_arguments(self, parser):
        parser.add_argument("spec", type=Path)
        parser.add_argument("--owner", help="username of the owning researcher (default: first superuser)")

    def handle(self, *args, spec: Path, owner=None, **options):
        try:
            parsed = spec_load_file(spec)
            study = study_load(spec=parsed, owner=acting_researcher(owner, default_first=True))
        except (SpecError, StudyError) as exc:
            raise CommandError(f"{spec}: {exc}") from exc
        kept = sorted({key for prompt in parsed["prompts"] for key in prompt.get("metadata", {})})
        self.stdout.write(f"study {study.slug}: {len(parsed['prompts'])} prompts, {len(parsed['systems'])} systems; "
                          f"prompt metadata kept: {', '.join(kept) or 'none'}")
