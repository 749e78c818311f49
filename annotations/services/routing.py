"""Next-item routing and label submission: the annotation loop's writes, one path on PostgreSQL and SQLite alike.

Invariants, held under concurrency on both databases:
- an item's `taken` (live reservations + stored labels) never exceeds its `needed`;
- an annotator never gets the same item twice (unique item × annotator);
- an annotator holds at most one reservation in a project (unique project × annotator among reserved rows): racing
  requests, a second tab and a submit from a lapsed one all end with the one item held;
- a submit is idempotent per assignment (one label per item × annotator).
The usual turn's writes (a task item submitted while its reservation holds, then the next task item) are written
out once here as parts of two statements (``webapp.data.statements``: data-modifying WITH on PostgreSQL, the parts
in order in one transaction on SQLite): the store (``_store_sql``), where each write depends on the label's insert,
so a reservation lost leaves nothing written; and the next reservation (``_reserve_sql``), where the slot is taken
only if the reservation went in. The pick of the next item locks its row, passing over rows other transactions
hold (FOR UPDATE SKIP LOCKED, from `webapp.data.row_locks`), so concurrent annotators do not queue behind each
other and no two take its last slot; SQLite runs one writer at a time and needs no lock. Compiling the equivalent
ORM calls cost more CPU than the database spent answering them.
"""

import random
import time
from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext

from annotations.models import Assignment, ControlResult, Enrollment, Item, Label
from annotations.values import control_passed, label_values_validate
from webapp.data.raw_rows import db_datetime, instance_from_row, quoted, table_name, values_converted
from webapp.data.row_locks import row_lock
from webapp.data.statements import Part, statements_run


class SubmitError(Exception):
    """The answers were not stored; `errors` maps field to a sentence."""

    def __init__(self, errors: dict):
        super().__init__("; ".join(f"{key}: {value}" for key, value in errors.items()))
        self.errors = errors


_last_reclaim: dict[int, float] = {}
RECLAIM_EVERY_SECONDS = 15.0


# What the enrollment's policies read after an item (flow.enrollment_after_item); a label's store hands them back.
COUNTERS = ("labels_done", "skipped", "session_done", "since_control", "attention_failures", "stage",
            "session_started_at", "break_until")


ITEM_FIELDS = list(Item._meta.concrete_fields)
ASSIGNMENT_FIELDS = list(Assignment._meta.concrete_fields)
COUNTER_FIELDS = [Enrollment._meta.get_field(name) for name in COUNTERS]


def reservation_seconds() -> int:
    return settings.RESONANCE_RESERVATION_SECONDS


def reservations_reclaim(*, project_id: int, force: bool = False) -> int:
    """Returns abandoned (expired) reservations to the pool. Throttled per process unless `force`.

    Never waits for a row: it runs inside annotators' turns, which hold the items they just labelled, so a
    reservation whose assignment or item another transaction holds is left for the next reclaim."""
    now_monotonic = time.monotonic()
    if not force and now_monotonic - _last_reclaim.get(project_id, 0.0) < RECLAIM_EVERY_SECONDS:
        return 0
    _last_reclaim[project_id] = now_monotonic
    reclaimed = 0
    with transaction.atomic():
        expired = list(
            Assignment.objects.select_for_update(skip_locked=True)
            .filter(project_id=project_id, status=Assignment.Status.RESERVED, expires_at__lt=timezone.now())
            .values_list("id", "item_id", "item__role")
        )
        for assignment_id, item_id, role in expired:
            if role == Item.Role.TASK and not list(
                    Item.objects.select_for_update(skip_locked=True).filter(id=item_id).values_list("id", flat=True)):
                continue
            updated = Assignment.objects.filter(id=assignment_id, status=Assignment.Status.RESERVED).update(
                status=Assignment.Status.EXPIRED, finished_at=timezone.now()
            )
            if updated and role == Item.Role.TASK:
                _release_slot(item_id)
                reclaimed += 1
    return reclaimed


def assignments_release(*, assignments: list[Assignment]) -> int:
    """Returns these reservations to the pool (expired, their task slots freed). Those already finished are left
    alone; returns how many were released. Call inside a transaction."""
    released = 0
    for assignment in assignments:
        if Assignment.objects.filter(id=assignment.id, status=Assignment.Status.RESERVED).update(
                status=Assignment.Status.EXPIRED, finished_at=timezone.now()):
            released += 1
            if Item.objects.filter(id=assignment.item_id, role=Item.Role.TASK).exists():
                _release_slot(assignment.item_id)
    return released


def _release_slot(item_id: int) -> None:
    Item.objects.filter(id=item_id, taken__gt=0).update(taken=F("taken") - 1, is_full=False)


def _take_slot(item_id: int) -> bool:
    """Atomically takes one slot of an item if one is free."""
    return bool(
        Item.objects.filter(id=item_id, taken__lt=F("needed")).update(
            taken=F("taken") + 1,
            is_full=Case(When(taken__gte=F("needed") - 1, then=Value(True)), default=Value(False)),
        )
    )


def _pick_branch(bound: str, *, sent_back: bool = False) -> str:
    """One branch of the pick: open task items from the offset up (``>=``), or below it (``<``); ``sent_back``:
    only items sent back for re-annotation (``priority`` above 0, the partial index `item_open_priority_pool`)."""
    name = "sent_back" if sent_back else "later" if bound == ">=" else "earlier"
    return (f"SELECT id FROM (SELECT i.id FROM {table_name(Item)} i "
            f"WHERE i.project_id = %s AND i.role = 'task' AND NOT i.is_full AND i.taken < i.needed "
            f"{'AND i.priority > 0 ' if sent_back else ''}AND i.shuffle_key {bound} %s "
            f"AND NOT EXISTS (SELECT 1 FROM {table_name(Assignment)} a WHERE a.item_id = i.id AND a.annotator_id = %s) "
            f"AND EXISTS (SELECT 1 FROM {table_name(Enrollment)} e WHERE e.id = %s AND e.stage = %s "
            f"{row_lock(share=True)}) "
            f"ORDER BY i.shuffle_key LIMIT 1 {row_lock(of='i')}) AS {name}")


@cache
def _reserve_sql() -> tuple[str, str, str, str]:
    """The next task item's reservation as parts of one statement (``webapp.data.statements``): the pick, the
    reservation, the slot's take.

    The pick is the first open task item the annotator never had: among the items sent back for re-annotation
    first, then walking the shuffled order (the partial index `item_open_pool`) from an offset and wrapping around
    below it; it locks the item (passing over rows others
    hold) and share-locks the enrollment row at the work stage, so a move to the final stage
    (flow.enrollment_items_finished, which updates that row first) waits for this reservation, or this one finds
    the stage moved on. The reservation is inserted before the slot is taken and the take depends on it: when the
    insert finds the annotator already had the item (another tab) or `follows` already led somewhere (a replay),
    nothing at all is written, so no slot is ever taken without its reservation. The pick's lock (SQLite: its
    single writer) keeps `taken < needed` true for the take."""
    pick = f"{_pick_branch('>=', sent_back=True)} UNION ALL {_pick_branch('>=')} UNION ALL {_pick_branch('<')} LIMIT 1"
    reserved = (f"INSERT INTO {table_name(Assignment)} (project_id, item_id, annotator_id, status, reserved_at, "
                f"expires_at, follows_id) SELECT %s, id, %s, %s, %s, %s, %s FROM pick WHERE TRUE "
                f"ON CONFLICT DO NOTHING RETURNING id, item_id")
    columns = ", ".join(quoted(field.column) for field in ITEM_FIELDS)
    took = (f"UPDATE {table_name(Item)} SET taken = taken + 1, is_full = taken + 1 >= needed "
            f"WHERE id = (SELECT item_id FROM reserved) AND taken < needed RETURNING {columns}")
    result = (f"SELECT pick.id, reserved.id, {', '.join(f'took.{quoted(field.column)}' for field in ITEM_FIELDS)} "
              f"FROM pick LEFT JOIN reserved ON TRUE LEFT JOIN took ON TRUE")
    return pick, reserved, took, result


def _control_due(enrollment: Enrollment, spec: dict) -> bool:
    """Attention checks and gold items come at the spec's combined rate (e.g. 0.1: one item in ten)."""
    rate = float((spec.get("attention_checks") or {}).get("rate") or 0) + float((spec.get("gold") or {}).get("rate") or 0)
    return rate > 0 and enrollment.since_control + 1 >= max(1, round(1 / min(rate, 1.0)))


def _control_candidate(project_id: int, annotator_id: int) -> int | None:
    return (
        Item.objects.filter(project_id=project_id, role__in=[Item.Role.ATTENTION, Item.Role.GOLD])
        .exclude(assignments__annotator_id=annotator_id)
        .order_by("role", "shuffle_key")
        .values_list("id", flat=True)
        .first()
    )


class _NotInItems(Exception):
    """The enrollment left the work stage: the reservation attempt rolls back."""


def _require_items_stage(enrollment: Enrollment) -> None:
    """Locks the enrollment row while it is at the work stage, so a move to the final stage
    (flow.enrollment_items_finished, which updates this row first) cannot pass a reservation in flight.
    Call inside the reservation's transaction."""
    if not Enrollment.objects.select_for_update().filter(id=enrollment.id, stage=Enrollment.Stage.WORK).exists():
        raise _NotInItems()


def _reserve(enrollment: Enrollment, item_id: int, follows: Assignment | None) -> Assignment:
    return Assignment.objects.create(
        project_id=enrollment.project_id,
        item_id=item_id,
        annotator_id=enrollment.annotator_id,
        expires_at=timezone.now() + timedelta(seconds=reservation_seconds()),
        follows=follows,
    )


def assignment_live(*, enrollment: Enrollment) -> Assignment | None:
    """The annotator's unexpired reservation in this project, if any (resume where one left off)."""
    return (
        Assignment.objects.select_related("item")
        .filter(project_id=enrollment.project_id, annotator_id=enrollment.annotator_id,
                status=Assignment.Status.RESERVED, expires_at__gt=timezone.now())
        .order_by("-id")
        .first()
    )


def assignment_next(*, enrollment: Enrollment, resume: bool = True,
                    after: Assignment | None = None) -> Assignment | None:
    """Reserves the annotator's next item, or returns the one they already hold. None when nothing is left for them
    and they hold nothing.

    `after`: the assignment just submitted or skipped. The reservation it leads to is recorded on it (unique), so a
    replay of that submit (a retry, a double click, a resent form) returns the same next item and reserves nothing
    new, even when both copies run at once. Call with the enrollment at stage `work` (a reservation is refused
    otherwise); limits (items per annotator) are checked by the caller."""
    if resume:
        live = assignment_live(enrollment=enrollment)
        if live is not None:
            return live
    # The first submit reserves with `follows` set at no extra cost; a replay collides on it (nothing written) and
    # then finds the answer the first one got.
    assignment = _assignment_reserve(enrollment, after)
    if assignment is None and after is not None:
        follower = _follower(after)
        if follower is not None:
            if _is_live(follower):
                return follower
            # the item it led to is finished: show what is held, else reserve afresh
            assignment = assignment_live(enrollment=enrollment) or _assignment_reserve(enrollment, None)
    if assignment is None and not resume:
        # never report "nothing left" to someone who still holds an item
        assignment = assignment_live(enrollment=enrollment)
    return assignment


def _held(enrollment: Enrollment) -> Assignment | None:
    """The annotator's reservation in this project, lapsed or not (there is at most one)."""
    return (Assignment.objects.select_related("item")
            .filter(project_id=enrollment.project_id, annotator_id=enrollment.annotator_id,
                    status=Assignment.Status.RESERVED).first())


def _follower(after: Assignment) -> Assignment | None:
    return Assignment.objects.select_related("item").filter(follows_id=after.id).first()


def _is_live(assignment: Assignment) -> bool:
    return assignment.status == Assignment.Status.RESERVED and assignment.expires_at > timezone.now()


def _assignment_reserve(enrollment: Enrollment, after: Assignment | None) -> Assignment | None:
    project_id, annotator_id = enrollment.project_id, enrollment.annotator_id
    reservations_reclaim(project_id=project_id)
    spec = enrollment.project.spec
    if _control_due(enrollment, spec):
        control_id = _control_candidate(project_id, annotator_id)
        if control_id is not None:
            try:
                with transaction.atomic():
                    _require_items_stage(enrollment)
                    assignment = _reserve(enrollment, control_id, after)
                    Enrollment.objects.filter(id=enrollment.id).update(since_control=0)
                enrollment.since_control = 0
                return assignment
            except _NotInItems:
                return None
            except IntegrityError:
                if after is not None and Assignment.objects.filter(follows_id=after.id).exists():
                    return None
    return _task_reserve(enrollment, after)


def _task_reserve(enrollment: Enrollment, after: Assignment | None = None) -> Assignment | None:
    """Reserves an open task item the annotator never had: a few tries, each one statement on PostgreSQL (the pick,
    the reservation's insert and the slot's take, together or not at all; see ``_reserve_sql``)."""
    project = enrollment.project
    follows_id = after.id if after is not None else None
    pick, reserved, took, result = _reserve_sql()
    for _attempt in range(4):
        offset = random.getrandbits(62)
        pool = [project.id, offset, enrollment.annotator_id, enrollment.id, Enrollment.Stage.WORK]
        now = timezone.now()
        expires_at = now + timedelta(seconds=reservation_seconds())
        rows = statements_run([
            Part("pick", pick, [project.id, SHUFFLE_KEY_MIN, *pool[2:]] + pool + pool),
            Part("reserved", reserved, [project.id, enrollment.annotator_id, Assignment.Status.RESERVED,
                                        db_datetime(now), db_datetime(expires_at), follows_id]),
            Part("took", took)], result=result)
        if not rows:
            if _attempt < 3 and _open_item_passed_over(enrollment):
                time.sleep(PASSED_OVER_PAUSE * (_attempt + 1))
                continue
            return None  # nothing open for them, or the enrollment left the work stage
        _picked, reserved_id, *item_row = rows[0]
        if reserved_id is None:
            # `after` already led to a reservation, or the annotator holds one (another tab, a racing request),
            # or got this item meanwhile
            if after is not None and Assignment.objects.filter(follows_id=after.id).exists():
                return None
            held = _held(enrollment)
            if held is not None and _is_live(held):
                held.project = project
                return held
            if held is not None:  # lapsed but not yet reclaimed: it goes back to the pool, and a fresh one is taken
                assignments_release(assignments=[held])
            continue
        if item_row[0] is None:  # cannot happen while the pick's lock holds; never keep a reservation without its slot
            Assignment.objects.filter(id=reserved_id).update(status=Assignment.Status.EXPIRED, finished_at=now)
            continue
        item = instance_from_row(Item, ITEM_FIELDS, item_row)
        item.project = project
        stored = {"id": reserved_id, "project_id": project.id, "item_id": item.id,
                  "annotator_id": enrollment.annotator_id, "status": Assignment.Status.RESERVED, "reserved_at": now,
                  "expires_at": expires_at, "finished_at": None, "seconds": None, "follows_id": follows_id}
        # the row as stored, loaded as the ORM loads one (so it may be saved like any other)
        assignment = Assignment.from_db(connection.alias, [f.attname for f in ASSIGNMENT_FIELDS],
                                        [stored[f.attname] for f in ASSIGNMENT_FIELDS])
        assignment.project, assignment.item = project, item
        return assignment
    return None


SHUFFLE_KEY_MIN = -(2 ** 63)  # below every shuffle key: items sent back are walked from the start
PASSED_OVER_PAUSE = 0.005  # seconds; another turn holds an item's row for about one statement


def _open_item_passed_over(enrollment: Enrollment) -> bool:
    """Whether the pick found nothing only because it passed over rows other turns held at that instant (an item
    with a free slot that this annotator never had, while they are still at the work stage): then "nothing left"
    would be false, and the last free slots of a project would be left unfilled by annotators sent home early."""
    return (Enrollment.objects.filter(id=enrollment.id, stage=Enrollment.Stage.WORK).exists()
            and Item.objects.filter(project_id=enrollment.project_id, role=Item.Role.TASK, is_full=False,
                                    taken__lt=F("needed"))
            .exclude(assignments__annotator_id=enrollment.annotator_id).exists())


def stored_label(*, assignment: Assignment) -> Label | None:
    """The label stored for this assignment's item by its annotator, if any."""
    return Label.objects.filter(item_id=assignment.item_id, annotator_id=assignment.annotator_id).first()


def _stored_label(assignment: Assignment) -> Label | None:
    return stored_label(assignment=assignment)


def label_submit(*, assignment: Assignment, raw_values: dict, seconds: float | None,
                 enrollment: Enrollment | None = None) -> Label:
    """Stores one annotator's labels for one item. Idempotent per assignment: a double click or a retry returns the
    label stored first. Raises SubmitError (nothing stored) when answers do not fit the schema, the assignment was
    finished otherwise (skipped) or the reservation expired and its slot went to someone else. Atomic on its own
    (one statement in the usual case on PostgreSQL), or part of the caller's transaction.

    When `enrollment` (the annotator's, in this project) is given, its COUNTERS are up to date on return: with the
    values the store read back (the policies after an item then need no query), or read again after a replay."""
    item = assignment.item
    project = assignment.project
    values, errors = label_values_validate(project.dimensions, item.data, raw_values)
    if errors:
        stored = _stored_label(assignment)
        if stored is not None:
            return stored
        raise SubmitError(errors)
    seconds = None if seconds is None else max(0.0, min(float(seconds), 24 * 3600.0))
    now = timezone.now()
    stored = _label_store(assignment, item, values, seconds, now)
    if stored is None:
        # nothing was written: a label for this item and annotator was stored by another route, or this
        # assignment was finished before (a replay returns the label stored first)
        label = _stored_label(assignment)
        if label is None:
            raise SubmitError({"item": gettext("this item was skipped or is no longer yours")})
        if enrollment is not None:
            enrollment.refresh_from_db(fields=list(COUNTERS))
        return label
    label_id, counters = stored
    if enrollment is not None:
        for name, value in counters.items():
            setattr(enrollment, name, value)
    return Label(id=label_id, project_id=assignment.project_id, item_id=item.id, annotator_id=assignment.annotator_id,
                 assignment_id=assignment.id, values=values, seconds=seconds, source=Label.Source.PLATFORM,
                 created_at=now)


@cache
def _store_sql(*, control: bool, task: bool, attention_failed: bool) -> tuple[list[tuple[str, str]], str]:
    """A label's store as parts of one statement (``webapp.data.statements``), each depending on the one before:
    the label, inserted from the assignment row while it has the status given (locked: a concurrent reclaim or
    replay either goes first, and then this inserts nothing, or waits for this one); the assignment's finish; the
    item's count; the control result (attention checks and gold items); the enrollment's counters, handed back.
    The locks come in that order: the assignment, then the item, then the enrollment."""
    label = (f"INSERT INTO {table_name(Label)} (project_id, item_id, annotator_id, assignment_id, {quoted('values')}, "
             f"seconds, source, created_at) SELECT a.project_id, a.item_id, a.annotator_id, a.id, %s, %s, %s, %s "
             f"FROM {table_name(Assignment)} a WHERE a.id = %s AND a.status = %s {row_lock(skip_locked=False)} "
             f"ON CONFLICT DO NOTHING RETURNING id")
    finish = (f"UPDATE {table_name(Assignment)} SET status = %s, finished_at = %s, seconds = %s "
              f"WHERE id = %s AND status = %s AND EXISTS (SELECT 1 FROM label) RETURNING id")
    labelled = (f"UPDATE {table_name(Item)} SET labels_count = labels_count + 1 "
                f"WHERE id = %s AND EXISTS (SELECT 1 FROM finish) RETURNING id")
    parts = [("label", label), ("finish", finish), ("labelled", labelled)]
    if control:
        parts.append(("control", f"INSERT INTO {table_name(ControlResult)} (project_id, annotator_id, item_id, kind, "
                                 f"passed, created_at) SELECT %s, %s, id, %s, %s, %s FROM labelled RETURNING id"))
    changes = ["labels_done = labels_done + 1", "session_done = session_done + 1"]
    changes.append("since_control = since_control + 1" if task else "since_control = since_control")
    if attention_failed:
        changes.append("attention_failures = attention_failures + 1")
    parts.append(("counters", f"UPDATE {table_name(Enrollment)} SET {', '.join(changes)} "
                              f"WHERE project_id = %s AND annotator_id = %s AND EXISTS (SELECT 1 FROM labelled) "
                              f"RETURNING {', '.join(quoted(name) for name in COUNTERS)}"))
    result = (f"SELECT label.id, {', '.join(f'counters.{quoted(name)}' for name in COUNTERS)} "
              f"FROM label LEFT JOIN counters ON TRUE")
    return parts, result


def _store_run(assignment: Assignment, item: Item, values: dict, seconds: float | None, now: datetime, *,
               status: str, passed: bool | None) -> tuple[int, dict] | None:
    """Runs ``_store_sql`` for an assignment in ``status``: (label id, the enrollment's COUNTERS after the write), or
    None with nothing written."""
    task = item.role == Item.Role.TASK
    attention_failed = item.role == Item.Role.ATTENTION and not passed
    sql, result = _store_sql(control=not task, task=task, attention_failed=attention_failed)
    json_values = Label._meta.get_field("values").get_db_prep_save(values, connection)
    stamp = db_datetime(now)
    params = {
        "label": [json_values, seconds, Label.Source.PLATFORM, stamp, assignment.id, status],
        "finish": [Assignment.Status.SUBMITTED, stamp, seconds, assignment.id, status],
        "labelled": [item.id],
        "control": [assignment.project_id, assignment.annotator_id, item.role, passed, stamp],
        "counters": [assignment.project_id, assignment.annotator_id],
    }
    rows = statements_run([Part(name, text, params[name]) for name, text in sql], result=result)
    if not rows:
        return None
    label_id, *counters = rows[0]
    if counters[0] is None:  # not enrolled (labels imported or made by hand): nothing to count on
        return label_id, {}
    return label_id, dict(zip(COUNTERS, values_converted(COUNTER_FIELDS, counters), strict=True))


def _label_store(assignment: Assignment, item: Item, values: dict, seconds: float | None,
                 now: datetime) -> tuple[int, dict] | None:
    """The write of label_submit, inside a caller's transaction or not. Returns (label id, the enrollment's
    COUNTERS after the write), or None, with nothing written, when the assignment was already finished
    (submitted, skipped) or a label for the item and annotator came by another route.

    The usual case (still reserved) is one statement on PostgreSQL. An expired reservation is stored from
    `expired` and must take a free slot again (the reclaim gave its slot back), else SubmitError rolls the store
    back; that runs in a transaction (a savepoint inside the caller's, which a refusal leaves usable)."""
    passed = None if item.role == Item.Role.TASK else control_passed(item.gold or {}, values)
    stored = _store_run(assignment, item, values, seconds, now, status=Assignment.Status.RESERVED, passed=passed)
    if stored is not None:
        return stored
    with transaction.atomic():
        stored = _store_run(assignment, item, values, seconds, now, status=Assignment.Status.EXPIRED, passed=passed)
        if stored is not None and item.role == Item.Role.TASK and not _take_slot(item.id):
            raise SubmitError({"item": gettext("your reservation expired and this item has been "
                                               "completed by others")})
    return stored


@cache
def _skip_sql() -> tuple[list[tuple[str, str]], str]:
    """A skip as parts of one statement (``webapp.data.statements``): the assignment, locked while live (reserved,
    or expired by the reclaim); its finish; its task slot given back if it still held one; the enrollment's
    counters, handed back. The slot's fate is decided from the status the locked row had when the skip took it,
    never from an earlier read that a reclaim could overtake (that race gave a slot back twice, or used one without
    taking it again, and let items collect more labels than they need)."""
    was = (f"SELECT a.id, a.status, a.item_id FROM {table_name(Assignment)} a "
           f"WHERE a.id = %s AND a.status IN (%s, %s) {row_lock(skip_locked=False)}")
    finish = (f"UPDATE {table_name(Assignment)} SET status = %s, finished_at = %s, seconds = %s "
              f"WHERE id = (SELECT id FROM was) RETURNING id")
    released = (f"UPDATE {table_name(Item)} SET taken = taken - 1, is_full = FALSE "
                f"WHERE id = (SELECT item_id FROM was WHERE status = %s) AND role = 'task' AND taken > 0 "
                f"AND EXISTS (SELECT 1 FROM finish) RETURNING id")
    counters = (f"UPDATE {table_name(Enrollment)} SET skipped = skipped + 1, session_done = session_done + 1 "
                f"WHERE project_id = %s AND annotator_id = %s AND EXISTS (SELECT 1 FROM finish) "
                f"RETURNING {', '.join(quoted(name) for name in COUNTERS)}")
    result = (f"SELECT finish.id, {', '.join(f'counters.{quoted(name)}' for name in COUNTERS)} "
              f"FROM finish LEFT JOIN counters ON TRUE")
    return [("was", was), ("finish", finish), ("released", released), ("counters", counters)], result


def assignment_skip(*, assignment: Assignment, distressing: bool, seconds: float | None = None,
                    enrollment: Enrollment | None = None) -> bool:
    """Gives an item back to the pool; the annotator will not see it again. A distressing skip is recorded apart
    from an ordinary one. Idempotent: False when the assignment was already finished. Atomic on its own (one
    statement on PostgreSQL), or part of the caller's transaction.

    When `enrollment` (the annotator's, in this project) is given and the skip counted, its COUNTERS are up to
    date on return (the policies after an item then need no query)."""
    sql, result = _skip_sql()
    params = {
        "was": [assignment.id, Assignment.Status.RESERVED, Assignment.Status.EXPIRED],
        "finish": [Assignment.Status.DISTRESSING if distressing else Assignment.Status.SKIPPED,
                   db_datetime(timezone.now()), seconds],
        "released": [Assignment.Status.RESERVED],
        "counters": [assignment.project_id, assignment.annotator_id],
    }
    rows = statements_run([Part(name, text, params[name]) for name, text in sql], result=result)
    if not rows:
        return False
    _finished, *counters = rows[0]
    if enrollment is not None and counters[0] is not None:
        for name, value in zip(COUNTERS, values_converted(COUNTER_FIELDS, counters), strict=True):
            setattr(enrollment, name, value)
    return True
