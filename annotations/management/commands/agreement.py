"""manage.py agreement SLUG --json [--by ATTRIBUTE ...] [--regroup RULES] [--bootstrap N] [--level LEVEL] [--background]"""

import json

from django.core.management.base import BaseCommand, CommandError

from annotations.agreement.load import project_agreement_report
from annotations.agreement.reliability import LEVELS
from annotations.models import Project
from webapp.people.regroup import regroup_parse


class Command(BaseCommand):
    help = "Agreement per dimension (and per annotator group) of an annotation project."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--json", action="store_true", help="print the report as one JSON document")
        parser.add_argument("--by", action="append", default=[], help="annotator attribute to break down by")
        parser.add_argument("--bootstrap", type=int, default=1000, help="item resamples for alpha's interval")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--level", choices=LEVELS, help="compute alpha at this level instead of the declared one")
        parser.add_argument("--kappa-weights", choices=["linear", "quadratic"], default="quadratic")
        parser.add_argument("--regroup", default="",
                            help="relabel annotator attributes first, e.g. 'age_band=45' or 'country=UK|IE:British Isles'")
        parser.add_argument("--background", action="store_true",
                            help="queue the report as a job on the default queue and print its page, instead of "
                                 "computing it here (download the JSON from the job page)")

    def handle(self, *args, slug, **options):
        project = Project.objects.filter(slug=slug).first()
        if project is None:
            raise CommandError(f"no project {slug!r}")
        if options["bootstrap"] < 0:
            raise CommandError("--bootstrap must be >= 0")
        if options["background"]:
            if options["level"] or options["kappa_weights"] != "quadratic" or options["regroup"]:
                raise CommandError("--background: a report job uses declared levels, quadratic weights and no regroup")
            from annotations.jobs import agreement_report_job_launch
            from webapp.jobs.commands import job_launch_from_command

            job_launch_from_command(self, lambda: agreement_report_job_launch(
                created_by=None, project=project, n_bootstrap=options["bootstrap"], seed=options["seed"],
                by=options["by"]))
            return
        try:
            report = project_agreement_report(
                project=project, by=options["by"], n_bootstrap=options["bootstrap"], seed=options["seed"],
                level=options["level"], kappa_weights=options["kappa_weights"],
                regroup=regroup_parse(options["regroup"]),
            )
        except ValueError as error:
            raise CommandError(f"--regroup: {error}") from None
        if options["json"]:
            self.stdout.write(json.dumps(report, allow_nan=False))
            return
        for name, figures in report["dimensions"].items():
            self.stdout.write(_figures_line(name, figures))
        for attribute, groups in report["groups"].items():
            self.stdout.write(f"\nby {attribute}:")
            for group, figures in groups.items():
                self.stdout.write(f"  {attribute}={group}  annotators={figures['n_annotators']} "
                                  f"labels={figures['n_labels']}")
                for name, dimension in figures["dimensions"].items():
                    self.stdout.write("    " + _figures_line(name, dimension))
            for name, between in report["between_groups"].get(attribute, {}).items():
                self.stdout.write(f"  between {attribute} groups: {name} {between['level']} "
                                  f"alpha={_alpha_text(between['krippendorff_alpha'], between['alpha_ci'])}  "
                                  f"groups={between['n_groups']} units={between['n_units']}")


def _alpha_text(alpha, ci) -> str:
    return ("n/a" if alpha is None else f"{alpha:.3f}") + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")


def _figures_line(name: str, figures: dict) -> str:
    return (f"{name:<24} {figures['level']:<9} alpha={_alpha_text(figures['krippendorff_alpha'], figures['alpha_ci'])}"
            f"  items={figures['n_items']} annotators={figures['n_annotators']} labels={figures['n_labels']}")
