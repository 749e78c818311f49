"""The judgment turn: a participant's answers to the slot on screen are stored, and the slot to show next comes back.

One path on PostgreSQL and SQLite alike, for the page, the API and the benchmarks. A usual turn (a participant
arriving by their link token, a pair slot, answers that fit) runs two statements on PostgreSQL: the participant
with its study and its current and next slots (``judgment_context_fetch``, one read), then the store: the
conditional claim of the slot, a judgment per criterion and the participant's move to the next position, each
depending on the claim (so a second submit of the same slot writes nothing), as one data-modifying WITH
(``webapp.data.statements``), atomic on its own without BEGIN and COMMIT. On SQLite the same parts run one after
another in a transaction. A turn that reaches a slot left for later (a participant holds at most
``pairs_reserved_at_once`` pairs) also reserves the next ones (``reservation.slots_refill``): in a transaction, the
participant's row lock, then one statement that reserves the pairs and hands back the slot to show. The statements
are written out once here: the equivalent ORM calls spent more CPU compiling SQL than the database spent answering
it. Slots read here are views (``slot_rows``): never ``save()`` one, update by ``pk``.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from studies.models import Assignment, Judgment, Participant, Study
from studies.selectors import study_spec_cached
from studies.services.reservation import pairs_release, slots_refill
from studies.services.slot_rows import slot_columns, slot_from_row, slot_joins, slots_fetch
from webapp.data.raw_rows import db_datetime, instance_from_row, quoted, table_name
from webapp.data.statements import Part, statements_run

SIDES = ("left", "right", "tie")


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


# The participant and its slots in one read ----------------------------------------------------------------------

_PARTICIPANT_FIELDS = list(Participant._meta.concrete_fields)
# the spec comes from the per-process cache; the study's other columns load on first use
_STUDY_FIELDS = [Study._meta.get_field(name) for name in ("id", "slug", "title", "spec_hash", "owner")]


@cache
def _context_statement() -> str:
    participant = ", ".join(f"t.{quoted(f.column)}" for f in _PARTICIPANT_FIELDS)
    study = ", ".join(f"s.{quoted(f.column)}" for f in _STUDY_FIELDS)
    return (f"SELECT {participant}, {study}, {slot_columns()} FROM {table_name(Participant)} t "
            f"JOIN {table_name(Study)} s ON s.id = t.study_id "
            f"LEFT JOIN {table_name(Assignment)} a ON a.participant_id = t.id "
            f"AND a.position IN (t.position, t.position + 1) {slot_joins()} "
            f"WHERE t.token = %s")


def judgment_context_fetch(*, token: str) -> tuple[Participant | None, dict[int, Assignment]]:
    """The participant a link token names (with ``study``, its spec from the per-process cache) and its slots at
    its position and the next, by position: what ``judgment_submit`` needs, in one statement. (None, {}) when no
    participant has that token."""
    with connection.cursor() as cursor:
        cursor.execute(_context_statement(), [token])
        rows = cursor.fetchall()
    if not rows:
        return None, {}
    first = rows[0]
    size = len(_PARTICIPANT_FIELDS)
    participant = instance_from_row(Participant, _PARTICIPANT_FIELDS, first[:size])
    study = instance_from_row(Study, _STUDY_FIELDS, first[size:size + len(_STUDY_FIELDS)])
    study.spec = study_spec_cached(study_id=study.pk, spec_hash=study.spec_hash)
    participant.study = study
    slots = {}
    for row in rows:
        slot_row = row[size + len(_STUDY_FIELDS):]
        if slot_row[0] is not None:
            slot = slot_from_row(slot_row)
            slots[slot.position] = slot
    return participant, slots


# Showing and answering ---------------------------------------------------------------------------------------


def slot_for_display(*, participant: Participant, now: datetime | None = None,
                     slot: Assignment | None = None) -> Assignment | None:
    """The slot to show now, reserving its pair (and the next ones, up to ``pairs_reserved_at_once``) when it holds
    none: planned for later, or its reservation lapsed meanwhile; stamps the start time. ``slot``: the slot at the
    participant's position when the caller has just read it (else it is read here). Call outside a transaction
    (``slots_refill`` runs its own)."""
    if participant.stage != Participant.Stage.WORK:
        return None
    now = now or timezone.now()
    if slot is None or slot.position != participant.position:
        slot = slots_fetch(participant_id=participant.pk, positions=(participant.position,)).get(participant.position)
    if slot is not None and slot.status == Assignment.Status.RELEASED:
        total, filled = slots_refill(study=participant.study, participant=participant, now=now)  # stamps the time
        participant.total, participant.last_seen_at = total, now
        if participant.position >= total:
            _finish(participant, now)
            return None
        slot = filled.get(participant.position)
        if slot is None:  # filled by a concurrent request of this participant, or after a wait for a pair
            slot = slots_fetch(participant_id=participant.pk,
                               positions=(participant.position,)).get(participant.position)
        return slot
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
            errors[name] = gettext("Please choose the left reply, the right reply or a tie.")
            continue
        if side == "tie" and not criterion["ties"]:
            errors[name] = gettext("A tie is not allowed for this question; please choose one reply.")
            continue
        strength = raw.get("strength")
        if criterion["strength"] and side != "tie":
            try:
                strength = int(strength)
            except (TypeError, ValueError):
                strength = 0
            if not 1 <= strength <= len(criterion["strength"]):
                errors[name] = gettext("Please say how much better the chosen reply is.")
                continue
        else:
            strength = None
        rationale = (raw.get("rationale") or "").strip()[:4000]
        if criterion["rationale"] == "required" and not rationale:
            errors[name] = gettext("Please give a short reason.")
            continue
        clean[name] = {"side": side, "strength": strength, "rationale": rationale}
    if errors:
        raise JudgmentInvalid(errors)
    return clean


def judgment_submit(
    *, participant: Participant, token: str, answers: dict[str, dict], now: datetime | None = None,
    slots: dict[int, Assignment] | None = None,
) -> SubmitOutcome:
    """Stores the answers to the slot ``token`` names and returns the slot to show next.

    Only the slot at the participant's position accepts answers, once: a double submit or a stale
    token stores nothing and shows the current slot. Invalid answers raise ``JudgmentInvalid``
    before anything is written. Attention-check answers update the failure count (warn, then end,
    as the spec says) and store no judgment. ``participant`` must be fresh (read in this request); ``slots``, its
    slots at its position and the next when they were read with it (``judgment_context_fetch``), else read here.
    """
    now = now or timezone.now()
    position = participant.position
    if slots is None:
        slots = slots_fetch(participant_id=participant.pk, positions=(position, position + 1))
    current = slots.get(position)
    if participant.stage != Participant.Stage.WORK or current is None or current.token != token:
        outcome = SubmitOutcome(stored=False,
                                next_slot=current if participant.stage == Participant.Stage.WORK else None)
    else:
        clean = answers_validate(criteria=participant.study.spec["criteria"], answers=answers)
        outcome = _judgment_store(participant=participant, current=current, following=slots.get(position + 1),
                                  clean=clean, now=now)
    if outcome.next_slot is not None and outcome.next_slot.status == Assignment.Status.RELEASED:
        # the slot to show holds no pair yet (left for later, or lapsed): reserve, from where the participant is now
        # (a concurrent submit of this slot may have moved them on)
        if not outcome.stored:
            participant.position = Participant.objects.values_list("position", flat=True).get(pk=participant.pk)
        outcome.next_slot = slot_for_display(participant=participant, now=now,
                                             slot=outcome.next_slot if outcome.stored else None)
    return outcome


@cache
def _claim_sql() -> str:
    return (f"UPDATE {table_name(Assignment)} SET status = %s, answered_at = %s, seconds = %s, attention_passed = %s "
            f"WHERE id = %s AND status = %s RETURNING id")


_JUDGMENT_COLUMNS = ("study_id", "participant_id", "assignment_id", "pair_id", "prompt_id", "system_a_id",
                     "system_b_id", "choice", "left", "criterion", "strength", "rationale", "seconds", "created_at",
                     "source")


@cache
def _judgment_sql() -> str:
    """One judgment, inserted only if the slot was claimed (one part per criterion: a single INSERT of several
    rows from a UNION would type its NULLs as text on PostgreSQL)."""
    return (f"INSERT INTO {table_name(Judgment)} ({', '.join(quoted(c) for c in _JUDGMENT_COLUMNS)}) "
            f"SELECT {', '.join(['%s'] * len(_JUDGMENT_COLUMNS))} FROM claim RETURNING id")


_MOVED = ("position", "attention_failures", "last_seen_at", "expires_at", "stage", "completed_at")


@cache
def _move_sql() -> str:
    return (f"UPDATE {table_name(Participant)} SET {', '.join(f'{quoted(c)} = %s' for c in _MOVED)} "
            f"WHERE id = %s AND EXISTS (SELECT 1 FROM claim) RETURNING id")


_STORED = "SELECT claim.id FROM claim"


def _judgment_store(*, participant: Participant, current: Assignment, following: Assignment | None,
                    clean: dict[str, dict], now: datetime) -> SubmitOutcome:
    """The writes of ``judgment_submit``, together or not at all: claim the slot (reserved → done), store the
    judgments (an attention check stores none and counts a failure instead), move the participant on (ended after
    too many failed checks, their later pairs returned; completed after the last slot). One statement on
    PostgreSQL (``webapp.data.statements``; the judgments and the move depend on the claim, so a second submit of
    the slot writes nothing); the rare end after failed checks runs in a transaction with the pairs' release."""
    spec = participant.study.spec
    position = participant.position
    seconds = (now - participant.last_seen_at).total_seconds() if participant.last_seen_at else None
    passed = _attention_passed(current, clean, spec) if current.attention_check_id else None
    warned = ended = False
    failures = participant.attention_failures
    parts = [Part("claim", _claim_sql(), [Assignment.Status.DONE, db_datetime(now), seconds, passed, current.pk,
                                          Assignment.Status.RESERVED])]
    if current.attention_check_id:
        if not passed:
            failures += 1
            policy = spec["attention_checks"]
            ended = bool(policy["end_after"]) and failures >= policy["end_after"]
            warned = not ended and bool(policy["warn_after"]) and failures >= policy["warn_after"]
    else:
        parts += [Part(f"judged_{index}", _judgment_sql(), _judgment_values(judgment, now))
                  for index, judgment in enumerate(_judgments(participant, current, clean, seconds))]
    moved = {"position": position + 1, "attention_failures": failures, "last_seen_at": now,
             "expires_at": now + timedelta(minutes=spec["reservation_minutes"]), "stage": participant.stage,
             "completed_at": participant.completed_at}
    if ended:
        moved["stage"], moved["completed_at"] = Participant.Stage.ENDED, now
    elif moved["position"] >= participant.total:
        moved["stage"], moved["completed_at"] = Participant.Stage.DONE, now
    parts.append(Part("moved", _move_sql(), [
        *(db_datetime(moved[c]) if c in ("last_seen_at", "expires_at", "completed_at") else moved[c] for c in _MOVED),
        participant.pk]))
    with transaction.atomic() if ended else nullcontext():
        claimed = bool(statements_run(parts, result=_STORED))
        if claimed and ended:
            pairs_release(assignments=list(Assignment.objects.filter(participant=participant, position__gt=position)))
    if not claimed:  # a concurrent submit of the same slot won; show what follows it
        return SubmitOutcome(stored=False, next_slot=following)
    for name, value in moved.items():
        setattr(participant, name, value)
    next_slot = following if participant.stage == Participant.Stage.WORK else None
    return SubmitOutcome(stored=True, next_slot=next_slot, warned=warned)


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


def _judgment_values(judgment: Judgment, now: datetime) -> list:
    values = [getattr(judgment, name) for name in _JUDGMENT_COLUMNS[:-2]]
    return values + [db_datetime(now), Judgment.Source.PLATFORM]


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
    participant.stage, participant.completed_at = Participant.Stage.DONE, now
    Participant.objects.filter(pk=participant.pk).update(stage=participant.stage, completed_at=now)
