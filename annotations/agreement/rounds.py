"""Re-annotation rounds compared: the items a trained version sent back for more labels, their agreement among the
labels given before the round beside their agreement with every label now.

A round is recorded on each item it reopened (``Item.metadata["reannotation_rounds"]``: version, labels asked,
needed before, and ``at``, when it was sent). Items sent back by the same version at the same moment form one
round. Rounds recorded without ``at`` cannot be split into before and after, and are listed without figures."""

from __future__ import annotations

from datetime import datetime

import numpy as np
from django.utils.dateparse import parse_datetime

from annotations.agreement import dimensions as dims
from annotations.agreement.load import excluded_annotator_ids, project_label_frame
from annotations.agreement.reliability import alpha
from annotations.agreement.report import level_for, ratings_by_dimension
from annotations.models import Item, Label, Project


def _rounds(project: Project) -> list[dict]:
    rounds: dict[tuple[str, str], dict] = {}
    items = Item.objects.filter(project=project, metadata__has_key="reannotation_rounds")
    for pk, metadata in items.values_list("id", "metadata"):
        for entry in metadata.get("reannotation_rounds") or []:
            key = (str(entry.get("version", "")), str(entry.get("at", "")))
            found = rounds.setdefault(key, {"version": key[0], "at": parse_datetime(key[1]) if key[1] else None,
                                            "labels_asked": entry.get("labels"), "item_ids": []})
            found["item_ids"].append(pk)
    return sorted(rounds.values(), key=lambda found: (found["at"] is None, found["at"] or datetime.min))


def _alphas(frame, dimension_specs: list[dict]) -> dict[str, float | None]:
    out = {}
    for dimension in dimension_specs:
        ratings = ratings_by_dimension(frame, [dimension]).get(dimension["name"])
        if ratings is not None:
            value = alpha(ratings, level_for(dimension, None)) if ratings.n_labels else None
            out[dimension["name"]] = None if value is None or not np.isfinite(value) else float(value)
    return out


def _item_means(frame, dimension: dict):
    if not dims.is_numeric(dimension) or frame.empty:
        return None
    part = frame[(frame["dimension"] == dimension["name"]) & frame["turn"].isna()]
    return part.groupby("item")["value"].apply(lambda values: float(np.mean([float(v) for v in values])))


def reannotation_rounds_compared(*, project: Project) -> list[dict]:
    """One entry per round, oldest first: version, at, items, labels asked per item, labels before and since, and
    per dimension alpha before / now and (numeric whole-item dimensions) the mean absolute move of item means."""
    out = []
    excluded = excluded_annotator_ids(project=project)
    for found in _rounds(project):
        entry = {key: found[key] for key in ("version", "at", "labels_asked")}
        entry["items"] = len(found["item_ids"])
        entry["dimensions"] = []
        if found["at"] is None:
            out.append(entry)
            continue
        labels = Label.objects.filter(project=project, item_id__in=found["item_ids"]).exclude(
            annotator_id__in=excluded)
        entry["labels_before"] = labels.filter(created_at__lt=found["at"]).count()
        entry["labels_since"] = labels.filter(created_at__gte=found["at"]).count()
        before = project_label_frame(project=project, tasks_only=True, item_ids=found["item_ids"],
                                     labelled_before=found["at"])
        now = project_label_frame(project=project, tasks_only=True, item_ids=found["item_ids"])
        alpha_before, alpha_now = _alphas(before, project.dimensions), _alphas(now, project.dimensions)
        for dimension in project.dimensions:
            if dimension["name"] not in alpha_now:
                continue
            means_before, means_now = _item_means(before, dimension), _item_means(now, dimension)
            moved = None
            if means_before is not None and means_now is not None:
                shared = means_before.index.intersection(means_now.index)
                if len(shared):
                    moved = float(np.mean(np.abs(means_now[shared] - means_before[shared])))
            entry["dimensions"].append({"name": dimension["name"], "alpha_before": alpha_before.get(dimension["name"]),
                                        "alpha_now": alpha_now[dimension["name"]], "mean_moved": moved})
        out.append(entry)
    return out
