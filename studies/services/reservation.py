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

The refill is the judging loop's every ``pairs_reserved_at_once``-th turn, so it is written as parts of one
statement (``webapp.data.statements``): the pairs for all the slots it fills are picked, taken and given to their
slots together (``_fill_parts``), the same rules as ``pair_reserve`` slot by slot, pick after pick.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from django.db import connection, transaction
from django.db.models import F

from studies import design
from studies.models import Assignment, AttentionCheck, Pair, Participant, Study, System
from studies.services.slot_rows import slot_columns, slot_from_row, slot_joins
from studies.spec import DEFAULT_PAIRS_RESERVED_AT_ONCE
from webapp.data.raw_rows import db_datetime, quoted, table_name
from webapp.data.row_locks import row_lock
from webapp.data.statements import Part, statements_run

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


def slots_refill(*, study: Study, participant: Participant, now: datetime) -> tuple[int, dict[int, Assignment]]:
    """Reserves pairs for the participant's released slots from their position on (those the start left for later,
    and those whose reservation lapsed), in order, until they hold ``pairs_reserved_at_once`` pairs. A slot keeps
    its planned system pair and side where that pair has room, else takes any pair with room (side chosen for
    balance); a slot the study can no longer supply is dropped and the later slots move up. Stamps the participant
    seen at ``now`` (the caller shows them a slot) and their reservations' expiry. Returns the new total and the
    slots it filled, by position, as read-only views for the page (``slot_rows``; empty when it had to wait for a
    pair on the way, so the caller reads what it shows).

    Each batch is one transaction under the participant's row lock, so concurrent requests of one participant fill
    one after the other and never past the cap; a batch is two statements (the lock, then ``_fill_parts``). Under
    that lock nothing waits: locked pairs are passed over, and a slot whose every candidate is locked at that
    instant (by another reservation, or by a judgment being stored) gets its pair from a reservation that may wait,
    made between batches holding no lock, then offered to the next batch (which gives it back if the slot was filled
    meanwhile). Call outside a transaction."""
    expires_at = now + timedelta(minutes=study.spec["reservation_minutes"])
    offer: _Offer | None = None
    while True:
        batch = _slots_fill_batch(study=study, participant_id=participant.pk, expires_at=expires_at, now=now,
                                  offer=offer)
        if batch.unused is not None:
            Pair.objects.filter(pk=batch.unused.pk).update(taken=F("taken") - 1)
        if batch.stuck is None:
            return batch.total, batch.filled if offer is None else {}
        stuck = batch.stuck
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


@dataclass
class _Batch:
    total: int
    stuck: _Stuck | None  # the slot it stopped at (None when done)
    unused: Pair | None  # the offered pair it could not use (the caller gives it back, outside the lock)
    filled: dict[int, Assignment]  # the slots it reserved pairs for, by position (views for the page)


@cache
def _participant_lock_sql() -> str:
    return (f"SELECT stage, position, total FROM {table_name(Participant)} WHERE id = %s "
            f"{row_lock(skip_locked=False)}")


@transaction.atomic
def _slots_fill_batch(*, study: Study, participant_id: int, expires_at: datetime, now: datetime,
                      offer: _Offer | None) -> _Batch:
    """One transaction of ``slots_refill``: the participant's row lock, the offer (if any) placed, then the fill.

    The lock is a statement of its own, before the fill: on PostgreSQL a statement sees the database as it was when
    it began, so a fill that waited for the lock inside itself would not see what the transaction it waited for had
    just reserved."""
    spec = study.spec
    with connection.cursor() as cursor:
        cursor.execute(_participant_lock_sql(), [participant_id])
        stage, position, total = cursor.fetchone()
    unused = offer.found[0] if offer is not None and offer.found is not None else None
    if stage != Participant.Stage.WORK:
        return _Batch(total=total, stuck=None, unused=unused, filled={})
    if offer is not None:
        placed, dropped = _offer_place(offer=offer, participant_id=participant_id, position=position,
                                       cap=pairs_held_at_once(spec))
        unused = None if placed else unused
        total -= dropped
    cap = pairs_held_at_once(spec)
    picks = min(cap, _PICKS_AT_ONCE)
    filled: dict[int, Assignment] = {}
    while True:
        done, stuck_pk, targets = _fill_run(study=study, participant_id=participant_id, position=position,
                                            picks=picks, expires_at=expires_at, now=now)
        filled |= done
        if stuck_pk is not None or targets < picks or picks == cap:
            break  # else the participant may have room beyond what one statement picks: the next takes it
    stuck = _stuck_read(participant_id=participant_id, pk=stuck_pk, spec=spec) if stuck_pk is not None else None
    return _Batch(total=total, stuck=stuck, unused=unused, filled=filled)


def _offer_place(*, offer: _Offer, participant_id: int, position: int, cap: int) -> tuple[bool, int]:
    """Gives the stuck slot what the reservation that could wait found, if it is still the first released slot from
    the participant's position and the participant has room: its pair, or (None found) drops it. Returns whether
    the offered pair went in, and how many slots were dropped."""
    first = (Assignment.objects.filter(participant_id=participant_id, position__gte=position,
                                       status=Assignment.Status.RELEASED)
             .order_by("position").values_list("pk", flat=True).first())
    held = Assignment.objects.filter(participant_id=participant_id, status=Assignment.Status.RESERVED,
                                     pair__isnull=False).count()
    if first != offer.pk or held >= cap:
        return False, 0
    if offer.found is None:
        _slot_drop(participant_id=participant_id, pk=offer.pk)
        Participant.objects.filter(pk=participant_id).update(total=F("total") - 1)
        return False, 1
    pair, left = offer.found
    Assignment.objects.filter(pk=offer.pk).update(pair=pair, system_a_id=pair.system_a_id,
                                                  system_b_id=pair.system_b_id, left=left,
                                                  status=Assignment.Status.RESERVED)
    return True, 0


def _stuck_read(*, participant_id: int, pk: int, spec: dict) -> _Stuck:
    """The stuck slot with what a reservation for it must respect: the prompts the participant has seen (unless
    the spec repeats prompts) and their left/right balance so far."""
    rows = list(Assignment.objects.filter(participant_id=participant_id).values_list(
        "pk", "pair_id", "pair__prompt_id", "system_a_id", "system_b_id", "left"))
    seen: set[int] = set()
    balance: dict[int, int] = {}
    for _pk, pair_id, prompt_id, system_a, system_b, left in rows:
        if pair_id:
            seen.add(prompt_id)
            _count_shown(balance, system_a=system_a, system_b=system_b, left=left)
    _pk, _pair, _prompt, system_a, system_b, left = next(row for row in rows if row[0] == pk)
    return _Stuck(pk=pk, wanted=(system_a, system_b), left=left, exclude=set() if spec["repeat_prompts"] else seen,
                  balance=balance)


# The fill: one statement from parts (webapp.data.statements) ------------------------------------------------------

_PICKS_AT_ONCE = 6  # pair picks in one fill statement (its SQL grows with the square of this)


def _fill_run(*, study: Study, participant_id: int, position: int, picks: int, expires_at: datetime,
              now: datetime) -> tuple[dict[int, Assignment], int | None, int]:
    """Runs the fill's parts under the participant's lock. Returns the slots filled (views by position), the first
    slot it could not fill (every candidate locked, or none left), and how many slots it meant to fill."""
    values = {"participant": participant_id, "position": position, "cap": pairs_held_at_once(study.spec),
              "study": study.pk, "quota": study.spec["judgments_per_pair"], "expires_at": db_datetime(expires_at),
              "now": db_datetime(now)}
    shape = _fill_parts(picks=picks, repeat_prompts=bool(study.spec["repeat_prompts"]))
    rows = statements_run([Part(name, sql, [values[key] for key in keys]) for name, sql, keys in shape.parts],
                          result=shape.result)
    filled: dict[int, Assignment] = {}
    stuck = None
    for target, picked, claimed, *slot in rows:
        if slot[0] is not None:
            filled[slot[2]] = slot_from_row(slot)
            continue
        stuck = target if stuck is None else stuck
        if picked is not None and claimed is not None:  # taken but its slot was not free: never under the lock
            Pair.objects.filter(pk=picked).update(taken=F("taken") - 1)
    return filled, stuck, len(rows)


@dataclass(frozen=True)
class _FillShape:
    parts: tuple[tuple[str, str, tuple[str, ...]], ...]  # name, SQL, the names of its parameters' values
    result: str


def _text(value: str) -> str:
    """A constant of the code (a status, a side) as an SQL literal."""
    assert value.isalnum(), value
    return f"'{value}'"


@cache
def _fill_parts(*, picks: int, repeat_prompts: bool) -> _FillShape:
    """The fill of up to ``picks`` released slots, as parts, so one statement on PostgreSQL:

    - ``targets``: the released slots from the participant's position on, in order, as many as the participant has
      room for (the cap less the pairs they hold);
    - per slot k, ``want_k``: the least-taken pair of the slot's planned system pair with room, on a prompt the
      participant has not seen nor been given by an earlier pick (unless the spec repeats prompts: then a pair
      picked earlier counts as taken once more), locked and passing over locked rows; with the planned side;
      ``any_k``, only when ``want_k`` found none: the least-taken pair of any system pair, the same way, with the
      side that keeps the participant's left/right balance (the slots holding pairs and the earlier picks). A pick
      runs only when the slot before it got a pair, so the fill stops at the first slot it cannot fill;
    - ``claim``: each picked pair taken (``taken < quota`` checked again, under the row lock the pick holds);
      ``filled``: the slots given their pairs (only if still released); ``moved``: the participant seen and their
      reservations' expiry moved on.

    The picks read the pairs and the slots before ``claim`` and ``filled`` change them (on both databases), and
    what the picks before them chose only through their names."""
    slot, pair, person = table_name(Assignment), table_name(Pair), table_name(Participant)
    left = quoted("left")
    reserved, released = _text(Assignment.Status.RESERVED), _text(Assignment.Status.RELEASED)
    side_a, side_b = _text(design.LEFT_A), _text(design.LEFT_B)
    lock = row_lock(of="q")
    columns = f"id, prompt_id, system_a_id, system_b_id, slot, {left}"
    parts: list[tuple[str, str, tuple[str, ...]]] = [(
        "targets",
        f"SELECT id, system_a_id, system_b_id, {left}, k FROM (SELECT a.id, a.system_a_id, a.system_b_id, a.{left}, "
        f"ROW_NUMBER() OVER (ORDER BY a.position) AS k FROM {slot} a WHERE a.participant_id = %s "
        f"AND a.status = {released} AND a.position >= %s) r WHERE k <= {picks} AND k <= %s - (SELECT COUNT(*) "
        f"FROM {slot} h WHERE h.participant_id = %s AND h.status = {reserved} AND h.pair_id IS NOT NULL)",
        ("participant", "position", "cap", "participant"),
    )]
    names: list[str] = []

    def union(of: list[str], select: str) -> str:
        return " UNION ALL ".join(f"SELECT {select} FROM {name}" for name in of)

    def score(system: str) -> str:  # +1 where the slot shows ``system`` on the left, -1 on the right
        return (f"CASE WHEN (h.{left} = {side_a} AND h.system_a_id = {system}) OR (h.{left} = {side_b} AND "
                f"h.system_b_id = {system}) THEN 1 WHEN (h.{left} = {side_a} AND h.system_b_id = {system}) OR "
                f"(h.{left} = {side_b} AND h.system_a_id = {system}) THEN -1 ELSE 0 END")

    for k in range(1, picks + 1):
        target = f"(SELECT {{}} FROM targets WHERE k = {k})".format
        earlier = list(names)
        if repeat_prompts:
            taken = (f"q.taken + (SELECT COUNT(*) FROM ({union(earlier, 'id')}) e WHERE e.id = q.id)" if earlier
                     else "q.taken")
            unseen, unseen_keys = "", ()
        else:
            taken = "q.taken"
            unseen = (f" AND q.prompt_id NOT IN (SELECT r.prompt_id FROM {slot} s JOIN {pair} r ON r.id = s.pair_id "
                      f"WHERE s.participant_id = %s)")
            unseen += f" AND q.prompt_id NOT IN ({union(earlier, 'prompt_id')})" if earlier else ""
            unseen_keys = ("participant",)
        after = f" AND EXISTS ({union(earlier[-2:], '1')})" if earlier else ""
        want = (f"SELECT q.id, q.prompt_id, q.system_a_id, q.system_b_id, {target('id')} AS slot, "
                f"{target(left)} AS {left} FROM {pair} q WHERE q.study_id = %s "
                f"AND q.system_a_id = {target('system_a_id')} AND q.system_b_id = {target('system_b_id')} "
                f"AND {taken} < %s{unseen}{after} ORDER BY {taken}, q.id LIMIT 1 {lock}")
        shown = union(earlier, f"system_a_id, system_b_id, {left}")
        shown = (f"SELECT s.system_a_id, s.system_b_id, s.{left} FROM {slot} s WHERE s.participant_id = %s "
                 f"AND s.pair_id IS NOT NULL" + (f" UNION ALL {shown}" if shown else ""))
        tilt = f"(SELECT COALESCE(SUM({score('c.system_a_id')} - ({score('c.system_b_id')})), 0) FROM ({shown}) h)"
        fallback = (f"SELECT c.id, c.prompt_id, c.system_a_id, c.system_b_id, c.slot, "
                    f"CASE WHEN {tilt} <= 0 THEN {side_a} ELSE {side_b} END AS {left} FROM ("
                    f"SELECT q.id, q.prompt_id, q.system_a_id, q.system_b_id, {target('id')} AS slot FROM {pair} q "
                    f"WHERE q.study_id = %s AND {taken} < %s AND EXISTS (SELECT 1 FROM targets WHERE k = {k}) "
                    f"AND NOT EXISTS (SELECT 1 FROM want_{k}){unseen}{after} ORDER BY {taken}, q.id LIMIT 1 {lock}) c")
        parts += [(f"want_{k}", want, ("study", "quota", *unseen_keys)),
                  (f"any_{k}", fallback, ("participant", "study", "quota", *unseen_keys))]
        names += [f"want_{k}", f"any_{k}"]
    picked = f"(SELECT e.{{}} FROM picked e WHERE e.slot = {slot}.id)".format
    count = f"(SELECT COUNT(*) FROM picked e WHERE e.id = {pair}.id)"
    slot_returned = ", ".join(quoted(column) for column in ("id", "participant_id", "position", "token", "status",
                                                             "pair_id", "attention_check_id", "system_a_id",
                                                             "system_b_id", "left"))
    parts += [
        ("picked", union(names, columns), ()),
        ("claim", f"UPDATE {pair} SET taken = taken + {count} WHERE id IN (SELECT id FROM picked) "
                  f"AND taken + {count} <= %s RETURNING id", ("quota",)),
        ("filled", f"UPDATE {slot} SET status = {reserved}, pair_id = {picked('id')}, "
                   f"system_a_id = {picked('system_a_id')}, system_b_id = {picked('system_b_id')}, "
                   f"{left} = {picked(left)} WHERE status = {released} AND id IN (SELECT e.slot FROM picked e "
                   f"WHERE e.id IN (SELECT id FROM claim)) RETURNING {slot_returned}", ()),
        ("moved", f"UPDATE {person} SET expires_at = %s, last_seen_at = %s WHERE id = %s RETURNING id",
         ("expires_at", "now", "participant")),
    ]
    result = (f"SELECT g.id, e.id, c.id, {slot_columns()} FROM targets g LEFT JOIN picked e ON e.slot = g.id "
              f"LEFT JOIN claim c ON c.id = e.id LEFT JOIN filled a ON a.id = g.id {slot_joins()} ORDER BY g.k")
    return _FillShape(parts=tuple(parts), result=result)


def _slot_drop(*, participant_id: int, pk: int) -> None:
    """Deletes a slot and moves the later ones up (positions are unique per participant: in two steps)."""
    position = Assignment.objects.values_list("position", flat=True).get(pk=pk)
    Assignment.objects.filter(pk=pk).delete()
    Assignment.objects.filter(participant_id=participant_id, position__gt=position).update(
        position=F("position") + 100_000 - 1)
    Assignment.objects.filter(participant_id=participant_id, position__gte=100_000).update(
        position=F("position") - 100_000)
