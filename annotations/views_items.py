"""The researcher's item browser: the project's items, fifty a page, searchable by id or narrowed to those
annotators left notes on, each with a preview drawn by the annotators' own item template ("see what annotators
see") and the notes on it; the notes download as CSV. Nothing there is saved."""

import csv

from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from annotations import selectors
from annotations.models import Item
from annotations.presenting import item_view
from annotations.services.notes import notes_csv_rows, notes_of_project
from webapp.people.roles import researcher_required

PER_PAGE = 50


@require_GET
@researcher_required
def project_items(request, slug):
    project = selectors.project_get_for_user(user=request.user, slug=slug)
    query = request.GET.get("q", "").strip()
    noted = request.GET.get("notes") == "1"
    items = Item.objects.filter(project=project).order_by("id")
    if query:
        items = items.filter(external_id__icontains=query)
    items = items.only("id", "external_id", "role", "distressing", "taken", "needed", "is_full").annotate(
        note_count=Count("notes"))
    if noted:
        items = items.filter(note_count__gt=0)
    page = Paginator(items, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "annotations/project_items.html", {
        "project": project, "page": page, "query": query, "noted": noted,
        "notes_total": notes_of_project(project=project).count()})


@require_GET
@researcher_required
def project_item_preview(request, slug, item_id: int):
    project = selectors.project_get_for_user(user=request.user, slug=slug)
    item = get_object_or_404(Item, project=project, id=item_id)
    view = item_view(dimensions=project.dimensions, item_data=item.data, seed=item.id)
    return render(request, "annotations/item_preview.html", {
        "project": project, "item": item, "view": view, "preview": True, "errors": {}, "goal": 0,
        "assignment": {"id": 0}, "enrollment": {"labels_done": 0},
        "content_note": project.spec.get("content_note") if item.distressing else "",
        "notes": notes_of_project(project=project, item_id=item.id),
    })


@require_GET
@researcher_required
def project_notes_csv(request, slug):
    """Every note annotators left on the project's items, as CSV (pseudonyms only, as in label exports)."""
    project = selectors.project_get_for_user(user=request.user, slug=slug)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{project.slug}-item-notes.csv"'
    csv.writer(response).writerows(notes_csv_rows(project=project))
    return response
