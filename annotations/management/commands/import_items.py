"""manage.py import_items SLUG FILE [--format FMT]: import items into a project, all or nothing."""

import time

from django.core.management.base import BaseCommand, CommandError

from annotations.importing import ITEM_FORMATS, ImportFormatError
from annotations.models import Project
from annotations.services.importing import items_import


class Command(BaseCommand):
    help = "Import items (JSONL, CSV, EmpatheticDialogues, EmpathicStories, EPITOME, turn-level CSV) into a project."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("file")
        parser.add_argument("--format", dest="fmt", choices=ITEM_FORMATS,
                            help="file format (default: detected from the extension and header)")

    def handle(self, *args, slug, file, fmt=None, **options):
        project = Project.objects.filter(slug=slug).first()
        if project is None:
            raise CommandError(f"no project {slug!r}")
        started = time.perf_counter()
        try:
            count = items_import(project=project, path_or_file=file, fmt=fmt)
        except FileNotFoundError:
            raise CommandError(f"no file {file}") from None
        except ImportFormatError as exc:
            raise CommandError(f"{exc} (nothing was imported)") from None
        self.stdout.write(f"imported {count} items into {slug} in {time.perf_counter() - started:.1f} s")
