"""Researcher pages: agreement table and plot, rating distributions, annotator quality (with
exclusion), and the items with most disagreement (with re-queuing)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from annotations import selectors
from annotations.agreement.aggregate import aggregate_table
from annotations.agreement.annotators import QUALITY_COLUMNS
from annotations.agreement.load import (
    project_agreement_report,
    project_annotator_quality,
    project_label_frame,
)
from annotations.agreement.plot import alpha_by_group_svg
from annotations.agreement.rounds import reannotation_rounds_compared
from annotations.models import Item
from annotations.services.quality import annotator_exclude, annotator_include, item_queue_more_labels
from webapp.people.regroup import regroup_parse
from webapp.people.roles import researcher_required
from webapp.people.surveys import ATTRIBUTE_NAMES

PAGE_BOOTSTRAP = 500  # enough for a stable 95% interval on a page that must stay quick
SORTABLE = [*QUALITY_COLUMNS, "excluded"]


def _quality_rows(project, sort: str, descending: bool) -> list[dict]:
    table = project_annotator_quality(project=project)
    if sort in table.columns:
        table = table.sort_values(sort, ascending=not descending, na_position="last", kind="stable")
    records = table.astype(object).where(table.notna(), None).to_dict("records")
    return [{"annotator": r["annotator"], "excluded": r["excluded"], "cells": [r.get(c) for c in SORTABLE]}
            for r in records]


def _disagreement_rows(project, limit: int = 20) -> list[dict]:
    frame = project_label_frame(project=project, tasks_only=True)
    table = aggregate_table(frame, project.dimensions) if len(frame) else None
    if table is None or not len(table):
        return []
    table = table[table["n_labels"] >= 2].sort_values("disagreement", ascending=False).head(limit)
    needed = dict(Item.objects.filter(project=project, external_id__in=table["item"].unique())
                  .values_list("external_id", "needed"))
    return [
        {"item": r["item"], "unit": r["unit"], "dimension": r["dimension"], "disagreement": r["disagreement"],
         "n_labels": r["n_labels"], "distribution": r["distribution"], "needed": needed.get(r["item"])}
        for r in table.to_dict("records")
    ]


def _table_rows(report: dict, attribute: str | None) -> tuple[list[dict], list[dict], list[dict]]:
    """Flattens the report for the template: dimensions, group rows, between-group cells."""
    names = list(report["dimensions"])
    dimensions = [{"name": name, **f, "icc_single": (f["icc"] or {}).get("ICC(1,1)")}
                  for name, f in report["dimensions"].items()]
    groups, between = [], []
    if attribute:
        for value, entry in sorted(report["groups"].get(attribute, {}).items()):
            groups.append({"value": value, "n_annotators": entry["n_annotators"], "n_labels": entry["n_labels"],
                           "cells": [entry["dimensions"][name] for name in names]})
        between = [report["between_groups"][attribute][name] for name in names]
    return dimensions, groups, between


def _difference_rows(report: dict, attribute: str | None) -> list[dict]:
    if not attribute:
        return []
    return [{"dimension": name, **record}
            for name, records in report["alpha_differences"].get(attribute, {}).items() for record in records]


def _mean_rows(report: dict, attribute: str | None) -> list[dict]:
    """Mean rating per group and numeric dimension, for rating projects."""
    if not attribute:
        return []
    return [{"group": value, "dimension": name, **figures}
            for value, entry in sorted(report["groups"].get(attribute, {}).items())
            for name, figures in entry["mean_ratings"].items()]


@require_GET
@researcher_required
def agreement_page(request, slug):
    project = selectors.project_get_for_user(user=request.user, slug=slug)
    attribute = request.GET.get("by") or None
    sort = request.GET.get("sort", "annotator")
    descending = request.GET.get("order") == "desc"
    quality = {
        "project": project,
        "attribute": attribute,
        "quality": _quality_rows(project, sort, descending),
        "columns": SORTABLE,
        "sort": sort,
        "descending": descending,
    }
    if request.headers.get("HX-Request") and request.GET.get("fragment") == "quality":
        # Re-sorting the quality table needs none of the report (its bootstrap is the slow part).
        return render(request, "annotations/agreement/page.html#quality", quality)
    regroup_text = request.GET.get("regroup", "").strip()
    try:
        report = project_agreement_report(
            project=project, by=[attribute] if attribute else [], n_bootstrap=PAGE_BOOTSTRAP,
            regroup=regroup_parse(regroup_text),
        )
    except ValueError as error:
        return HttpResponseBadRequest(f"regroup: {error}")
    dimension_rows, group_rows, between = _table_rows(report, attribute)
    context = {
        **quality,
        "dimension_rows": dimension_rows,
        "group_rows": group_rows,
        "between": between,
        "differences": _difference_rows(report, attribute),
        "mean_rows": _mean_rows(report, attribute),
        "regroup": regroup_text,
        "report": report,
        "attributes": list(ATTRIBUTE_NAMES),
        "plot": mark_safe(alpha_by_group_svg(report, attribute)),  # built from numbers and escaped text only
        "distributions": selectors.rating_distributions(project=project),
        "disagreements": _disagreement_rows(project),
        "rounds": reannotation_rounds_compared(project=project),
    }
    return render(request, "annotations/agreement/page.html", context)


@require_GET
@researcher_required
def item_read(request, slug, external_id):
    project = selectors.project_get_for_user(user=request.user, slug=slug)
    item = get_object_or_404(Item, project=project, external_id=external_id)
    return render(request, "annotations/agreement/item.html", {"project": project, "item": item})


@require_POST
@researcher_required
def annotator_exclude_view(request, slug, pseudonym):
    project = selectors.project_get_for_user(user=request.user, slug=slug)
    annotator = get_object_or_404(get_user_model(), pseudonym=pseudonym)
    annotator_exclude(project=project, annotator=annotator, reason=request.POST.get("reason", ""),
                      created_by=request.user)
    messages.info(request, f"{pseudonym} is excluded from agreement and exports.")
    return redirect(reverse("annotations:agreement_page", args=[slug]) + "#quality")


@require_POST
@researcher_required
def annotator_include_view(request, slug, pseudonym):
    project = selectors.project_get_for_user(user=request.user, slug=slug)
    annotator = get_object_or_404(get_user_model(), pseudonym=pseudonym)
    annotator_include(project=project, annotator=annotator)
    messages.info(request, f"{pseudonym} is included again.")
    return redirect(reverse("annotations:agreement_page", args=[slug]) + "#quality")


@require_POST
@researcher_required
def item_queue_view(request, slug, external_id):
    project = selectors.project_get_for_user(user=request.user, slug=slug)
    item = item_queue_more_labels(item=get_object_or_404(Item, project=project, external_id=external_id))
    messages.info(request, f"{item.external_id} now needs {item.needed} labels.")
    return redirect(reverse("annotations:agreement_page", args=[slug]) + "#disagreement")
