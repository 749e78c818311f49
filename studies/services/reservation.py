"""Reserving pairs for participants and returning them to the pool.

``Pair.taken`` (reserved + done) never passes ``judgments_per_pair``: a pair is taken by one conditional
``UPDATE ... WHERE taken < quota``, which picks the least-taken candidate in a sub-select and takes it in the same
statement, so no two reservations can both take a pair's last unit. Nothing here sleeps or polls: on PostgreSQL
the pick first passes over rows other reservations hold (``SKIP LOCKED``), and only when every candidate is held at
that instant does it wait on one row lock, which a one-statement reservation releases at once. SQLite runs one
writer at a time and needs neither (``webapp.data.row_locks``).
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import F

from studies import design
from studies.models import Assignment, AttentionCheck, Pair, Participant, Study, System
from webapp.data.row_locks import row_lock

_PAIR_COLUMNS = ("id", "study_id", "prompt_id", "system_a_id", "system_b_id", "response_a_id", "response_b_id",
                 "taken")


def _claim_statement(*, systems: bool, excluded: int, lock: str) -> str:
    quote = connection.ops.quote_name
    table = quote(Pair._meta.db_table)
    where = "study_id = %s AND taken < %s"
    if systems:
        where += " AND system_a_id = %s AND system_b_id = %s"
    if excluded:
        where += f" AND prompt_id NOT IN ({', '.join(['%s'] * excluded)})"
    return (f"UPDATE {table} SET taken = taken + 1 WHERE taken < %s AND id = "
            f"(SELECT id FROM {table} WHERE {where} ORDER BY taken, id LIMIT 1 {lock}) "
            f"RETURNING {', '.join(quote(column) for column in _PAIR_COLUMNS)}")


def pair_reserve(
    *, study: Study, quota: int, exclude_prompts: set[int], systems: tuple[int, int] | None
) -> Pair | None:
    """Takes one unit of the least-taken pair (of ``systems`` if given) whose prompt is not excluded: one
    statement, atomic by itself. Returns the pair (``taken`` already counted) or None when none has room.

    Called outside a transaction, it never comes back empty-handed while a pair has room: when every candidate is
    locked by another reservation, it waits for one row lock (held for a single statement) instead of giving up.
    Inside a caller's transaction, where two reservations could each hold what the other waits for, it only passes
    over locked rows, so a pair that is being taken at that instant counts as taken."""
    excluded = sorted(exclude_prompts)
    params = [quota, study.pk, quota, *(systems or ()), *excluded]
    locks = [row_lock()] if connection.in_atomic_block else [row_lock(), row_lock(skip_locked=False)]
    for lock in dict.fromkeys(locks):  # one statement where the database has no row locks
        with connection.cursor() as cursor:
            cursor.execute(_claim_statement(systems=systems is not None, excluded=len(excluded), lock=lock), params)
            row = cursor.fetchone()
        if row is not None:
            return Pair(**dict(zip(_PAIR_COLUMNS, row, strict=True)))
    return None


def pairs_release(*, assignments: list[Assignment]) -> None:
    """Gives the reserved pairs of these slots back to the pool and marks the saved slots released."""
    reserved = [a for a in assignments if a.status == Assignment.Status.RESERVED and a.pair_id]
    if not reserved:
        return
    ids = [a.pk for a in reserved if a.pk is not None]
    Assignment.objects.filter(pk__in=ids, status=Assignment.Status.RESERVED).update(
        status=Assignment.Status.RELEASED, pair=None
    )
    by_count: dict[int, list[int]] = {}
    for pair_id, count in Counter(a.pair_id for a in reserved).items():
        by_count.setdefault(count, []).append(pair_id)
    for count, pair_ids in by_count.items():
        Pair.objects.filter(pk__in=pair_ids).update(taken=F("taken") - count)


def reservations_release_expired(*, study: Study, now: datetime) -> int:
    """Returns the reservations of participants idle past ``expires_at`` to the pool. Returns how many.

    The participants keep their slots (now ``released``) and get fresh pairs if they come back.
    Call inside a transaction.
    """
    lapsed = list(
        Participant.objects.select_for_update(skip_locked=True)
        .filter(study=study, stage=Participant.Stage.JUDGING, expires_at__lt=now)
        .values_list("pk", flat=True)
    )
    if not lapsed:
        return 0
    slots = list(Assignment.objects.filter(participant_id__in=lapsed, status=Assignment.Status.RESERVED,
                                           pair__isnull=False))
    pairs_release(assignments=slots)
    Participant.objects.filter(pk__in=lapsed).update(expires_at=None)
    return len(slots)


def plan_slots(*, study: Study, participant: Participant) -> list[Assignment]:
    """Builds and reserves a participant's whole sequence (unsaved ``Assignment`` rows, pairs taken).

    The planned system pairs and sides come from ``design.participant_plan``; each comparison gets
    the least-taken pair of its system pair on a prompt the participant has not seen. When the
    planned system pair is exhausted, any other pair is taken and its side chosen to keep the
    participant's left/right balance. Comparisons the study can no longer supply are dropped.
    """
    spec = study.spec
    systems = list(System.objects.filter(study=study).order_by("position").values_list("pk", flat=True))
    quota = spec["judgments_per_pair"]
    plan = design.participant_plan(
        n_systems=len(systems), pairs_per_participant=spec["pairs_per_participant"],
        participant_index=participant.index, seed=participant.seed,
    )
    checks = list(AttentionCheck.objects.filter(study=study).order_by("id"))
    every = spec["attention_checks"]["every"] if checks else 0
    rng = random.Random(participant.seed ^ 0x5EED)
    seen: set[int] = set()
    balance: dict[int, int] = {}
    slots: list[Assignment] = []
    for kind, index in design.interleave(plan_length=len(plan), every=every):
        if kind == "check":
            if any(slot.pair_id for slot in slots):  # never a check before the first real pair
                check = checks[(participant.index + index) % len(checks)]
                slots.append(Assignment(participant=participant, position=len(slots), attention_check=check,
                                        left=rng.choice("ab")))
            continue
        planned = plan[index]
        wanted = (systems[planned.system_a], systems[planned.system_b])
        exclude = set() if spec["repeat_prompts"] else seen
        pair = pair_reserve(study=study, quota=quota, exclude_prompts=exclude, systems=wanted)
        left = planned.left
        if pair is None:
            pair = pair_reserve(study=study, quota=quota, exclude_prompts=exclude, systems=None)
            if pair is None:
                continue
            left = design.side_for_fallback(system_a=pair.system_a_id, system_b=pair.system_b_id, balance=balance)
        seen.add(pair.prompt_id)
        shown_left, shown_right = (
            (pair.system_a_id, pair.system_b_id) if left == "a" else (pair.system_b_id, pair.system_a_id)
        )
        balance[shown_left] = balance.get(shown_left, 0) + 1
        balance[shown_right] = balance.get(shown_right, 0) - 1
        slots.append(Assignment(participant=participant, position=len(slots), pair=pair,
                                system_a_id=pair.system_a_id, system_b_id=pair.system_b_id, left=left))
    return slots


def slots_refill(*, study: Study, participant: Participant, now: datetime) -> int:
    """Re-reserves the released slots from the participant's position on (after an expiry).

    Keeps each slot's system pair and side; a slot that cannot be refilled is dropped, and the
    later slots move up. Returns the new total. Call inside a transaction.
    """
    quota = study.spec["judgments_per_pair"]
    rest = list(Assignment.objects.filter(participant=participant, position__gte=participant.position)
                .order_by("position"))
    done_prompts = set(Assignment.objects.filter(participant=participant, position__lt=participant.position,
                                                 pair__isnull=False).values_list("pair__prompt_id", flat=True))
    seen = set() if study.spec["repeat_prompts"] else done_prompts
    keep: list[Assignment] = []
    for slot in rest:
        if slot.status == Assignment.Status.RELEASED:
            pair = pair_reserve(study=study, quota=quota, exclude_prompts=seen,
                                systems=(slot.system_a_id, slot.system_b_id))
            if pair is None:
                slot.delete()
                continue
            slot.pair, slot.status = pair, Assignment.Status.RESERVED
        if slot.pair_id and not study.spec["repeat_prompts"]:
            seen.add(slot.pair.prompt_id)
        keep.append(slot)
    # renumber in two steps: positions are unique per participant
    Assignment.objects.filter(pk__in=[s.pk for s in keep]).update(position=F("position") + 100_000)
    for offset, slot in enumerate(keep):
        slot.position = participant.position + offset
        slot.save(update_fields=["position", "pair", "status"])
    total = participant.position + len(keep)
    Participant.objects.filter(pk=participant.pk).update(
        total=total, expires_at=now + timedelta(minutes=study.spec["reservation_minutes"])
    )
    return total
