"""Reads for studies, with the access checks. Views and the API never filter studies by hand."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404

from studies.models import Assignment, Judgment, Pair, Participant, Study


def studies_for_user(*, user) -> QuerySet[Study]:
    """Studies a researcher owns or collaborates on (superusers see all); nothing for other roles."""
    if not user.is_authenticated or not user.is_researcher:
        return Study.objects.none()
    if user.is_superuser:
        return Study.objects.all()
    return Study.objects.filter(Q(owner=user) | Q(collaborators=user)).distinct()


def study_get_for_user(*, user, slug: str) -> Study:
    """The study if ``user`` owns or collaborates on it; PermissionDenied otherwise (also when it does
    not exist, so other groups' slugs are not revealed)."""
    study = studies_for_user(user=user).filter(slug=slug).first()
    if study is None:
        raise PermissionDenied("no such study among yours")
    return study


def study_get_open(*, slug: str) -> Study:
    """A study whose recruitment link is live; Http404 otherwise."""
    study = Study.objects.filter(slug=slug, is_open=True).first()
    if study is None:
        raise Http404("no open study here")
    return study


def participant_get_by_token(*, token: str) -> Participant:
    """The participant a link token names (with its study, in one query); Http404 otherwise."""
    participant = Participant.objects.select_related("study").filter(token=token).first()
    if participant is None:
        raise Http404("no such participation")
    return participant


@dataclass(frozen=True)
class BlindedSlot:
    """Everything a participant may see of one slot: no system, response, pair or prompt id."""

    token: str
    position: int
    total: int
    context: list[dict]
    left_text: str
    right_text: str


def slot_blind(*, slot: Assignment, total: int) -> BlindedSlot:
    """Puts the slot's two replies on the sides it was assigned; an attention check looks the same."""
    if slot.attention_check_id:
        check = slot.attention_check
        context, a_text, b_text = check.context, check.good, check.bad
    else:
        pair = slot.pair
        context, a_text, b_text = pair.prompt.context, pair.response_a.text, pair.response_b.text
    left, right = (a_text, b_text) if slot.left == "a" else (b_text, a_text)
    return BlindedSlot(token=slot.token, position=slot.position, total=total, context=context,
                       left_text=left, right_text=right)


def study_progress(*, study: Study) -> dict:
    """Counts for the dashboard and the API: participants by stage, comparisons done and capacity."""
    stages = dict(Participant.objects.filter(study=study).values_list("stage").annotate(n=Count("id")))
    pairs = Pair.objects.filter(study=study).aggregate(n=Count("id"), taken=Sum("taken"))
    done = Assignment.objects.filter(participant__study=study, status=Assignment.Status.DONE,
                                     pair__isnull=False).count()
    quota = study.spec.get("judgments_per_pair", 1)
    capacity = (pairs["n"] or 0) * quota
    return {
        "participants": {stage: stages.get(stage, 0) for stage in Participant.Stage.values},
        "comparisons_done": done,
        "comparisons_reserved": (pairs["taken"] or 0) - done,
        "capacity": capacity,
        "percent": round(100 * done / capacity, 1) if capacity else 0.0,
        "judgments": Judgment.objects.filter(study=study).count(),
        "imported_judgments": Judgment.objects.filter(study=study, source=Judgment.Source.IMPORT).count(),
        "attention_failures": Assignment.objects.filter(participant__study=study, attention_passed=False).count(),
    }
