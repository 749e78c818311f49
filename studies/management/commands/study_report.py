import json

from django.core.management.base import BaseCommand, CommandError

from studies.analysis.clustered import CORRECTIONS, DEFAULT_CORRECTION
from studies.analysis.load import study_report_for
from studies.management.commands._owner import study_by_slug
from webapp.people.regroup import regroup_parse


def _fmt(value, digits=3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


class Command(BaseCommand):
    help = (
        "Prints a study's preference analysis: wins/ties per pair and criterion with Wilson intervals and "
        "exact tests, Bradley-Terry strengths, position bias. --json prints the full report "
        '({"comparisons", "bradley_terry", "position_bias", ...}).'
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print the full report as JSON"
        )
        parser.add_argument(
            "--bootstrap", type=int, default=1000, help="bootstrap resamples for BT intervals"
        )
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--correction", choices=sorted(CORRECTIONS), default=DEFAULT_CORRECTION,
            help="multiplicity correction of the participant-group tests (default holm)",
        )
        parser.add_argument(
            "--regroup", default="",
            help="relabel participant attributes first, e.g. 'age_band=45' or 'country=UK|IE:British Isles'",
        )
        parser.add_argument(
            "--include-ended", action="store_true", help="keep participants ended by the attention checks"
        )
        parser.add_argument(
            "--background", action="store_true",
            help="queue the report as a job on the default queue and print its page instead of computing it",
        )

    def handle(
        self, *args, slug: str, as_json: bool, bootstrap: int, seed: int, include_ended: bool, **options
    ):
        study = study_by_slug(slug)
        if options.get("background"):
            from studies.jobs import study_report_job_launch
            from webapp.jobs.commands import job_launch_from_command

            job_launch_from_command(self, lambda: study_report_job_launch(
                created_by=None, study=study, n_bootstrap=bootstrap, seed=seed, include_ended=include_ended))
            return
        try:
            report = study_report_for(
                study, include_ended=include_ended, n_bootstrap=bootstrap, seed=seed,
                correction=options.get("correction", DEFAULT_CORRECTION),
                regroup=regroup_parse(options.get("regroup", "")),
            )
        except ValueError as error:
            raise CommandError(f"--regroup: {error}") from None
        if as_json:
            self.stdout.write(_dumps(report))
            return
        self._write_text(report)

    def _write_text(self, report: dict) -> None:
        out = self.stdout
        counts = report["counts"]
        out.write(
            f"{report['study']['slug']}: {counts['judgments']} judgments by {counts['participants']} participants "
            f"on {counts['prompts']} prompts"
        )
        out.write("\ncriterion  pair (winner first)  wins_a wins_b ties  win_rate_a [95% CI]  p")
        for c in report["comparisons"]:
            ci = c["win_rate_a_ci"] or [None, None]
            out.write(
                f"{c['criterion']}  {c['system_a']} vs {c['system_b']}  {c['wins_a']} {c['wins_b']} {c['ties']}  "
                f"{_fmt(c['win_rate_a'])} [{_fmt(ci[0])}, {_fmt(ci[1])}]  {_fmt(c['p_value'], 4)}"
            )
        if report["bradley_terry"]:
            out.write(f"\nBradley-Terry strengths ({report['criteria'][0]}):")
            for name, s in sorted(report["bradley_terry"].items(), key=lambda kv: -kv[1]["strength"]):
                ci = s["ci"] or [None, None]
                out.write(f"  {name}: {_fmt(s['strength'])} [{_fmt(ci[0])}, {_fmt(ci[1])}]")
        bias = report["position_bias"]
        out.write(
            f"\nleft chosen {bias['left']}/{bias['n']} = {_fmt(bias['left_share'])} (p = {_fmt(bias['p_value'], 4)}); "
            f"always one side: {len(bias['one_sided_participants'])} participants"
        )


def _dumps(report: dict) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False)
