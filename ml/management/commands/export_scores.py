"""manage.py export_scores JOB -o PATH [--format jsonl|csv]: a scoring job's scores, one row per response or item."""

from django.core.management.base import BaseCommand, CommandError

from ml.services.score_export import FORMATS, scores_export
from webapp.jobs.models import Job


class Command(BaseCommand):
    help = ("Export a scoring job's scores: one row per scored response (or item) with its text and context, "
            "every dimension, the reward and the judge's raw answers.")

    def add_arguments(self, parser):
        parser.add_argument("job", type=int)
        parser.add_argument("-o", "--output", required=True)
        parser.add_argument("--format", dest="fmt", choices=FORMATS, default="jsonl")

    def handle(self, *args, job, output, fmt, **options):
        found = Job.objects.filter(pk=job).first()
        if found is None:
            raise CommandError(f"no job {job}")
        try:
            summary = scores_export(job=found, out=output, fmt=fmt)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{summary['rows']} scored inputs of job {job} written to {output}")
