"""Launching a project's jobs from its pages (researchers who may see the project): the label export
and the full agreement report. The job page (``webapp.jobs``) follows them and offers the file."""

from __future__ import annotations

from django.urls import reverse
from django.views.decorators.http import require_POST

from annotations.jobs import agreement_report_job_launch, export_job_launch
from annotations.selectors import project_get_for_user
from webapp.jobs.reports import REPORT_BOOTSTRAP
from webapp.jobs.views import job_launched
from webapp.people.roles import researcher_required


@require_POST
@researcher_required
def export_launch(request, slug: str):
    """Queues an export of the project's labels; the job page offers the file when it is written."""
    project = project_get_for_user(user=request.user, slug=slug)
    return job_launched(request, lambda: export_job_launch(
        project=project, created_by=request.user, fmt=request.POST.get("format", "jsonl"),
        aggregate=request.POST.get("aggregate", "none"),
    ), reverse("annotations:project_detail", args=[slug]))


@require_POST
@researcher_required
def agreement_report_launch(request, slug: str):
    """Queues the project's full agreement report (broken down by the form's ``by``); the job page offers
    the JSON when it is written."""
    project = project_get_for_user(user=request.user, slug=slug)
    return job_launched(request, lambda: agreement_report_job_launch(
        project=project, created_by=request.user, seed=request.POST.get("seed", 0),
        n_bootstrap=request.POST.get("n_bootstrap", REPORT_BOOTSTRAP), by=request.POST.getlist("by"),
    ), reverse("annotations:agreement_page", args=[slug]))
