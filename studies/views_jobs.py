"""Launching a study's jobs from its pages (researchers who may see the study): the full report and the
preference export. The job page (``webapp.jobs``) follows each and offers its file."""

from __future__ import annotations

from django.urls import reverse
from django.views.decorators.http import require_POST

from studies.jobs import EXPORT_SWITCHES, preference_export_job_launch, study_report_job_launch
from studies.selectors import study_get_for_user
from webapp.jobs.reports import REPORT_BOOTSTRAP
from webapp.jobs.views import job_launched
from webapp.people.roles import researcher_required


@require_POST
@researcher_required
def study_report_launch(request, slug: str):
    """Queues the study's full report (``include_ended=1`` keeps participants ended by the attention
    checks); the job page offers the JSON when it is written."""
    study = study_get_for_user(user=request.user, slug=slug)
    return job_launched(request, lambda: study_report_job_launch(
        study=study, created_by=request.user, seed=request.POST.get("seed", 0),
        n_bootstrap=request.POST.get("n_bootstrap", REPORT_BOOTSTRAP),
        include_ended=request.POST.get("include_ended") == "1",
    ), reverse("studies:study_results", args=[slug]))


@require_POST
@researcher_required
def preference_export_launch(request, slug: str):
    """Queues the study's preference export in the format posted (``format``: dpo or raw), with the switches the
    form ticked (``include_ended``, ``per_judgment``, ...: "1"); the job page offers the JSONL and its manifest."""
    study = study_get_for_user(user=request.user, slug=slug)
    return job_launched(request, lambda: preference_export_job_launch(
        study=study, created_by=request.user, fmt=request.POST.get("format", "dpo"),
        criteria=request.POST.getlist("criteria"),
        **{name: request.POST.get(name) == "1" for name in EXPORT_SWITCHES},
    ), reverse("studies:study_results", args=[slug]))
