"""Dashboard pages for the model registry and jobs (researchers only): register, promote, launch,
follow a job's progress live (htmx polling until it finishes), cancel or retry, read its results."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotations.selectors import project_get_for_user
from ml import selectors, services
from ml.forms import LaunchForm, RegisterForm
from webapp.people.roles import researcher_required


@require_GET
@researcher_required
def model_list(request):
    return render(request, "ml/models.html", {
        "versions": selectors.model_versions_for_user(user=request.user),
        "form": RegisterForm(),
        "jobs": selectors.jobs_for_user(user=request.user)[:10],
    })


@require_POST
@researcher_required
def model_register(request):
    form = RegisterForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            version = services.model_version_register(
                name=data["name"], kind=data["kind"], path=data["path"], registered_by=request.user,
                base=data["base"], parent=data["parent"], export=data["export"], activate=data["activate"],
                by=request.user,
            )
        except services.RegistryError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Registered {version.name}.")
            return redirect("ml:models")
    return render(request, "ml/models.html", {
        "versions": selectors.model_versions_for_user(user=request.user), "form": form,
        "jobs": selectors.jobs_for_user(user=request.user)[:10],
    }, status=422)


@require_POST
@researcher_required
def model_promote(request, pk: int):
    version = selectors.model_version_get_for_user(user=request.user, pk=pk)
    services.model_version_promote(version=version, by=request.user)
    messages.success(request, f"{version.name} is now the active {version.kind}.")
    return redirect("ml:models")


@require_GET
@researcher_required
def job_list(request):
    return render(request, "ml/jobs.html", {"jobs": selectors.jobs_for_user(user=request.user)[:200]})


def _target(request, source):
    """The study or project named by ``?study=`` / ``?project=`` (or the form's hidden fields)."""
    if not source.get("study") and not source.get("project"):
        raise PermissionDenied("name a study or a project to run a job on")
    study = source.get("study")
    return selectors.job_target_for_user(user=request.user, study=study, project=None if study else source.get("project"))


@require_http_methods(["GET", "POST"])
@researcher_required
def job_new(request):
    source = request.POST if request.method == "POST" else request.GET
    study, project = _target(request, source)
    form = LaunchForm(request.POST or None, initial={"kind": source.get("kind", "generation")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            job = services.job_launch(kind=data["kind"], model_version=data["model_version"], created_by=request.user,
                                      study=study, project=project, system_name=data["system"], params=form.params())
        except services.JobError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("ml:job_detail", pk=job.pk)
    systems = list(study.systems.values_list("name", flat=True)) if study else []
    return render(request, "ml/job_new.html", {"form": form, "study": study, "project": project, "systems": systems},
                  status=422 if form.errors else 200)


@require_GET
@researcher_required
def job_detail(request, pk: int):
    job = selectors.job_get_for_user(user=request.user, pk=pk)
    context = {"job": job}
    if request.htmx and not request.GET.get("full"):
        if not job.is_finished:
            return render(request, "ml/job_detail.html#progress", context)
        # Finished: the whole page once, so the results appear and polling stops.
        response = render(request, "ml/job_detail.html#progress", context)
        response["HX-Refresh"] = "true"
        return response
    context.update({"scores": selectors.job_score_table(job=job) if job.kind == "scoring" else None,
                    "versus_annotators": selectors.job_similarity_vs_annotators(job=job) if job.is_finished else [],
                    "human_agreement": selectors.job_human_agreement(job=job) if job.is_finished else {},
                    "generations": selectors.job_generations(job=job) if job.kind == "generation" else []})
    return render(request, "ml/job_detail.html", context)


@require_POST
@researcher_required
def job_cancel(request, pk: int):
    job = selectors.job_get_for_user(user=request.user, pk=pk)
    services.job_cancel(job=job)
    messages.success(request, "Cancellation requested." if not job.is_finished else "The job had already finished.")
    return redirect("ml:job_detail", pk=pk)


@require_POST
@researcher_required
def job_retry(request, pk: int):
    job = selectors.job_get_for_user(user=request.user, pk=pk)
    try:
        services.job_requeue(job=job)
    except services.JobError as exc:
        messages.error(request, str(exc))
    return redirect("ml:job_detail", pk=pk)


def _launched(request, launch, back: str):
    """Runs ``launch()``: on to the queued job's page (which says so if the queue is not reachable), or back
    to ``back`` with the reason the launch was refused."""
    try:
        job = launch()
    except services.JobError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    return redirect("ml:job_detail", pk=job.pk)


@require_POST
@researcher_required
def export_launch(request, slug: str):
    """Queues an export of the project's labels; the job page offers the file when it is written."""
    project = project_get_for_user(user=request.user, slug=slug)
    return _launched(request, lambda: services.export_job_launch(
        project=project, created_by=request.user, fmt=request.POST.get("format", "jsonl"),
        aggregate=request.POST.get("aggregate", "none"),
    ), reverse("project_detail", args=[slug]))


@require_POST
@researcher_required
def report_launch(request):
    """Queues the full report of the project (agreement) or study named by the form; the job page offers
    the JSON when it is written."""
    study, project = _target(request, request.POST)
    back = reverse("agreement_page", args=[project.slug]) if project else \
        reverse("studies:study_results", args=[study.slug])
    return _launched(request, lambda: services.report_job_launch(
        created_by=request.user, project=project, study=study, seed=request.POST.get("seed", 0),
        n_bootstrap=request.POST.get("n_bootstrap", services.REPORT_BOOTSTRAP), by=request.POST.getlist("by"),
        include_ended=request.POST.get("include_ended") == "1",
    ), back)


@require_GET
@researcher_required
def job_download(request, pk: int):
    """The file a finished export or report job wrote (or its manifest), for those who may see the job."""
    job = selectors.job_get_for_user(user=request.user, pk=pk)
    name = services.job_file(job)
    if name is None:
        raise Http404("this job has no file to download")
    if request.GET.get("manifest"):
        name += services.MANIFEST_SUFFIX
    if not default_storage.exists(name):
        raise Http404("the file is gone; run the job again")
    return FileResponse(
        default_storage.open(name, "rb"), as_attachment=True, filename=name.rsplit("/", 1)[-1]
    )
