from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from studies.management.commands._owner import study_by_slug
from studies.services import StudyError, judgments_import


class Command(BaseCommand):
    help = ("Imports judgments collected elsewhere: CSV participant_id,prompt_id,system_a,system_b,choice "
            "(a/b/tie) with optional left (a/b) and criterion columns, and participant attribute columns "
            "(demographic ones or the study's survey questions; any other column is refused); all or nothing.")

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("file", type=Path)

    def handle(self, *args, slug: str, file: Path, **options):
        study = study_by_slug(slug)
        try:
            with file.open(encoding="utf-8", newline="") as handle:
                imported = judgments_import(study=study, lines=handle, source=file.name)
        except OSError as exc:
            raise CommandError(f"{file}: cannot read ({exc.strerror})") from exc
        except StudyError as exc:
            raise CommandError(str(exc)) from exc
        kept = ", ".join(imported.attributes) or "none"
        self.stdout.write(f"{imported.judgments} judgments imported into {study.slug} "
                          f"({imported.participants} new participants); participant attributes kept: {kept}")
