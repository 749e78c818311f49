"""Django side of the analysis: a study's Judgment rows and participants as the frames the math takes.

The only module of :mod:`studies.analysis` that imports Django. Participants are named by their
user's pseudonym (the one id that may leave the platform). Their attributes are the account's
demographic answers overlaid with this study's survey answers.
"""

from __future__ import annotations

import pandas as pd
from django.db.models import Count, F, Q, QuerySet

from studies.analysis.clustered import DEFAULT_CORRECTION
from studies.analysis.frame import JUDGMENT_COLUMNS, judgments_frame_empty
from studies.analysis.planning import plan_reached, study_plan
from studies.analysis.report import study_report
from studies.models import Judgment, Participant, Study
from webapp.people.regroup import regroup_apply
from webapp.people.surveys import ATTRIBUTE_NAMES, survey_section, survey_section_questions

# Free-text answers other than these make one group per person, which says nothing about groups.
FREE_TEXT_GROUP_ATTRIBUTES = ("country", "culture", "native_language")


def study_criteria(study: Study) -> list[str]:
    """Criterion names in the spec's order; the first is the study's overall question."""
    return [criterion["name"] for criterion in study.spec.get("criteria", []) if criterion.get("name")]


def study_group_attributes(study: Study) -> list[str]:
    """Attributes worth splitting results by: the demographic ones and the study's non-free-text questions."""
    names = list(ATTRIBUTE_NAMES)
    for question in survey_section_questions(survey_section(study.spec.get("survey", []))):
        if question.get("type", "text") != "text" or question["name"] in FREE_TEXT_GROUP_ATTRIBUTES:
            names.append(question["name"])
    return list(dict.fromkeys(names))


def study_judgments(
    study: Study,
    *,
    include_ended: bool = False,
    sources: list[str] | None = None,
    criteria: list[str] | None = None,
) -> QuerySet[Judgment]:
    """The study's judgments that count, filtered as the report and the export agree to.

    Participants who were ended by the attention checks are left out unless ``include_ended``.
    """
    queryset = Judgment.objects.filter(study=study)
    if not include_ended:
        queryset = queryset.exclude(participant__stage=Participant.Stage.ENDED)
    if sources:
        queryset = queryset.filter(source__in=sources)
    if criteria:
        queryset = queryset.filter(criterion__in=criteria)
    return queryset


def one_sided_pseudonyms(judgments: QuerySet[Judgment], *, min_judgments: int) -> list[str]:
    """Pseudonyms of participants whose decisive judgments (at least ``min_judgments``) all went to one side.

    Same rule as :func:`studies.analysis.position.one_sided_participants`, counted in the database
    so that a streaming export does not have to hold the judgments.
    """
    per_participant = (
        judgments.exclude(choice=Judgment.Choice.TIE)
        .filter(left__in=("a", "b"))
        .values(pseudonym=F("participant__user__pseudonym"))
        .annotate(n=Count("id"), left=Count("id", filter=Q(choice=F("left"))))
        .filter(n__gte=min_judgments)
        .filter(Q(left=0) | Q(left=F("n")))
    )
    return sorted(row["pseudonym"] for row in per_participant)


def judgments_frame(judgments: QuerySet[Judgment]) -> pd.DataFrame:
    """The judgments as the analysis frame (columns :data:`JUDGMENT_COLUMNS`), systems by name."""
    rows = judgments.values_list(
        "participant__user__pseudonym",
        "prompt__external_id",
        "system_a__name",
        "system_b__name",
        "choice",
        "left",
        "criterion",
        "seconds",
    ).order_by("id")
    frame = pd.DataFrame.from_records(list(rows.iterator(chunk_size=5000)), columns=list(JUDGMENT_COLUMNS))
    if frame.empty:
        return judgments_frame_empty()
    frame["seconds"] = pd.to_numeric(frame["seconds"], errors="coerce").astype("float64")
    return frame


def participants_frame(study: Study, *, attributes: list[str] | None = None) -> pd.DataFrame:
    """One row per participant of the study: ``participant`` (pseudonym) and one column per attribute."""
    names = attributes if attributes is not None else study_group_attributes(study)
    records = []
    for pseudonym, account, survey in Participant.objects.filter(study=study).values_list(
        "user__pseudonym", "user__attributes", "survey"
    ):
        answers = {**(account or {}), **(survey or {})}
        records.append({"participant": pseudonym, **{name: answers.get(name) for name in names}})
    return pd.DataFrame.from_records(records, columns=["participant", *names])


def study_frames(study: Study, *, include_ended: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(judgments_frame, participants_frame)`` for :func:`studies.analysis.study_report`."""
    return judgments_frame(study_judgments(study, include_ended=include_ended)), participants_frame(study)


def study_plan_for(study: Study, **options) -> dict:
    """The participants ``study`` needs (see :func:`studies.analysis.planning.study_plan`), from its spec."""
    return study_plan(
        pairs_per_participant=int(study.spec.get("pairs_per_participant") or 1),
        n_systems=len(study.spec.get("systems") or []),
        **options,
    )


def study_report_for(
    study: Study,
    *,
    include_ended: bool = False,
    n_bootstrap: int = 1000,
    seed: int = 0,
    correction: str = DEFAULT_CORRECTION,
    regroup: dict[str, dict] | None = None,
    planning: dict | None = None,
) -> dict:
    """The full report of a study as stored now (see :mod:`studies.analysis.report`), with its spec hash.

    ``correction`` ("holm" or "bh") adjusts the participant-group tests for multiplicity;
    ``regroup`` rules (:func:`webapp.people.regroup.regroup_parse`) relabel participant attributes
    first (raises ValueError naming an attribute the study does not have). ``planning``
    (:func:`studies.analysis.planning.planning_options_clean`'s output; defaults when None) sets
    the target the report's ``planning`` section checks the study against.
    """
    judgments, participants = study_frames(study, include_ended=include_ended)
    if regroup:
        participants = regroup_apply(participants, regroup)
    report = study_report(
        judgments,
        participants,
        criteria=study_criteria(study),
        # an attribute nobody answered would only add one "(not answered)" group holding everyone
        group_attributes=[
            c for c in participants.columns if c != "participant" and participants[c].notna().any()
        ],
        n_bootstrap=n_bootstrap,
        seed=seed,
        correction=correction,
    )
    plan = study_plan_for(study, **(planning or {}))
    primary = report["criteria"][0] if report["criteria"] else None
    report["planning"] = {"plan": plan, **plan_reached(plan, report["comparisons"], criterion=primary)}
    report["study"] = {"slug": study.slug, "title": study.title, "spec_hash": study.spec_hash}
    report["filters"] = {
        "include_ended": include_ended,
        "n_bootstrap": n_bootstrap,
        "seed": seed,
        "correction": correction,
        "regroup": regroup or {},
    }
    return report
