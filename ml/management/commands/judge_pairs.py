import json

from django.core.management.base import BaseCommand, CommandError

from ml.core.errors import ModelLoadError
from ml.management.commands._launch import version_by_name_or_active
from ml.models import ModelKind
from ml.services.judge_pairs import study_judge_pairs
from studies.management.commands._owner import study_by_slug
from webapp.jobs.errors import JobError


def _fmt(value, digits=3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


class Command(BaseCommand):
    help = (
        "Asks an LLM judge which reply is better for every prompt and system pair a study's participants "
        "judged, in both orders (A/B and B/A), and prints its position bias, its consistency across orders "
        "and its agreement with the human majority. --json prints the full result with every pair."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--model", help="judge model version name (default: the active judge)")
        parser.add_argument("--criterion", help="the study criterion to compare with (default: the first)")
        parser.add_argument("--include-ended", action="store_true", help="keep participants ended by the checks")
        parser.add_argument("--batch-size", type=int, default=16)
        parser.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args, slug, model, criterion, include_ended, batch_size, as_json, **options):
        study = study_by_slug(slug)
        version = version_by_name_or_active(model, (ModelKind.JUDGE,))
        try:
            result = study_judge_pairs(study=study, model_version=version, criterion=criterion,
                                       include_ended=include_ended, batch_size=batch_size)
        except (JobError, ModelLoadError) as error:
            raise CommandError(str(error)) from None
        if as_json:
            self.stdout.write(json.dumps(result, indent=2, ensure_ascii=False, default=str))
            return
        position, agreement = result["position"], result["agreement"]
        ci = position["first_share_ci"] or [None, None]
        self.stdout.write(
            f"{result['study']} ({result['criterion']}), judge {version.name}: {result['pairs']} pairs, both orders\n"
            f"picks the reply shown first {_fmt(position['first_share'])} [{_fmt(ci[0])}, {_fmt(ci[1])}] of "
            f"{position['n']} verdicts (exact binomial p = {_fmt(position['p_value'], 4)})\n"
            f"same winner in both orders: {_fmt(result['consistency'])}\n"
            f"agrees with the human majority on {agreement['agree']} of {agreement['n']} pairs "
            f"({_fmt(agreement['share'])})"
        )
