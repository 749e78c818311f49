"""Launching a study's jobs from its pages (researchers who may see the study): the full report. The job
page (``webapp.jobs``) follows it and offers the JSON."""

from __future__ import annotations

from django.urls import reverse
from django.views.decorators.http import require_POST

from studies.jobs import study_report_job_launch
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
