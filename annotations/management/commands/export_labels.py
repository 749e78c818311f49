"""manage.py export_labels SLUG -o PATH --format jsonl|csv [--aggregate METHOD]: labels out, with a manifest."""

from django.core.management.base import BaseCommand, CommandError

from annotations.models import Project
from annotations.services.exporting import AGGREGATES, FORMATS, labels_export


class Command(BaseCommand):
    help = "Export a project's labels, one row per label (or aggregated), and PATH.manifest.json beside them."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("-o", "--output", required=True, help="file to write")
        parser.add_argument("--format", dest="fmt", choices=FORMATS, default=None,
                            help="default: from the output's extension, else jsonl")
        parser.add_argument("--aggregate", choices=AGGREGATES, default="none")

    def handle(self, *args, slug, output, fmt=None, aggregate="none", **options):
        project = Project.objects.filter(slug=slug).first()
        if project is None:
            raise CommandError(f"no project {slug!r}")
        fmt = fmt or ("csv" if output.lower().endswith(".csv") else "jsonl")
        try:
            manifest = labels_export(project=project, out=output, fmt=fmt, aggregate=aggregate)
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"wrote {manifest['rows']} rows to {output} ({manifest['labels']} labels, "
                          f"{manifest['annotators']} annotators); manifest {output}.manifest.json")
