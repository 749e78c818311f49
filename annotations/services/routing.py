"""Next-item routing and label submission: the annotation loop's writes, one path on PostgreSQL and SQLite alike.

Invariants, held under concurrency on both databases:
- an item's `taken` (live reservations + stored labels) never exceeds its `needed`;
- an annotator never gets the same item twice (unique item × annotator);
- an annotator holds at most one reservation in a project (unique project × annotator among reserved rows): racing
  requests, a second tab and a submit from a lapsed one all end with the one item held;
- a submit is idempotent per assignment (one label per item × annotator).
A task slot is taken by one conditional UPDATE that picks the candidate in a sub-select and takes it in the same
statement, so no two transactions can both take the last one; on PostgreSQL the pick passes over rows other
transactions hold (FOR UPDATE SKIP LOCKED, from `webapp.data.row_locks`), so concurrent annotators do not queue behind
each other; SQLite runs one writer at a time and needs no lock. The statements of the usual turn (a task item
submitted while its reservation holds, then the next task item) are written out once here: compiling the
equivalent ORM calls cost more CPU than the database spent answering them.
"""

import random
import time
from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from annotations.models import Assignment, ControlResult, Enrollment, Item, Label
from annotations.values import control_passed, label_values_validate
from webapp.data.raw_rows import db_datetime, instance_from_row, quoted, table_name, values_converted
from webapp.data.row_locks import row_lock


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


@cache
def _take_statement(bound: str) -> str:
    """One slot of the first open task item the annotator never had, walking the shuffled order (the partial index
    `item_open_pool`) from an offset, taken in one statement; nothing unless the enrollment is at the items stage.

    The enrollment row is share-locked at that stage: a move to the final stage (flow.enrollment_items_finished,
    which updates that row first) waits for this reservation's transaction, or this one finds the stage moved on."""
    columns = ", ".join(quoted(field.column) for field in ITEM_FIELDS)
    return (
        f"UPDATE {table_name(Item)} SET taken = taken + 1, is_full = taken + 1 >= needed "
        f"WHERE taken < needed AND id = (SELECT i.id FROM {table_name(Item)} i "
        f"WHERE i.project_id = %s AND i.role = 'task' AND NOT i.is_full AND i.taken < i.needed "
        f"AND i.shuffle_key {bound} %s "
        f"AND NOT EXISTS (SELECT 1 FROM {table_name(Assignment)} a WHERE a.item_id = i.id AND a.annotator_id = %s) "
        f"AND EXISTS (SELECT 1 FROM {table_name(Enrollment)} e WHERE e.id = %s AND e.stage = %s {row_lock(share=True)}) "
        f"ORDER BY i.shuffle_key LIMIT 1 {row_lock(of='i')}) "
        f"RETURNING {columns}"
    )


@cache
def _reservation_statement() -> str:
    return (f"INSERT INTO {table_name(Assignment)} (project_id, item_id, annotator_id, status, reserved_at, expires_at, "
            f"follows_id) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING id")


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
    """The enrollment left the items stage: the reservation attempt rolls back."""


def _require_items_stage(enrollment: Enrollment) -> None:
    """Locks the enrollment row while it is at the items stage, so a move to the final stage
    (flow.enrollment_items_finished, which updates this row first) cannot pass a reservation in flight.
    Call inside the reservation's transaction."""
    if not Enrollment.objects.select_for_update().filter(id=enrollment.id, stage=Enrollment.Stage.ITEMS).exists():
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
    new, even when both copies run at once. Call with the enrollment at stage `items` (a reservation is refused
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
    """Reserves an open task item the annotator never had: a few tries, each the slot's take and the reservation's
    insert, together or not at all (inside the caller's transaction when there is one, else their own)."""
    project = enrollment.project
    for _attempt in range(4):
        offset = random.getrandbits(62)
        with transaction.atomic(savepoint=False), connection.cursor() as cursor:
            for bound in (">=", "<"):
                cursor.execute(_take_statement(bound), [project.id, offset, enrollment.annotator_id, enrollment.id,
                                                        Enrollment.Stage.ITEMS])
                row = cursor.fetchone()
                if row is not None:
                    break
            else:
                return None
            item = instance_from_row(Item, ITEM_FIELDS, row)
            now = timezone.now()
            expires_at = now + timedelta(seconds=reservation_seconds())
            follows_id = after.id if after is not None else None
            cursor.execute(_reservation_statement(), [project.id, item.id, enrollment.annotator_id,
                                                      Assignment.Status.RESERVED, db_datetime(now), db_datetime(expires_at),
                                                      follows_id])
            reserved = cursor.fetchone()
            if reserved is None:
                # `after` already led to a reservation, or the annotator holds one (another tab, a racing request),
                # or got this item meanwhile
                _release_slot(item.id)
                if after is not None and Assignment.objects.filter(follows_id=after.id).exists():
                    return None
                held = _held(enrollment)
                if held is not None and _is_live(held):
                    held.project = project
                    return held
                if held is not None:  # lapsed but not yet reclaimed: it goes back to the pool, and a fresh one is taken
                    assignments_release(assignments=[held])
                continue
        item.project = project
        stored = {"id": reserved[0], "project_id": project.id, "item_id": item.id,
                  "annotator_id": enrollment.annotator_id, "status": Assignment.Status.RESERVED, "reserved_at": now,
                  "expires_at": expires_at, "finished_at": None, "seconds": None, "follows_id": follows_id}
        # the row as stored, loaded as the ORM loads one (so it may be saved like any other)
        assignment = Assignment.from_db(connection.alias, [f.attname for f in ASSIGNMENT_FIELDS],
                                        [stored[f.attname] for f in ASSIGNMENT_FIELDS])
        assignment.project, assignment.item = project, item
        return assignment
    return None


def _finish(assignment: Assignment, status: str, seconds: float | None) -> str | None:
    """Moves a live assignment to `status`; returns the status it left (reserved or expired), None if it was
    already finished.

    Each try is one conditional UPDATE, so the transition is atomic against a concurrent reclaim (which moves
    reserved to expired the same way): the caller learns whether the slot was still held from the status the row
    actually left, never from an earlier read that a reclaim could overtake (that race gave a slot back twice or
    used one without taking it again, and let items collect more labels than they need)."""
    for previous in (Assignment.Status.RESERVED, Assignment.Status.EXPIRED):
        if Assignment.objects.filter(id=assignment.id, status=previous).update(
                status=status, finished_at=timezone.now(), seconds=seconds):
            return previous
    return None


def stored_label(*, assignment: Assignment) -> Label | None:
    """The label stored for this assignment's item by its annotator, if any."""
    return Label.objects.filter(item_id=assignment.item_id, annotator_id=assignment.annotator_id).first()


def _stored_label(assignment: Assignment) -> Label | None:
    return stored_label(assignment=assignment)


def label_submit(*, assignment: Assignment, raw_values: dict, seconds: float | None,
                 enrollment: Enrollment | None = None) -> Label:
    """Stores one annotator's labels for one item. Idempotent per assignment: a double click or a retry returns the
    label stored first. Raises SubmitError (nothing stored) when answers do not fit the schema or the reservation
    expired and its slot went to someone else. One transaction of its own, or part of the caller's.

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
    with transaction.atomic(savepoint=False):
        stored = _label_store(assignment, item, values, seconds, now)
    if stored is None:
        # nothing was written: a label for this item and annotator was stored by another route, or this
        # assignment was finished before (a replay returns the label stored first)
        label = _stored_label(assignment)
        if label is None:
            raise SubmitError({"item": "this item was skipped or is no longer yours"})
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


class _LabelExists(Exception):
    """A label for the item and annotator was already there: the late store rolls back."""



@cache
def _label_statement() -> str:
    """The label, inserted from the assignment row while it has status %s (locked until the transaction ends)."""
    return (f"INSERT INTO {table_name(Label)} (project_id, item_id, annotator_id, assignment_id, {quoted('values')}, "
            f"seconds, source, created_at) SELECT a.project_id, a.item_id, a.annotator_id, a.id, %s, %s, %s, %s "
            f"FROM {table_name(Assignment)} a WHERE a.id = %s AND a.status = %s {row_lock(skip_locked=False)} "
            f"ON CONFLICT DO NOTHING RETURNING id")


@cache
def _finish_statement() -> str:
    return f"UPDATE {table_name(Assignment)} SET status = %s, finished_at = %s, seconds = %s WHERE id = %s AND status = %s"


@cache
def _labelled_statement() -> str:
    return f"UPDATE {table_name(Item)} SET labels_count = labels_count + 1 WHERE id = %s"


@cache
def _counters_statement(*, task: bool, attention_failed: bool) -> str:
    changes = ["labels_done = labels_done + 1", "session_done = session_done + 1"]
    changes.append("since_control = since_control + 1" if task else "since_control = since_control")
    if attention_failed:
        changes.append("attention_failures = attention_failures + 1")
    return (f"UPDATE {table_name(Enrollment)} SET {', '.join(changes)} WHERE project_id = %s AND annotator_id = %s "
            f"RETURNING {', '.join(quoted(name) for name in COUNTERS)}")


def _label_store(assignment: Assignment, item: Item, values: dict, seconds: float | None,
                 now: datetime) -> tuple[int, dict] | None:
    """The write of label_submit; call inside a transaction. Returns (label id, the enrollment's COUNTERS after the
    write), or None, with nothing written, when the assignment was already finished (submitted, skipped) or a label
    for the item and annotator came by another route.

    The usual case (still reserved) inserts the label from the locked assignment row, then finishes it. An expired
    reservation is finished from `expired` and must take a free slot again (the reclaim gave its slot back), else
    SubmitError rolls everything back; it runs in a savepoint so that a refusal leaves the caller's transaction
    usable."""
    json_values = Label._meta.get_field("values").get_db_prep_save(values, connection)
    label_params = [json_values, seconds, Label.Source.PLATFORM, db_datetime(now), assignment.id]
    with connection.cursor() as cursor:
        cursor.execute(_label_statement(), [*label_params, Assignment.Status.RESERVED])
        row = cursor.fetchone()
        if row is not None:
            cursor.execute(_finish_statement(), [Assignment.Status.SUBMITTED, db_datetime(now), seconds, assignment.id,
                                                 Assignment.Status.RESERVED])
        else:
            try:
                with transaction.atomic():
                    cursor.execute(_finish_statement(), [Assignment.Status.SUBMITTED, db_datetime(now), seconds,
                                                         assignment.id, Assignment.Status.EXPIRED])
                    if not cursor.rowcount:
                        return None
                    if item.role == Item.Role.TASK and not _take_slot(item.id):
                        raise SubmitError({"item": "your reservation expired and this item has been completed by "
                                                   "others"})
                    cursor.execute(_label_statement(), [*label_params, Assignment.Status.SUBMITTED])
                    row = cursor.fetchone()
                    if row is None:
                        raise _LabelExists()
            except _LabelExists:
                return None
        cursor.execute(_labelled_statement(), [item.id])
        attention_failed = False
        if item.role != Item.Role.TASK:
            passed = control_passed(item.gold or {}, values)
            ControlResult.objects.create(project_id=assignment.project_id, annotator_id=assignment.annotator_id,
                                         item=item, kind=item.role, passed=passed)
            attention_failed = item.role == Item.Role.ATTENTION and not passed
        cursor.execute(_counters_statement(task=item.role == Item.Role.TASK, attention_failed=attention_failed),
                       [assignment.project_id, assignment.annotator_id])
        counters = cursor.fetchone()
    if counters is None:  # not enrolled (labels imported or made by hand): nothing to count on
        return row[0], {}
    return row[0], dict(zip(COUNTERS, values_converted(COUNTER_FIELDS, counters), strict=True))


def assignment_skip(*, assignment: Assignment, distressing: bool, seconds: float | None = None) -> bool:
    """Gives an item back to the pool; the annotator will not see it again. A distressing skip is recorded apart
    from an ordinary one. Idempotent: False when the assignment was already finished."""
    status = Assignment.Status.DISTRESSING if distressing else Assignment.Status.SKIPPED
    with transaction.atomic():
        left = _finish(assignment, status, seconds)
        if left is None:
            return False
        if left == Assignment.Status.RESERVED and assignment.item.role == Item.Role.TASK:
            _release_slot(assignment.item_id)
        Enrollment.objects.filter(project_id=assignment.project_id, annotator_id=assignment.annotator_id).update(
            skipped=F("skipped") + 1, session_done=F("session_done") + 1
        )
    return True
