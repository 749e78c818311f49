"""The participant's way through a study: enrol, consent, survey, start, judge pairs, finish.

``judgment_submit`` is the hot loop (one POST stores the answers and hands back the next slot). It
runs four statements: the current and next slots with everything needed to show them (read before the
transaction: the conditional update below is the guard, not a lock), then in one transaction a
conditional ``UPDATE`` that makes a second submit of the same slot a no-op, one multi-row ``INSERT`` of
the judgments, and one ``UPDATE`` of the participant. The participant row is read by the caller.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from studies.models import Assignment, Judgment, Participant, Study
from studies.services.loop_sql import judgment_store_postgres, slots_fetch
from studies.services.reservation import pairs_release, plan_slots, reservations_release_expired, slots_refill
from studies.services.setup import StudyError
from webapp.people.journey import Journey, Step
from webapp.people.surveys import survey_has_questions, survey_section

SIDES = ("left", "right", "tie")
STORED = {Step.WORK: Participant.Stage.JUDGING, Step.DONE: Participant.Stage.COMPLETED}
ACTIVE_STAGES = (Participant.Stage.JUDGING, Participant.Stage.COMPLETED, Participant.Stage.ENDED)


class StudyFull(StudyError):
    """The study has no room for another participant (quota reached or every pair fully judged)."""


class JudgmentInvalid(ValueError):
    """Answers that do not satisfy the criteria; ``errors`` maps criterion name to a sentence."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


@dataclass
class SubmitOutcome:
    stored: bool  # False for a repeated or stale submit: nothing was written
    next_slot: Assignment | None  # the slot to show now (None when the participant is finished)
    warned: bool = False  # an attention check just failed and the spec says to warn
    errors: dict[str, str] = field(default_factory=dict)


def participant_enroll(*, study: Study, user, crowd: dict | None = None) -> Participant:
    """Enrols ``user`` (or returns their existing row: a second visit resumes). Raises ``StudyFull``."""
    existing = Participant.objects.filter(study=study, user=user).first()
    if existing is not None:
        return existing
    if not study.is_open:
        raise StudyFull("this study is not open")
    quota = study.spec["recruitment"]["quota"]
    for _attempt in range(5):
        try:
            with transaction.atomic():
                if quota and Participant.objects.filter(study=study, stage__in=ACTIVE_STAGES).count() >= quota:
                    raise StudyFull("this study has all the participants it needs")
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
                   instructions=True, final=False, names=STORED)


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
    """After the instructions: returns lapsed reservations to the pool, then reserves this participant's plan.

    Not one transaction, on purpose: each pair is reserved in its own short transaction, so no
    participant holds one pair's row lock while waiting for another's (two starts that each held
    what the other wanted would both end with short plans). The participant is claimed first
    (stage ``judging`` with ``total`` 0, which pages show as "preparing"), so a double start does
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
            raise StudyFull("every pair in this study has all the judgments it needs")
        with transaction.atomic():
            Assignment.objects.bulk_create(slots)
            participant.stage, participant.position, participant.total = Participant.Stage.JUDGING, 0, len(slots)
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


def slot_for_display(*, participant: Participant, now: datetime | None = None) -> Assignment | None:
    """The slot to show now, reserving afresh if the reservations lapsed meanwhile; stamps the start time."""
    if participant.stage != Participant.Stage.JUDGING:
        return None
    now = now or timezone.now()
    with transaction.atomic():
        slot = slots_fetch(participant_id=participant.pk, positions=(participant.position,)).get(participant.position)
        if slot is not None and slot.status == Assignment.Status.RELEASED:
            total = slots_refill(study=participant.study, participant=participant, now=now)
            participant.total = total
            if participant.position >= total:
                _finish(participant, now)
                return None
            slot = slots_fetch(participant_id=participant.pk, positions=(participant.position,)).get(participant.position)
        Participant.objects.filter(pk=participant.pk).update(last_seen_at=now)
        participant.last_seen_at = now
    return slot


def answers_validate(*, criteria: list[dict], answers: dict[str, dict]) -> dict[str, dict]:
    """Checks raw answers ``{criterion: {side, strength, rationale}}`` against the spec's criteria.

    ``side`` is "left", "right" or "tie"; ``strength`` a 1-based index into the criterion's labels.
    Returns cleaned answers; raises ``JudgmentInvalid`` naming each criterion at fault.
    """
    errors: dict[str, str] = {}
    clean: dict[str, dict] = {}
    for criterion in criteria:
        name = criterion["name"]
        raw = answers.get(name) or {}
        side = raw.get("side")
        if side not in SIDES:
            errors[name] = "Please choose the left reply, the right reply or a tie."
            continue
        if side == "tie" and not criterion["ties"]:
            errors[name] = "A tie is not allowed for this question; please choose one reply."
            continue
        strength = raw.get("strength")
        if criterion["strength"] and side != "tie":
            try:
                strength = int(strength)
            except (TypeError, ValueError):
                strength = 0
            if not 1 <= strength <= len(criterion["strength"]):
                errors[name] = "Please say how much better the chosen reply is."
                continue
        else:
            strength = None
        rationale = (raw.get("rationale") or "").strip()[:4000]
        if criterion["rationale"] == "required" and not rationale:
            errors[name] = "Please give a short reason."
            continue
        clean[name] = {"side": side, "strength": strength, "rationale": rationale}
    if errors:
        raise JudgmentInvalid(errors)
    return clean


def judgment_submit(
    *, participant: Participant, token: str, answers: dict[str, dict], now: datetime | None = None
) -> SubmitOutcome:
    """Stores the answers to the slot ``token`` names and returns the slot to show next.

    Only the slot at the participant's position accepts answers, once: a double submit or a stale
    token stores nothing and shows the current slot. Invalid answers raise ``JudgmentInvalid``
    before anything is written. Attention-check answers update the failure count (warn, then end,
    as the spec says) and store no judgment. ``participant`` must be fresh (read in this request).
    """
    now = now or timezone.now()
    study = participant.study
    spec = study.spec
    position = participant.position
    slots = slots_fetch(participant_id=participant.pk, positions=(position, position + 1))
    current = slots.get(position)
    if participant.stage != Participant.Stage.JUDGING or current is None or current.token != token:
        return SubmitOutcome(stored=False, next_slot=current if participant.stage == Participant.Stage.JUDGING else None)
    clean = answers_validate(criteria=spec["criteria"], answers=answers)
    following = slots.get(position + 1)
    if (connection.vendor == "postgresql" and current.pair_id and position + 1 < participant.total
            and following is not None and following.status == Assignment.Status.RESERVED):
        return _judgment_store_common(participant=participant, current=current, following=following,
                                      clean=clean, now=now)
    with transaction.atomic():
        return _judgment_store(participant=participant, current=current, following=following, clean=clean, now=now)


def _judgments(participant: Participant, slot: Assignment, clean: dict[str, dict], seconds: float | None):
    return [
        Judgment(
            study_id=participant.study_id, participant_id=participant.pk, assignment_id=slot.pk, pair_id=slot.pair_id,
            prompt_id=slot.pair.prompt_id, system_a_id=slot.system_a_id, system_b_id=slot.system_b_id,
            choice=_choice(answer["side"], slot.left), left=slot.left, criterion=name,
            strength=answer["strength"], rationale=answer["rationale"], seconds=seconds,
        )
        for name, answer in clean.items()
    ]


def _judgment_store_common(*, participant: Participant, current: Assignment, following: Assignment,
                           clean: dict[str, dict], now: datetime) -> SubmitOutcome:
    """The usual judgment (a pair, more to come, the next slot still reserved) on PostgreSQL: one statement,
    atomic by itself, with the same effect as ``_judgment_store`` (see ``loop_sql``)."""
    seconds = (now - participant.last_seen_at).total_seconds() if participant.last_seen_at else None
    expires_at = now + timedelta(minutes=participant.study.spec["reservation_minutes"])
    stored = judgment_store_postgres(participant=participant, slot=current,
                                     judgments=_judgments(participant, current, clean, seconds),
                                     now=now, expires_at=expires_at)
    if stored:
        participant.position += 1
        participant.last_seen_at, participant.expires_at = now, expires_at
    return SubmitOutcome(stored=stored, next_slot=following)


def _judgment_store(*, participant: Participant, current: Assignment, following: Assignment | None,
                    clean: dict[str, dict], now: datetime) -> SubmitOutcome:
    """The writes of ``judgment_submit``; call inside a transaction."""
    study = participant.study
    spec = study.spec
    position = participant.position
    seconds = (now - participant.last_seen_at).total_seconds() if participant.last_seen_at else None
    claimed = Assignment.objects.filter(pk=current.pk, status=Assignment.Status.RESERVED).update(
        status=Assignment.Status.DONE, answered_at=now, seconds=seconds,
        attention_passed=_attention_passed(current, clean, spec) if current.attention_check_id else None,
    )
    if not claimed:  # a concurrent submit of the same slot won; show what follows it
        return SubmitOutcome(stored=False, next_slot=following)
    warned = ended = False
    failures = participant.attention_failures
    if current.attention_check_id:
        if not _attention_passed(current, clean, spec):
            failures += 1
            policy = spec["attention_checks"]
            ended = bool(policy["end_after"]) and failures >= policy["end_after"]
            warned = not ended and bool(policy["warn_after"]) and failures >= policy["warn_after"]
    else:
        Judgment.objects.bulk_create(_judgments(participant, current, clean, seconds))
    participant.position = position + 1
    participant.attention_failures = failures
    participant.last_seen_at = now
    participant.expires_at = now + timedelta(minutes=spec["reservation_minutes"])
    fields = ["position", "attention_failures", "last_seen_at", "expires_at"]
    if ended:
        pairs_release(assignments=list(Assignment.objects.filter(participant=participant, position__gt=position)))
        participant.stage, participant.completed_at = Participant.Stage.ENDED, now
        fields += ["stage", "completed_at"]
    elif participant.position >= participant.total:
        participant.stage, participant.completed_at = Participant.Stage.COMPLETED, now
        fields += ["stage", "completed_at"]
    Participant.objects.filter(pk=participant.pk).update(**{name: getattr(participant, name) for name in fields})
    next_slot = following if participant.stage == Participant.Stage.JUDGING else None
    if next_slot is not None and next_slot.status == Assignment.Status.RELEASED:
        next_slot = slot_for_display(participant=participant, now=now)
    return SubmitOutcome(stored=True, next_slot=next_slot, warned=warned)


def _choice(side: str, left: str) -> str:
    if side == "tie":
        return "tie"
    if side == "left":
        return left
    return "b" if left == "a" else "a"


def _attention_passed(slot: Assignment, clean: dict[str, dict], spec: dict) -> bool:
    """Passed when the first (overall) question chose the good reply, stored as side a."""
    first = clean[spec["criteria"][0]["name"]]
    return _choice(first["side"], slot.left) == "a"


def _finish(participant: Participant, now: datetime) -> None:
    participant.stage, participant.completed_at = Participant.Stage.COMPLETED, now
    Participant.objects.filter(pk=participant.pk).update(stage=participant.stage, completed_at=now)
