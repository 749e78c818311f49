"""Dashboard pages for the model registry (researchers only): register, promote, and launch a generation
or scoring job (its page, cancel and retry are the job system's: ``webapp.jobs.views``)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ml import selectors, services
from ml.forms import LaunchForm, RegisterForm
from ml.models import MlJobKind
from webapp.jobs.errors import JobError
from webapp.jobs.selectors import jobs_for_user
from webapp.people.roles import researcher_required


@require_GET
@researcher_required
def model_list(request):
    return render(request, "ml/models.html", {
        "versions": selectors.model_versions_for_user(user=request.user),
        "form": RegisterForm(),
        "jobs": jobs_for_user(user=request.user)[:10],
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
        "jobs": jobs_for_user(user=request.user)[:10],
    }, status=422)


@require_POST
@researcher_required
def model_promote(request, pk: int):
    version = selectors.model_version_get_for_user(user=request.user, pk=pk)
    services.model_version_promote(version=version, by=request.user)
    messages.success(request, f"{version.name} is now the active {version.kind}.")
    return redirect("ml:models")


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
    form = LaunchForm(request.POST or None, initial={"kind": source.get("kind", MlJobKind.GENERATION)})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            job = services.model_job_launch(kind=data["kind"], model_version=data["model_version"],
                                            created_by=request.user, study=study, project=project,
                                            system_name=data["system"], params=form.params())
        except JobError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("jobs:job_detail", pk=job.pk)
    systems = list(study.systems.values_list("name", flat=True)) if study else []
    return render(request, "ml/job_new.html", {"form": form, "study": study, "project": project, "systems": systems},
                  status=422 if form.errors else 200)
