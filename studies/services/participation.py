"""The participant's way through a study: enrol, consent, survey, start; the judging turn is the ``work`` stage."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext

from studies.models import Assignment, Participant, Study
from studies.services.reservation import pairs_release, plan_slots, reservations_release_expired
from studies.services.setup import StudyError
from webapp.people.journey import Journey
from webapp.people.surveys import survey_has_questions, survey_section

ACTIVE_STAGES = (Participant.Stage.WORK, Participant.Stage.DONE, Participant.Stage.ENDED)


class StudyFull(StudyError):
    """The study has no room for another participant (quota reached or every pair fully judged)."""


def participant_enroll(*, study: Study, user, crowd: dict | None = None) -> Participant:
    """Enrols ``user`` (or returns their existing row: a second visit resumes). Raises ``StudyFull``."""
    existing = Participant.objects.filter(study=study, user=user).first()
    if existing is not None:
        return existing
    if not study.is_open:
        raise StudyFull(gettext("this study is not open"))
    quota = study.spec["recruitment"]["quota"]
    for _attempt in range(5):
        try:
            with transaction.atomic():
                if quota and Participant.objects.filter(study=study, stage__in=ACTIVE_STAGES).count() >= quota:
                    raise StudyFull(gettext("this study has all the participants it needs"))
                last = Participant.objects.filter(study=study).aggregate(m=Max("index"))["m"]
                index = 0 if last is None else last + 1
                return Participant.objects.create(
                    study=study, user=user, index=index, seed=secrets.randbits(62), crowd=crowd or {},
                    stage=study_journey(study.spec).first(),
                )
        except IntegrityError:
            existing = Participant.objects.filter(study=study, user=user).first()
            if existing is not None:
                return existing
    raise StudyError("could not enrol; please reload the page")


def study_journey(spec: dict) -> Journey:
    """The study's journey: consent with text, a survey with questions; the instructions always (their page
    starts the judging); no final survey."""
    return Journey(consent=bool(spec["consent"]["text"]), survey=survey_has_questions(survey_section(spec["survey"])),
                   instructions=True, final=False)


@transaction.atomic
def participant_consent(*, participant: Participant, agreed: bool) -> Participant:
    """Records consent (moving on) or its refusal (the participant leaves, nothing reserved)."""
    if participant.stage != Participant.Stage.CONSENT:
        return participant
    participant.stage = study_journey(participant.study.spec).after_consent(agreed)
    if agreed:
        participant.consented_at = timezone.now()
    participant.save(update_fields=["stage", "consented_at"])
    return participant


@transaction.atomic
def participant_survey_submit(*, participant: Participant, answers: dict, attributes: dict) -> Participant:
    """Stores validated survey answers and copies person attributes onto the user for group analyses."""
    if participant.stage != Participant.Stage.SURVEY:
        return participant
    participant.survey = answers
    participant.stage = study_journey(participant.study.spec).after(Participant.Stage.SURVEY)
    participant.save(update_fields=["survey", "stage"])
    if attributes:
        user = participant.user
        user.attributes = {**user.attributes, **attributes}
        user.save(update_fields=["attributes"])
    return participant


def participant_start(*, participant: Participant, now: datetime | None = None) -> Participant:
    """After the instructions: returns lapsed reservations to the pool, then plans this participant's slots and
    reserves the first ``pairs_reserved_at_once`` of them (``reservation.plan_slots``; the rest as they are reached).

    Not one transaction, on purpose: each pair is reserved in its own short transaction, so no
    participant holds one pair's row lock while waiting for another's (two starts that each held
    what the other wanted would both end with short plans). The participant is claimed first
    (stage ``work`` with ``total`` 0, which pages show as "preparing"), so a double start does
    nothing; if anything fails the reserved pairs go back and the stage reverts. Raises
    ``StudyFull`` (and reserves nothing) when the study cannot supply a single pair.
    """
    now = now or timezone.now()
    claimed = Participant.objects.filter(pk=participant.pk, stage=Participant.Stage.INSTRUCTIONS).update(
        stage=study_journey(participant.study.spec).after(Participant.Stage.INSTRUCTIONS), total=0, position=0)
    if not claimed:
        participant.refresh_from_db()
        return participant
    study = participant.study
    slots: list[Assignment] = []
    try:
        with transaction.atomic():
            reservations_release_expired(study=study, now=now)
        slots = plan_slots(study=study, participant=participant)
        if not any(slot.pair_id for slot in slots):
            raise StudyFull(gettext("every pair in this study has all the judgments it needs"))
        with transaction.atomic():
            Assignment.objects.bulk_create(slots)
            participant.stage, participant.position, participant.total = Participant.Stage.WORK, 0, len(slots)
            participant.last_seen_at = now
            participant.expires_at = now + timedelta(minutes=study.spec["reservation_minutes"])
            participant.save(update_fields=["stage", "position", "total", "last_seen_at", "expires_at"])
    except BaseException:
        with transaction.atomic():
            pairs_release(assignments=[s for s in slots if s.pk is None and s.pair_id])
            Participant.objects.filter(pk=participant.pk).update(stage=Participant.Stage.INSTRUCTIONS, total=0)
        participant.stage = Participant.Stage.INSTRUCTIONS
        raise
    return participant
