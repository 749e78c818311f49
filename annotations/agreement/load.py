"""A project's labels as the long frame the agreement package reads (the only Django module here).

Columns: item (external id), unit (the item, or ``"<item>#<turn>"`` for per-turn values),
turn (None or int), annotator (pseudonym — the only id that leaves the platform), dimension,
value, seconds, role ("task" | "gold" | "attention"), is_gold, is_attention_check, expected
(the item's ``gold`` answer for that dimension, None elsewhere).

Annotators with an active (unrevoked) Exclusion are left out unless asked for.
"""

from __future__ import annotations

import pandas as pd
from django.contrib.auth import get_user_model

from annotations.models import Enrollment, Exclusion, Item, Label, Project, ProjectAnnotator
from webapp.people.surveys import attributes_from_answers

FRAME_COLUMNS = [
    "item", "unit", "turn", "annotator", "dimension", "value", "seconds", "role", "is_gold", "is_attention_check",
    "expected",
]


def excluded_annotator_ids(*, project: Project) -> set[int]:
    return set(
        Exclusion.objects.filter(project=project, revoked_at__isnull=True).values_list("annotator_id", flat=True)
    )


def project_label_frame(*, project: Project, include_excluded: bool = False, tasks_only: bool = False,
                        item_ids: list[int] | None = None, labelled_before=None) -> pd.DataFrame:
    """All label values of ``project`` as one long frame (see module docstring); only those of ``item_ids`` (item
    primary keys) and only labels stored before the datetime ``labelled_before`` when given."""
    excluded = set() if include_excluded else excluded_annotator_ids(project=project)
    items = {
        pk: (external_id, role, gold or {})
        for pk, external_id, role, gold in Item.objects.filter(project=project).values_list(
            "id", "external_id", "role", "gold"
        ).iterator(chunk_size=5000)
    }
    labels = Label.objects.filter(project=project)
    if tasks_only:
        labels = labels.filter(item__role=Item.Role.TASK)
    if item_ids is not None:
        labels = labels.filter(item_id__in=item_ids)
    if labelled_before is not None:
        labels = labels.filter(created_at__lt=labelled_before)
    rows = labels.values_list("item_id", "annotator__pseudonym", "annotator_id", "values", "seconds")
    out: dict[str, list] = {column: [] for column in FRAME_COLUMNS}
    for item_id, pseudonym, annotator_id, values, seconds in rows.iterator(chunk_size=5000):
        if annotator_id in excluded:
            continue
        external_id, role, gold = items[item_id]
        for dimension, value in (values or {}).items():
            if isinstance(value, dict):  # per-turn: {"<turn>": value}
                cells = [(f"{external_id}#{turn}", int(turn), v) for turn, v in value.items()]
            else:
                cells = [(external_id, None, value)]
            expected = gold.get(dimension)
            for unit, turn, cell in cells:
                if cell is None:
                    continue
                out["item"].append(external_id)
                out["unit"].append(unit)
                out["turn"].append(turn)
                out["annotator"].append(pseudonym)
                out["dimension"].append(dimension)
                out["value"].append(cell)
                out["seconds"].append(seconds)
                out["role"].append(role)
                out["is_gold"].append(role == Item.Role.GOLD)
                out["is_attention_check"].append(role == Item.Role.ATTENTION)
                out["expected"].append(expected.get(str(turn)) if isinstance(expected, dict) else expected)
    frame = pd.DataFrame(out, columns=FRAME_COLUMNS)
    # one object column keeps each dimension's own type: a float slider beside an int choice
    # would otherwise turn the choice's 1 into 1.0
    frame["value"] = pd.Series(out["value"], dtype=object)
    frame["expected"] = pd.Series(out["expected"], dtype=object)
    return frame


def project_annotator_attribute_table(*, project: Project) -> dict[int, tuple[str, dict]]:
    """user id -> (pseudonym, attributes in ``project``) for every annotator with a label there.

    Attributes are the account's, overlaid with the answers to this project's own survey
    (``Enrollment.survey_before``) and with what imports into this project recorded
    (``ProjectAnnotator``): another project's survey or import never moves someone between groups here."""
    user_model = get_user_model()
    annotator_ids = Label.objects.filter(project=project).values("annotator_id").distinct()
    table = {
        pk: (pseudonym, dict(attributes or {}))
        for pk, pseudonym, attributes in user_model.objects.filter(id__in=annotator_ids).values_list(
            "id", "pseudonym", "attributes"
        )
    }
    for annotator_id, answers in Enrollment.objects.filter(project=project).values_list(
        "annotator_id", "survey_before"
    ):
        if annotator_id in table:
            table[annotator_id][1].update(attributes_from_answers(answers or {}))
    for annotator_id, attributes in ProjectAnnotator.objects.filter(project=project).values_list(
        "annotator_id", "attributes"
    ):
        if annotator_id in table:
            table[annotator_id][1].update(attributes or {})
    return table


def project_annotator_attributes(*, project: Project) -> pd.DataFrame:
    """Index: pseudonym of every annotator with a label in ``project``; columns: their attributes there."""
    records = dict(project_annotator_attribute_table(project=project).values())
    return pd.DataFrame.from_dict(records, orient="index")


def project_agreement_report(
    *,
    project: Project,
    by: list[str] | tuple[str, ...] = (),
    n_bootstrap: int = 1000,
    seed: int = 0,
    level: str | None = None,
    kappa_weights: str = "quadratic",
    regroup: dict[str, dict] | None = None,
) -> dict:
    """The agreement report of ``project``'s task items, excluded annotators left out. ``regroup`` rules
    (:func:`webapp.people.regroup.regroup_parse`) relabel the annotator attributes first; raises ValueError naming
    an attribute no annotator has."""
    from annotations.agreement.report import agreement_report

    frame = project_label_frame(project=project, tasks_only=True)
    attributes = project_annotator_attributes(project=project) if by or regroup else None
    report = agreement_report(
        frame, project.dimensions, attributes, by=by, n_bootstrap=n_bootstrap, seed=seed, level=level,
        kappa_weights=kappa_weights, regroup=regroup,
    )
    report["project"] = project.slug
    report["excluded_annotators"] = sorted(
        Exclusion.objects.filter(project=project, revoked_at__isnull=True)
        .values_list("annotator__pseudonym", flat=True)
        .distinct()
    )
    return report


def project_annotator_quality(*, project: Project) -> pd.DataFrame:
    """The quality table of every annotator, excluded ones included and flagged ``excluded``.

    Agreement columns of an annotator are computed against everyone else who is not excluded
    (plus that annotator), so excluding a careless annotator changes the others' figures."""
    from annotations.agreement.annotators import annotator_quality

    frame = project_label_frame(project=project, include_excluded=True)
    excluded = set(
        Exclusion.objects.filter(project=project, revoked_at__isnull=True).values_list("annotator__pseudonym", flat=True)
    )
    kept = frame[~frame["annotator"].isin(excluded)]
    table = annotator_quality(kept, project.dimensions)
    if excluded:
        # each excluded annotator is measured against the kept ones, one at a time
        extra = [
            annotator_quality(pd.concat([kept, frame[frame["annotator"] == pseudonym]]), project.dimensions)
            .query("annotator == @pseudonym")
            for pseudonym in sorted(excluded)
            if (frame["annotator"] == pseudonym).any()
        ]
        table = pd.concat([table, *extra], ignore_index=True)
    table["excluded"] = table["annotator"].isin(excluded)
    return table
