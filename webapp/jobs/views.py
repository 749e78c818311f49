"""Job pages (researchers only): the list, a job's progress live (htmx polling until it finishes), cancel,
retry and the download of the file it left. What a kind adds to its page comes from its registration."""

from __future__ import annotations

from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from webapp.jobs import selectors, services
from webapp.jobs.errors import JobError
from webapp.jobs.files import MANIFEST_SUFFIX
from webapp.jobs.registry import job_kinds
from webapp.people.roles import researcher_required


@require_GET
@researcher_required
def job_list(request):
    return render(request, "jobs/jobs.html", {"jobs": selectors.jobs_for_user(user=request.user)[:200]})


@require_GET
@researcher_required
def job_detail(request, pk: int):
    job = selectors.job_get_for_user(user=request.user, pk=pk)
    spec = job_kinds().get(job.kind)
    context = {"job": job, "spec": spec}
    if request.htmx and not request.GET.get("full"):
        response = render(request, "jobs/job_detail.html#progress", context)
        if job.is_finished:  # the whole page once, so the results appear and polling stops
            response["HX-Refresh"] = "true"
        return response
    if spec is not None and spec.detail is not None:
        context.update(spec.detail(job))
    return render(request, "jobs/job_detail.html", context)


@require_POST
@researcher_required
def job_cancel(request, pk: int):
    job = selectors.job_get_for_user(user=request.user, pk=pk)
    services.job_cancel(job=job)
    messages.success(request, "Cancellation requested." if not job.is_finished else "The job had already finished.")
    return redirect("jobs:job_detail", pk=pk)


@require_POST
@researcher_required
def job_retry(request, pk: int):
    job = selectors.job_get_for_user(user=request.user, pk=pk)
    try:
        services.job_requeue(job=job)
    except JobError as exc:
        messages.error(request, str(exc))
    return redirect("jobs:job_detail", pk=pk)


@require_GET
@researcher_required
def job_download(request, pk: int):
    """The file a finished job wrote (or its manifest), for those who may see the job."""
    job = selectors.job_get_for_user(user=request.user, pk=pk)
    name = services.job_file(job)
    if name is None:
        raise Http404("this job has no file to download")
    if request.GET.get("manifest"):
        name += MANIFEST_SUFFIX
    if not default_storage.exists(name):
        raise Http404("the file is gone; run the job again")
    return FileResponse(default_storage.open(name, "rb"), as_attachment=True, filename=name.rsplit("/", 1)[-1])


def job_launched(request, launch, back: str):
    """For the apps' launch views: runs ``launch()``, then on to the queued job's page (which says so if
    the queue is not reachable), or back to ``back`` with the reason the launch was refused."""
    try:
        job = launch()
    except JobError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    return redirect("jobs:job_detail", pk=job.pk)
