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
from annotations.spec import SpecError
from annotations.views_spec_text import spec_editable_text
from webapp.people.ownership import may_manage
from webapp.people.roles import researcher_required

PROLIFIC_QUERY = "?PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}"
PRESETS_DIR = Path(__file__).resolve().parent / "presets"


def _presets() -> dict[str, str]:
    return {path.stem: path.read_text() for path in sorted(PRESETS_DIR.glob("*.yaml"))}


@require_GET
@researcher_required
def project_detail(request, slug):
    project = selectors.project_get_for_user(user=request.user, slug=slug)
    join_url = request.build_absolute_uri(reverse("annotations:join", args=[project.slug]))
    return render(request, "annotations/project_detail.html", {
        "project": project,
        "progress": selectors.project_progress(project=project),
        "annotators": selectors.annotator_table(project=project),
        "distributions": selectors.rating_distributions(project=project),
        "join_url": join_url,
        "collaborators": project.collaborators.order_by("username"),
        "may_manage": may_manage(project, request.user),
        "agreement_url": reverse("annotations:agreement_page", args=[project.slug]),
        "prolific_url": join_url + PROLIFIC_QUERY,
        "delete_url": reverse("annotations:project_delete", args=[project.slug]),
        "kept": "It holds labels, so it cannot be deleted: close it instead, and the labels stay."
        if project_services.project_delete_refusal(project=project) else "",
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


def _spec_form(request, *, spec_text: str, project=None, error: str | None = None):
    return render(request, "annotations/project_edit.html",
                  {"project": project, "spec_text": spec_text, "error": error,
                   "presets": {} if project else _presets()}, status=422 if error else 200)


def _spec_save(request, *, project=None):
    """Creates (no ``project``) or updates the project from the posted spec; the form again with the error, its
    key and line, and the researcher's text (422) when anything is wrong, nothing saved."""
    spec_text = request.POST.get("spec", "")
    try:
        if project is None:
            saved = project_services.project_create(spec_text=spec_text, owner=request.user)
        else:
            saved = project_services.project_update(project=project, spec_text=spec_text, by=request.user)
    except SpecError as exc:
        return _spec_form(request, spec_text=spec_text, project=project, error=str(exc))
    messages.success(request, f"Saved project {saved.slug}.")
    return redirect("annotations:project_detail", saved.slug)


@require_http_methods(["GET", "POST"])
@researcher_required
def project_new(request):
    if request.method == "POST":
        return _spec_save(request)
    presets = _presets()
    chosen = request.GET.get("preset", next(iter(presets), ""))
    return _spec_form(request, spec_text=presets.get(chosen, ""))


@require_http_methods(["GET", "POST"])
@researcher_required
def project_edit(request, slug):
    project = selectors.project_get_for_user(user=request.user, slug=slug)
    if request.method == "POST":
        return _spec_save(request, project=project)
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
def project_delete(request, slug):
    """Deletes the project when the form repeats its slug (owner only; refused while it holds labels); to the
    dashboard once done, else back to the project page with why."""
    project = selectors.project_get_for_user(user=request.user, slug=slug)
    if request.POST.get("confirm", "").strip() != project.slug:
        messages.error(request, f"Not deleted: type {project.slug} to confirm.")
        return redirect(reverse("annotations:project_detail", args=[slug]) + "#delete")
    try:
        project_services.project_delete(project=project, by=request.user)
    except project_services.ProjectError as exc:
        messages.error(request, f"Not deleted: {exc}.")
        return redirect(reverse("annotations:project_detail", args=[slug]) + "#delete")
    messages.success(request, f"Project {slug} deleted.")
    return redirect("dashboard")


@require_POST
@researcher_required
def project_share(request, slug):
    """Shares the project with the researcher named in the form (owner only), or with ``remove`` set takes it
    back from that collaborator; back to the project page with what happened."""
    project = selectors.project_get_for_user(user=request.user, slug=slug)
    username = request.POST.get("username", "").strip()
    try:
        if request.POST.get("remove"):
            project_services.project_unshare(project=project, username=username, by=request.user)
            messages.success(request, f"{username} no longer has access.")
        else:
            project_services.project_share(project=project, username=username, by=request.user)
            messages.success(request, "Shared.")
    except project_services.ShareError as exc:
        messages.error(request, str(exc))
    return redirect("annotations:project_detail", slug)
