from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from studies.management.commands._owner import study_by_slug
from studies.services import StudyError, responses_import_file, responses_missing


class Command(BaseCommand):
    help = "Imports responses (JSONL {prompt_id, system, response}) into a study; all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("file", type=Path)

    def handle(self, *args, slug: str, file: Path, **options):
        study = study_by_slug(slug)
        try:
            count = responses_import_file(study=study, path=file)
        except StudyError as exc:
            raise CommandError(str(exc)) from exc
        missing = responses_missing(study=study)
        self.stdout.write(f"{count} responses stored; {len(missing)} still missing before the study can open")
