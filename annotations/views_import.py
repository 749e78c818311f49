"""The researcher's import page: upload a file of items into a project, with upload progress, the same checks
and the same error messages (file, line, field) as `manage.py import_items`. A file above
``RESONANCE_IMPORT_INLINE_BYTES`` is imported by a background job, and the page goes on to the job's page."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from annotations import selectors
from annotations.importing.errors import ImportFormatError
from annotations.importing.sources import ITEM_FORMATS
from annotations.jobs_import import import_job_launch
from annotations.services.import_uploads import upload_runs_inline, upload_size_problem
from annotations.services.importing import items_import
from webapp.people.roles import researcher_required

PAGE = "annotations/project_import.html"


@require_http_methods(["GET", "POST"])
@researcher_required
def project_import(request, slug):
    project = selectors.project_get_for_user(user=request.user, slug=slug)
    context = {"project": project, "formats": ITEM_FORMATS, "error": "", "chosen": request.POST.get("format", ""),
               "inline_bytes": settings.RESONANCE_IMPORT_INLINE_BYTES}
    if request.method == "GET":
        return render(request, PAGE, context)
    upload = request.FILES.get("file")
    fmt = request.POST.get("format") or None
    if upload is None:
        context["error"] = "Choose a file to import."
    elif fmt is not None and fmt not in ITEM_FORMATS:
        context["error"] = f"format: {fmt!r} is not one of {', '.join(ITEM_FORMATS)}"
    elif upload_size_problem(upload):
        context["error"] = upload_size_problem(upload)
    elif not upload_runs_inline(upload):
        job = import_job_launch(project=project, created_by=request.user, upload=upload, what="items", fmt=fmt)
        return _go_to(request, reverse("jobs:job_detail", args=[job.pk]))
    else:
        try:
            count = items_import(project=project, path_or_file=upload, fmt=fmt)
        except ImportFormatError as exc:
            context["error"] = str(exc)
        else:
            messages.success(request, f"Imported {count} item{'s' if count != 1 else ''} from {upload.name}.")
            return _go_to(request, reverse("annotations:project_detail", args=[project.slug]))
    template = f"{PAGE}#result" if request.htmx else PAGE
    return render(request, template, context, status=422)


def _go_to(request, url: str) -> HttpResponse:
    """On to ``url``: a redirect for a plain form post, htmx's own redirect for an htmx one."""
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
