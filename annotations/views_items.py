"""The researcher's item browser: the project's items, fifty a page, searchable by id, each with a preview
drawn by the annotators' own item template ("see what annotators see"); nothing there is saved."""

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from annotations import selectors
from annotations.models import Item
from annotations.presenting import item_view
from webapp.people.roles import researcher_required

PER_PAGE = 50


@require_GET
@researcher_required
def project_items(request, slug):
    project = selectors.project_get_for_user(user=request.user, slug=slug)
    query = request.GET.get("q", "").strip()
    items = Item.objects.filter(project=project).order_by("id")
    if query:
        items = items.filter(external_id__icontains=query)
    page = Paginator(items.only("id", "external_id", "role", "distressing", "taken", "needed", "is_full"),
                     PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "annotations/project_items.html", {"project": project, "page": page, "query": query})


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
    })
