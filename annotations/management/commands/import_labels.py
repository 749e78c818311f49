"""manage.py import_labels SLUG FILE: import labels collected elsewhere (long CSV or EPITOME), all or nothing."""

from django.core.management.base import BaseCommand, CommandError

from annotations.importing import LABEL_FORMATS, ImportFormatError
from annotations.models import Project
from annotations.services.importing import labels_import


class Command(BaseCommand):
    help = ("Import labels from a long CSV (item_id, annotator_id, dimension, value[, turn], attribute columns...) "
            "or an EPITOME file. Per-turn values: dimension written name[turn] or a turn column.")

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("file")
        parser.add_argument("--format", dest="fmt", choices=LABEL_FORMATS, help="default: detected from the header")
        parser.add_argument("--dimension", help="target dimension for an EPITOME file whose name names none")
        parser.add_argument("--same-annotators-as", metavar="OTHER",
                            help="the file's annotator ids are those of project OTHER (default: this project's own)")

    def handle(self, *args, slug, file, fmt=None, dimension=None, same_annotators_as=None, **options):
        project = Project.objects.filter(slug=slug).first()
        if project is None:
            raise CommandError(f"no project {slug!r}")
        source = None
        if same_annotators_as:
            source = Project.objects.filter(slug=same_annotators_as).first()
            if source is None:
                raise CommandError(f"--same-annotators-as: no project {same_annotators_as!r}")
        try:
            count = labels_import(project=project, path_or_file=file, fmt=fmt, dimension=dimension,
                                  same_annotators_as=source)
        except FileNotFoundError:
            raise CommandError(f"no file {file}") from None
        except ImportFormatError as exc:
            raise CommandError(f"{exc} (nothing was imported)") from None
        kept = ", ".join(getattr(count, "attributes", [])) or "none"
        self.stdout.write(f"imported {count} labels into {slug}; annotator attributes kept for this project: {kept}")
