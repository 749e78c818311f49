"""Reads for studies, with the access checks. Views and the API never filter studies by hand."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.db import connection
from django.db.models import Count, QuerySet, Sum
from django.http import Http404

from studies.models import Assignment, Judgment, Pair, Participant, Study
from webapp.people.ownership import owned_or_shared, owned_or_shared_get
from webapp.specs.cache import spec_cached


def studies_for_user(*, user) -> QuerySet[Study]:
    """Studies a researcher owns or collaborates on (superusers see all); nothing for other roles."""
    return owned_or_shared(Study.objects.all(), user)


def study_get_for_user(*, user, slug: str) -> Study:
    """The study if ``user`` owns or collaborates on it (``owned_or_shared_get``: Http404 for another researcher's,
    PermissionDenied for other roles)."""
    return owned_or_shared_get(Study.objects.all(), user, slug=slug)


def study_get_open(*, slug: str) -> Study:
    """A study whose recruitment link is live; Http404 otherwise."""
    study = Study.objects.filter(slug=slug, is_open=True).first()
    if study is None:
        raise Http404("no open study here")
    return study


def study_spec_cached(*, study_id: int, spec_hash: str) -> dict:
    """The spec of ``study_id`` at ``spec_hash``, decoded once per process (``webapp.specs.cache``)."""
    return spec_cached(Study, pk=study_id, spec_hash=spec_hash)


# Study columns read with a participant: the rest (the spec aside, which comes from the cache) load on first use.
_STUDY_WITH_PARTICIPANT = ("id", "slug", "title", "spec_hash", "owner_id")


@cache
def _participant_statement() -> str:
    quote = connection.ops.quote_name
    study_columns = ", ".join(f"s.{quote(name)} AS {quote('study__' + name)}" for name in _STUDY_WITH_PARTICIPANT)
    return (f"SELECT p.*, {study_columns} FROM {quote(Participant._meta.db_table)} p "
            f"JOIN {quote(Study._meta.db_table)} s ON s.id = p.study_id WHERE p.token = %s")


def participant_get_by_token(*, token: str) -> Participant:
    """The participant a link token names, with its study (one query; the spec from the per-process cache when
    its hash is known there); Http404 otherwise.

    Every page a participant opens and every judgment starts here, so the statement is plain SQL through
    ``raw()`` (Django still converts the participant's columns): compiling the equivalent ``select_related``
    cost more CPU than the database spent answering it."""
    participant = next(iter(Participant.objects.raw(_participant_statement(), [token])), None)
    if participant is None:
        raise Http404("no such participation")
    study = Study.from_db(connection.alias, list(_STUDY_WITH_PARTICIPANT),
                          [getattr(participant, f"study__{name}") for name in _STUDY_WITH_PARTICIPANT])
    participant.study = study
    # assigning the deferred field fills it without a query; a new spec has a new hash, so this is never stale
    study.spec = study_spec_cached(study_id=study.pk, spec_hash=study.spec_hash)
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

    @property
    def number(self) -> int:
        """1-based, for "3 of 10"."""
        return self.position + 1

    @property
    def percent(self) -> int:
        return round(100 * self.position / self.total) if self.total else 0


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
