"""Next-item routing and label submission: the annotation loop.

Invariants, held under concurrency on PostgreSQL and SQLite alike:
- an item's `taken` (live reservations + stored labels) never exceeds its `needed`;
- an annotator never gets the same item twice (unique item × annotator);
- a submit is idempotent per assignment (one label per item × annotator).
Slots are taken with a conditional UPDATE, so no two transactions can both take the last one; on PostgreSQL the
candidate row is also picked with FOR UPDATE SKIP LOCKED so concurrent annotators do not queue behind each other.

On PostgreSQL the common turn (a task item submitted while its reservation holds, then the next task item) runs as
single statements (services/loop_sql.py) that write the same rows; this ORM path does everything else.
"""

import random
import time
from contextlib import nullcontext
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from annotations.models import Assignment, ControlResult, Enrollment, Item, Label
from annotations.services import loop_sql
from annotations.values import control_passed, label_values_validate


class SubmitError(Exception):
    """The answers were not stored; `errors` maps field to a sentence."""

    def __init__(self, errors: dict):
        super().__init__("; ".join(f"{key}: {value}" for key, value in errors.items()))
        self.errors = errors


_last_reclaim: dict[int, float] = {}
RECLAIM_EVERY_SECONDS = 15.0


def fast_path() -> bool:
    """Whether the loop's one-statement writes (loop_sql, PostgreSQL only) serve the common turn."""
    return connection.vendor == "postgresql"


def reservation_seconds() -> int:
    return settings.RESONANCE_RESERVATION_SECONDS


def reservations_reclaim(*, project_id: int, force: bool = False) -> int:
    """Returns abandoned (expired) reservations to the pool. Throttled per process unless `force`."""
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


_CANDIDATE_SQL = """
SELECT i.* FROM annotations_item i
WHERE i.project_id = %s AND i.role = 'task' AND NOT i.is_full AND {bound}
  AND NOT EXISTS (SELECT 1 FROM annotations_assignment a WHERE a.item_id = i.id AND a.annotator_id = %s)
ORDER BY i.shuffle_key LIMIT 1 {lock}
"""


def _pool_candidate(project_id: int, annotator_id: int) -> Item | None:
    """An open task item this annotator has never had, picked at a random point of the shuffled order, or None.

    The whole row comes back (and, on PostgreSQL, stays locked until the transaction ends), so the page can draw
    the item without fetching it again. The walk follows the partial index `item_open_pool` from the offset."""
    lock = "FOR UPDATE OF i SKIP LOCKED" if connection.vendor == "postgresql" else ""
    offset = random.getrandbits(62)
    for bound in ("i.shuffle_key >= %s", "i.shuffle_key < %s"):
        sql = _CANDIDATE_SQL.format(bound=bound, lock=lock)
        found = list(Item.objects.raw(sql, [project_id, offset, annotator_id]))
        if found:
            return found[0]
    return None


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
    if fast_path():
        return _task_reserve_fast(enrollment, after)
    return _task_reserve_orm(enrollment, after)


def _task_reserve_orm(enrollment: Enrollment, after: Assignment | None = None) -> Assignment | None:
    """Reserves an open task item the annotator never had: a few tries, each its own transaction."""
    project_id, annotator_id = enrollment.project_id, enrollment.annotator_id
    for _attempt in range(4):
        try:
            with transaction.atomic():
                _require_items_stage(enrollment)
                item = _pool_candidate(project_id, annotator_id)
                if item is None:
                    return None
                if not _take_slot(item.id):
                    continue
                # No savepoint: if the reservation collides, the whole attempt (slot included) rolls back.
                assignment = _reserve(enrollment, item.id, after)
        except _NotInItems:
            return None
        except IntegrityError:
            if after is not None and Assignment.objects.filter(follows_id=after.id).exists():
                return None
            continue
        item.taken += 1
        item.is_full = item.taken >= item.needed
        assignment.item = item
        return assignment
    return None


def _alone_or_savepoint():
    """A one-statement write needs no transaction of its own, except inside someone else's: there a failed
    statement would break the enclosing transaction, so it gets a savepoint."""
    return transaction.atomic() if connection.in_atomic_block else nullcontext()


def _task_reserve_fast(enrollment: Enrollment, after: Assignment | None = None) -> Assignment | None:
    """assignment_next's task-item reservation on PostgreSQL: the same walk and the same tries as the ORM loop,
    one statement per pass."""
    now = timezone.now()
    expires_at = now + timedelta(seconds=reservation_seconds())
    for _attempt in range(4):
        offset = random.getrandbits(62)
        try:
            for wrap in (False, True):
                with _alone_or_savepoint():
                    assignment = loop_sql.task_reserve_postgres(
                        project=enrollment.project, annotator_id=enrollment.annotator_id, offset=offset, wrap=wrap,
                        now=now, expires_at=expires_at, follows_id=after.id if after is not None else None)
                if assignment is not None:
                    return assignment
            return None
        except loop_sql.SlotMissed:
            continue
        except IntegrityError:
            if after is not None and Assignment.objects.filter(follows_id=after.id).exists():
                return None
            continue
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
    expired and its slot went to someone else.

    When `enrollment` (the annotator's, in this project) is given, its counters (loop_sql.COUNTERS) are brought
    up to date once the label is stored: read back with the write on the fast path, refreshed otherwise."""
    item = assignment.item
    project = assignment.project
    values, errors = label_values_validate(project.dimensions, item.data, raw_values)
    if errors:
        stored = _stored_label(assignment)
        if stored is not None:
            return stored
        raise SubmitError(errors)
    seconds = None if seconds is None else max(0.0, min(float(seconds), 24 * 3600.0))
    if fast_path() and item.role == Item.Role.TASK:
        now = timezone.now()
        stored = loop_sql.label_store_postgres(assignment=assignment, values=values, seconds=seconds, now=now)
        if stored is not None:
            label_id, counters = stored
            if enrollment is not None:
                for name, value in counters.items():
                    setattr(enrollment, name, value)
            return Label(id=label_id, project_id=assignment.project_id, item_id=item.id,
                         annotator_id=assignment.annotator_id, assignment_id=assignment.id, values=values,
                         seconds=seconds, source=Label.Source.PLATFORM, created_at=now)
        # not reserved any more (expired, submitted by a double click, skipped) or labelled by another route
    label = _label_submit_orm(assignment, item, project, values, seconds)
    if enrollment is not None:
        enrollment.refresh_from_db(fields=list(loop_sql.COUNTERS))
    return label


def _label_submit_orm(assignment: Assignment, item: Item, project, values: dict, seconds: float | None) -> Label:
    try:
        label = _label_store(assignment, item, project, values, seconds)
    except IntegrityError:
        # The whole transaction rolled back: a label for this item and annotator was stored by another route.
        return Label.objects.get(item_id=item.id, annotator_id=assignment.annotator_id)
    if label is None:
        stored = _stored_label(assignment)
        if stored is not None:
            return stored
        raise SubmitError({"item": "this item was skipped or is no longer yours"})
    return label


@transaction.atomic
def _label_store(assignment: Assignment, item: Item, project, values: dict, seconds: float | None) -> Label | None:
    """The write of label_submit, one transaction. None when the assignment was already finished."""
    left = _finish(assignment, Assignment.Status.SUBMITTED, seconds)
    if left is None:
        return None
    if left == Assignment.Status.EXPIRED and item.role == Item.Role.TASK and not _take_slot(item.id):
        # raising rolls the finish back: the assignment stays expired
        raise SubmitError({"item": "your reservation expired and this item has been completed by others"})
    label = Label.objects.create(project=project, item=item, annotator_id=assignment.annotator_id,
                                 assignment=assignment, values=values, seconds=seconds)
    Item.objects.filter(id=item.id).update(labels_count=F("labels_count") + 1)
    enrollment_changes = {"labels_done": F("labels_done") + 1, "session_done": F("session_done") + 1}
    if item.role == Item.Role.TASK:
        enrollment_changes["since_control"] = F("since_control") + 1
    else:
        passed = control_passed(item.gold or {}, values)
        ControlResult.objects.create(project=project, annotator_id=assignment.annotator_id, item=item,
                                     kind=item.role, passed=passed)
        if item.role == Item.Role.ATTENTION and not passed:
            enrollment_changes["attention_failures"] = F("attention_failures") + 1
    Enrollment.objects.filter(project=project, annotator_id=assignment.annotator_id).update(**enrollment_changes)
    return label


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
