"""Researcher pages for a study's results: tables, the two plots as inline SVG, and export downloads.

Routed by ``studies.urls`` (namespace "studies"):

* ``studies/<slug>/results/``: the results page; an htmx request gets the ``results`` fragment
  (what ``studies/_results.html`` loads into the study page); ``?correction=bh`` adjusts the
  group tests by Benjamini–Hochberg instead of Holm; ``?regroup=age_band=45`` relabels
  participant attributes first (see :mod:`webapp.people.regroup`).
* ``studies/<slug>/plan/?win_rate=0.6&icc=0.1``: participants the study needs (the study page
  loads its ``plan`` fragment); bad values get a 400 naming the field.
* ``studies/<slug>/results/export/?kind=raw|dpo``: the JSONL download, default filters.
"""

from __future__ import annotations

from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.views.decorators.http import require_GET

from studies import selectors
from studies.analysis.clustered import CORRECTIONS, DEFAULT_CORRECTION
from studies.analysis.load import study_plan_for, study_report_for
from studies.analysis.planning import DEFAULTS, planning_options_clean
from studies.analysis.plots import bt_plot, winrate_plot
from studies.api_analysis import export_response
from studies.export import FORMATS, export_filters
from webapp.people.regroup import regroup_parse
from webapp.people.roles import researcher_required

PAGE_BOOTSTRAP = 1000


def _int_param(request, name: str, default: int, *, low: int, high: int) -> int:
    try:
        return max(low, min(high, int(request.GET.get(name, default))))
    except ValueError:
        return default


@require_GET
@researcher_required
def study_results(request, slug: str):
    study = selectors.study_get_for_user(user=request.user, slug=slug)
    include_ended = request.GET.get("include_ended") == "1"
    correction = request.GET.get("correction", DEFAULT_CORRECTION)
    if correction not in CORRECTIONS:
        return HttpResponseBadRequest(f"correction: must be one of {', '.join(sorted(CORRECTIONS))}")
    regroup_text = request.GET.get("regroup", "").strip()
    try:
        planning = planning_options_clean(request.GET)
        report = study_report_for(
            study,
            include_ended=include_ended,
            n_bootstrap=_int_param(request, "bootstrap", PAGE_BOOTSTRAP, low=0, high=5000),
            correction=correction,
            regroup=regroup_parse(regroup_text),
            planning=planning,
        )
    except ValueError as error:
        message = str(error)
        return HttpResponseBadRequest(message if message.split(":")[0] in DEFAULTS else f"regroup: {message}")
    primary = report["criteria"][0] if report["criteria"] else None
    context = {
        "study": study,
        "report": report,
        "primary": primary,
        "include_ended": include_ended,
        "correction": correction,
        "regroup": regroup_text,
        "progress": selectors.study_progress(study=study),
        "winrate_plot": winrate_plot(report["comparisons"]),
        "bt_plot": bt_plot(report["bradley_terry"]) if len(report["bradley_terry"]) > 1 else None,
        "bt_probabilities": report["bradley_terry_by_criterion"].get(primary, {}).get("win_probability", {}),
        "formats": FORMATS,
    }
    template = "studies/analysis/results.html"
    if request.headers.get("HX-Request"):
        template += "#results"
    return render(request, template, context)


@require_GET
@researcher_required
def study_plan_page(request, slug: str):
    """How many participants the study needs; a form changes the target win rate and the assumed icc."""
    study = selectors.study_get_for_user(user=request.user, slug=slug)
    try:
        options = planning_options_clean(request.GET)
    except ValueError as error:
        return HttpResponseBadRequest(str(error))
    context = {"study": study, "plan": study_plan_for(study, **options)}
    template = "studies/analysis/plan.html"
    if request.headers.get("HX-Request"):
        template += "#plan"
    return render(request, template, context)


@require_GET
@researcher_required
def study_results_export(request, slug: str):
    study = selectors.study_get_for_user(user=request.user, slug=slug)
    kind = request.GET.get("kind", "dpo")
    if kind not in FORMATS:
        kind = "dpo"
    return export_response(study, format=kind, filters=export_filters(study))
