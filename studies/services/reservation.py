"""Reserving pairs for participants and returning them to the pool.

``Pair.taken`` (reserved + done) never passes ``judgments_per_pair``: a pair is taken by one conditional
``UPDATE ... WHERE taken < quota``, which picks the least-taken candidate in a sub-select and takes it in the same
statement, so no two reservations can both take a pair's last unit. Nothing here sleeps or polls: on PostgreSQL
the pick first passes over rows other reservations hold (``SKIP LOCKED``), and only when every candidate is held at
that instant does it wait on one row lock, which a one-statement reservation releases at once. SQLite runs one
writer at a time and needs neither (``webapp.data.row_locks``).

A participant holds at most ``pairs_reserved_at_once`` pairs (the spec's setting): the start reserves that many of
the plan's comparisons and leaves the others ``released`` (planned, no pair yet); when the participant reaches a
released slot, ``slots_refill`` reserves the next ones in a short transaction under the participant's row lock,
so two requests of one participant never fill past the cap. A script opening many links holds at most the
cap per link, and the pairs beyond stay free for others.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F

from studies import design
from studies.models import Assignment, AttentionCheck, Pair, Participant, Study, System
from studies.spec import DEFAULT_PAIRS_RESERVED_AT_ONCE
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


def pairs_held_at_once(spec: dict) -> int:
    """How many pairs one participant may hold reserved at a time (a spec stored before the setting: the default)."""
    return spec.get("pairs_reserved_at_once", DEFAULT_PAIRS_RESERVED_AT_ONCE)


def pair_reserve(
    *, study: Study, quota: int, exclude_prompts: set[int], systems: tuple[int, int] | None,
    may_wait: bool | None = None,
) -> Pair | None:
    """Takes one unit of the least-taken pair (of ``systems`` if given) whose prompt is not excluded: one
    statement, atomic by itself. Returns the pair (``taken`` already counted) or None when none has room.

    With ``may_wait`` (the default outside a transaction) it never comes back empty-handed while a pair has room:
    when every candidate is locked by another reservation, it waits for one row lock instead of giving up. Inside a
    caller's transaction that may already hold another pair, where two reservations could each hold what the other
    waits for, it only passes over locked rows, so a pair that is being taken at that instant counts as taken; a
    transaction holding no pair's lock yet may pass ``may_wait=True``."""
    excluded = sorted(exclude_prompts)
    params = [quota, study.pk, quota, *(systems or ()), *excluded]
    if may_wait is None:
        may_wait = not connection.in_atomic_block
    locks = [row_lock(), row_lock(skip_locked=False)] if may_wait else [row_lock()]
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
        .filter(study=study, stage=Participant.Stage.WORK, expires_at__lt=now)
        .values_list("pk", flat=True)
    )
    if not lapsed:
        return 0
    slots = list(Assignment.objects.filter(participant_id__in=lapsed, status=Assignment.Status.RESERVED,
                                           pair__isnull=False))
    pairs_release(assignments=slots)
    Participant.objects.filter(pk__in=lapsed).update(expires_at=None)
    return len(slots)


def _pair_for_slot(*, study: Study, quota: int, exclude: set[int], wanted: tuple[int, int], left: str,
                   balance: dict[int, int], may_wait: bool | None = None) -> tuple[Pair, str] | None:
    """The least-taken pair of the planned system pair with its planned side, else any pair with room and the side
    that keeps the participant's left/right ``balance``; None when the study has no pair left for this slot."""
    pair = pair_reserve(study=study, quota=quota, exclude_prompts=exclude, systems=wanted, may_wait=may_wait)
    if pair is not None:
        return pair, left
    pair = pair_reserve(study=study, quota=quota, exclude_prompts=exclude, systems=None, may_wait=may_wait)
    if pair is None:
        return None
    return pair, design.side_for_fallback(system_a=pair.system_a_id, system_b=pair.system_b_id, balance=balance)


def _count_shown(balance: dict[int, int], *, system_a: int, system_b: int, left: str) -> None:
    shown_left, shown_right = (system_a, system_b) if left == "a" else (system_b, system_a)
    balance[shown_left] = balance.get(shown_left, 0) + 1
    balance[shown_right] = balance.get(shown_right, 0) - 1


def plan_slots(*, study: Study, participant: Participant) -> list[Assignment]:
    """Builds a participant's whole sequence (unsaved ``Assignment`` rows) and reserves its first
    ``pairs_reserved_at_once`` comparisons; the later ones are ``released`` slots with their planned system pair and
    side, reserved by ``slots_refill`` as the participant reaches them.

    The planned system pairs and sides come from ``design.participant_plan``; each comparison gets
    the least-taken pair of its system pair on a prompt the participant has not seen. When the
    planned system pair is exhausted, any other pair is taken and its side chosen to keep the
    participant's left/right balance. Comparisons the study can no longer supply are dropped.
    """
    spec = study.spec
    systems = list(System.objects.filter(study=study).order_by("position").values_list("pk", flat=True))
    quota, cap = spec["judgments_per_pair"], pairs_held_at_once(spec)
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
    held = 0
    for kind, index in design.interleave(plan_length=len(plan), every=every):
        if kind == "check":
            if any(slot.pair_id for slot in slots):  # never a check before the first real pair
                check = checks[(participant.index + index) % len(checks)]
                slots.append(Assignment(participant=participant, position=len(slots), attention_check=check,
                                        left=rng.choice("ab")))
            continue
        planned = plan[index]
        wanted = (systems[planned.system_a], systems[planned.system_b])
        if held >= cap:
            slots.append(Assignment(participant=participant, position=len(slots), system_a_id=wanted[0],
                                    system_b_id=wanted[1], left=planned.left, status=Assignment.Status.RELEASED))
            continue
        found = _pair_for_slot(study=study, quota=quota, exclude=set() if spec["repeat_prompts"] else seen,
                               wanted=wanted, left=planned.left, balance=balance)
        if found is None:
            continue
        pair, left = found
        held += 1
        seen.add(pair.prompt_id)
        _count_shown(balance, system_a=pair.system_a_id, system_b=pair.system_b_id, left=left)
        slots.append(Assignment(participant=participant, position=len(slots), pair=pair,
                                system_a_id=pair.system_a_id, system_b_id=pair.system_b_id, left=left))
    return slots


def slots_refill(*, study: Study, participant: Participant, now: datetime) -> int:
    """Reserves pairs for the participant's released slots from their position on (those the start left for later,
    and those whose reservation lapsed), in order, until they hold ``pairs_reserved_at_once`` pairs. A slot keeps
    its planned system pair and side where that pair has room, else takes any pair with room (side chosen for
    balance); a slot the study can no longer supply is dropped and the later slots move up. Returns the new total.

    Each batch is one transaction under the participant's row lock, so concurrent requests of one participant fill
    one after the other and never past the cap. Under that lock nothing waits: locked pairs are passed over, and a
    slot whose every candidate is locked at that instant (by another reservation, or by a judgment being stored)
    gets its pair from a reservation that may wait, made between batches holding no lock, then offered to the next
    batch (which gives it back if the slot was filled meanwhile). Call outside a transaction."""
    expires_at = now + timedelta(minutes=study.spec["reservation_minutes"])
    offer: _Offer | None = None
    while True:
        total, stuck, unused = _slots_fill_batch(study=study, participant_id=participant.pk, expires_at=expires_at,
                                                 offer=offer)
        if unused is not None:
            Pair.objects.filter(pk=unused.pk).update(taken=F("taken") - 1)
        if stuck is None:
            return total
        found = _pair_for_slot(study=study, quota=study.spec["judgments_per_pair"], exclude=stuck.exclude,
                               wanted=stuck.wanted, left=stuck.left, balance=stuck.balance, may_wait=True)
        offer = _Offer(pk=stuck.pk, found=found, wanted=stuck.wanted)


@dataclass
class _Stuck:
    """A slot whose every candidate pair was locked while the batch passed over locked rows."""

    pk: int
    wanted: tuple[int, int]
    left: str
    exclude: set[int]
    balance: dict[int, int]


@dataclass
class _Offer:
    """What a reservation that could wait found for a stuck slot: its pair and side, or None (the study has none)."""

    pk: int
    found: tuple[Pair, str] | None
    wanted: tuple[int, int]


_SLOT_FIELDS = ("pk", "position", "status", "pair_id", "pair__prompt_id", "system_a_id", "system_b_id", "left")


@transaction.atomic
def _slots_fill_batch(*, study: Study, participant_id: int, expires_at: datetime,
                      offer: _Offer | None) -> tuple[int, _Stuck | None, Pair | None]:
    """One transaction of ``slots_refill``: returns the total, the slot it stopped at (None when done) and the
    offered pair it could not use (the caller gives it back, outside this lock)."""
    spec = study.spec
    locked = (Participant.objects.select_for_update().filter(pk=participant_id, stage=Participant.Stage.WORK)
              .values_list("position", "total").first())
    unused = offer.found[0] if offer is not None and offer.found is not None else None
    if locked is None:
        return Participant.objects.values_list("total", flat=True).get(pk=participant_id), None, unused
    position, total = locked
    rows = [dict(zip(_SLOT_FIELDS, row, strict=True)) for row in Assignment.objects.filter(
        participant_id=participant_id).order_by("position").values_list(*_SLOT_FIELDS)]
    room = pairs_held_at_once(spec) - sum(1 for r in rows if r["status"] == Assignment.Status.RESERVED and r["pair_id"])
    released = [r for r in rows if r["position"] >= position and r["status"] == Assignment.Status.RELEASED]
    seen = {r["pair__prompt_id"] for r in rows if r["pair_id"]}
    balance: dict[int, int] = {}
    for r in rows:
        if r["pair_id"]:
            _count_shown(balance, system_a=r["system_a_id"], system_b=r["system_b_id"], left=r["left"])
    filled: list[Assignment] = []
    dropped = 0

    def fill(target: dict, found: tuple[Pair, str]) -> None:
        pair, left = found
        seen.add(pair.prompt_id)
        _count_shown(balance, system_a=pair.system_a_id, system_b=pair.system_b_id, left=left)
        filled.append(Assignment(pk=target["pk"], pair=pair, system_a_id=pair.system_a_id,
                                 system_b_id=pair.system_b_id, left=left, status=Assignment.Status.RESERVED))

    stuck = None
    if offer is not None and released and released[0]["pk"] == offer.pk and room > 0:
        target = released.pop(0)
        if offer.found is None:
            _slot_drop(participant_id=participant_id, pk=target["pk"])
            dropped += 1
        else:
            fill(target, offer.found)
            unused = None
    for target in released:
        if len(filled) >= room:
            break
        wanted = (target["system_a_id"], target["system_b_id"])
        exclude = set() if spec["repeat_prompts"] else set(seen)
        found = _pair_for_slot(study=study, quota=spec["judgments_per_pair"], exclude=exclude, wanted=wanted,
                               left=target["left"], balance=balance, may_wait=False)
        if found is None:
            stuck = _Stuck(pk=target["pk"], wanted=wanted, left=target["left"], exclude=exclude,
                           balance=dict(balance))
            break
        fill(target, found)
    if filled:
        Assignment.objects.bulk_update(filled, ["pair", "system_a", "system_b", "left", "status"])
    Participant.objects.filter(pk=participant_id).update(total=total - dropped, expires_at=expires_at)
    return total - dropped, stuck, unused


def _slot_drop(*, participant_id: int, pk: int) -> None:
    """Deletes a slot and moves the later ones up (positions are unique per participant: in two steps)."""
    position = Assignment.objects.values_list("position", flat=True).get(pk=pk)
    Assignment.objects.filter(pk=pk).delete()
    Assignment.objects.filter(participant_id=participant_id, position__gt=position).update(
        position=F("position") + 100_000 - 1)
    Assignment.objects.filter(participant_id=participant_id, position__gte=100_000).update(
        position=F("position") - 100_000)
