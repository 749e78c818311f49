"""Researcher pages for annotation projects: overview with live progress, spec editor, sharing."""

import csv
from pathlib import Path

import yaml
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotations import selectors
from annotations.models import Enrollment
from annotations.services import projects as project_services
from annotations.services.importing import project_load_spec
from annotations.spec import SpecError
from annotations.views_spec_text import spec_editable_text
from webapp.people.roles import researcher_required
from webapp.yamlsafe import yaml_load_plain

PROLIFIC_QUERY = "?PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}"
PRESETS_DIR = Path(__file__).resolve().parent / "presets"


def _presets() -> dict[str, str]:
    return {path.stem: path.read_text() for path in sorted(PRESETS_DIR.glob("*.yaml"))}


@require_GET
@researcher_required
def project_detail(request, slug):
    project = selectors.project_get_for_user(user=request.user, slug=slug)
    join_url = request.build_absolute_uri(reverse("join", args=[project.slug]))
    return render(request, "annotations/project_detail.html", {
        "project": project,
        "progress": selectors.project_progress(project=project),
        "annotators": selectors.annotator_table(project=project),
        "distributions": selectors.rating_distributions(project=project),
        "join_url": join_url,
        "collaborators": project.collaborators.order_by("username"),
        "agreement_url": reverse("agreement_page", args=[project.slug]),
        "prolific_url": join_url + PROLIFIC_QUERY,
    })


@require_GET
@researcher_required
def project_progress(request, slug):
    """The progress panel alone, or with `?part=annotators` the annotator table, polled by htmx."""
    project = selectors.project_get_for_user(user=request.user, slug=slug)
    if request.GET.get("part") == "annotators":
        return render(request, "annotations/project_detail.html#annotators",
                      {"project": project, "annotators": selectors.annotator_table(project=project)})
    return render(request, "annotations/project_detail.html#progress",
                  {"project": project, "progress": selectors.project_progress(project=project)})


def _spec_form(request, *, spec_text: str, project=None, template="annotations/project_edit.html"):
    error = None
    if request.method == "POST":
        spec_text = request.POST.get("spec", "")
        try:
            saved = project_load_spec(spec_text=spec_text, editor=request.user)
        except SpecError as exc:
            error = str(exc)
        else:
            messages.success(request, f"Saved project {saved.slug}.")
            return redirect("project_detail", saved.slug)
    return render(request, template, {"project": project, "spec_text": spec_text, "error": error,
                                      "presets": _presets()}, status=422 if error else 200)


@require_http_methods(["GET", "POST"])
@researcher_required
def project_new(request):
    presets = _presets()
    chosen = request.GET.get("preset", next(iter(presets), ""))
    return _spec_form(request, spec_text=presets.get(chosen, ""))


@require_http_methods(["GET", "POST"])
@researcher_required
def project_edit(request, slug):
    project = selectors.project_get_for_user(user=request.user, slug=slug)
    if request.method == "POST":
        try:
            submitted = yaml_load_plain(request.POST.get("spec", "")) if request.POST.get("spec") else None
        except yaml.YAMLError:
            submitted = None  # loading the spec reports the syntax error with its line
        if isinstance(submitted, dict) and submitted.get("slug") not in (None, project.slug):
            return render(request, "annotations/project_edit.html",
                          {"project": project, "spec_text": request.POST["spec"], "presets": {},
                           "error": "slug: a project's slug cannot change here; load it as a new project"}, status=422)
    try:
        spec_text = spec_editable_text(project.spec)
    except SpecError as exc:
        spec_text = yaml.safe_dump(project.spec, sort_keys=False, allow_unicode=True)
        messages.warning(request, f"This spec may not save as it is: {exc}")
    return _spec_form(request, spec_text=spec_text, project=project)


@require_GET
@researcher_required
def project_crowd_ids(request, slug):
    """CSV of pseudonym → platform worker id (and Prolific study/session), stage and labels, for approving or
    rejecting submissions on Prolific or MTurk. Only for those who may see the project; labels exports keep the
    pseudonym alone."""
    project = selectors.project_get_for_user(user=request.user, slug=slug)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{project.slug}-crowd-ids.csv"'
    writer = csv.writer(response)
    writer.writerow(["pseudonym", "platform", "worker_id", "study_id", "session_id", "stage", "labels", "skipped",
                     "completed_at", "saw_completion_code"])
    for enrollment in (Enrollment.objects.filter(project=project).select_related("annotator").order_by("id")):
        crowd = enrollment.crowd or {}
        writer.writerow([enrollment.annotator.pseudonym, crowd.get("platform") or enrollment.annotator.crowd_platform or "account",
                         crowd.get("worker_id", ""), crowd.get("study_id", ""), crowd.get("session_id", ""),
                         enrollment.stage, enrollment.labels_done, enrollment.skipped,
                         enrollment.completed_at.isoformat() if enrollment.completed_at else "",
                         "yes" if enrollment.stage == Enrollment.Stage.DONE else "no"])
    return response


@require_POST
@researcher_required
def project_share(request, slug):
    project = selectors.project_get_for_user(user=request.user, slug=slug)
    try:
        project_services.project_share(project=project, username=request.POST.get("username", "").strip(),
                                       by=request.user)
        messages.success(request, "Shared.")
    except project_services.ShareError as exc:
        messages.error(request, str(exc))
    return redirect("project_detail", slug)
