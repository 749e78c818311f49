from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from studies.export import FORMATS, export_filters, export_write, manifest_path
from studies.management.commands._owner import study_by_slug


class Command(BaseCommand):
    help = (
        "Exports a study's judgments as JSON Lines: raw judgments, or preference pairs {prompt, chosen, "
        "rejected} for DPO / reward models (ties left out, weight = share of participants who agreed). "
        "Writes PATH and a manifest beside it (spec hash, filters, counts, sha256)."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("-o", "--output", type=Path, required=True, help="the .jsonl file to write")
        parser.add_argument("--format", choices=FORMATS, default="dpo")
        parser.add_argument(
            "--criterion", action="append", dest="criteria", help="keep this criterion (repeatable)"
        )
        parser.add_argument(
            "--source", action="append", dest="sources", help="keep judgments from this source"
        )
        parser.add_argument(
            "--include-ended", action="store_true", help="keep participants ended by attention checks"
        )
        parser.add_argument(
            "--exclude-one-sided",
            action="store_true",
            help="drop participants who always picked the same side",
        )
        parser.add_argument("--min-judgments-one-sided", type=int, default=4)
        parser.add_argument(
            "--with-attributes",
            action="store_true",
            help="raw: add each participant's survey/demographic answers",
        )
        parser.add_argument("--per-judgment", action="store_true", help="dpo: one pair per decisive judgment")

    def handle(self, *args, slug: str, output: Path, format: str, **options):
        study = study_by_slug(slug)
        if not output.parent.exists():
            raise CommandError(f"-o: folder {output.parent} does not exist")
        filters = export_filters(
            study,
            criteria=options["criteria"],
            sources=options["sources"],
            include_ended=options["include_ended"],
            exclude_one_sided=options["exclude_one_sided"],
            min_judgments_one_sided=options["min_judgments_one_sided"],
            with_attributes=options["with_attributes"],
            per_judgment=options["per_judgment"],
        )
        manifest = export_write(study, path=output, format=format, filters=filters)
        self.stdout.write(
            f"{manifest['counts']['records']} {format} records written to {output} "
            f"(manifest {manifest_path(output)})"
        )
