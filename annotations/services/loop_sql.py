"""Plain SQL for the annotation loop on PostgreSQL: the three statements a usual submit runs.

``submit_context_fetch`` reads the annotator's enrollment, the assignment they answered, its item and the (open)
project in one statement; the spec comes from the per-process cache (``project_spec_cached``).
``label_store_postgres`` is the common write of ``label_submit`` (a task item whose reservation is still held):
finish the assignment, insert the label, count it on the item and on the enrollment, all in one statement that
hands the enrollment's new counters back. ``task_reserve_postgres`` takes the next open task item for the
annotator (the same walk of the ``item_open_pool`` index from a random offset, the same row lock) and reserves it,
also in one statement. The ORM path in ``routing`` does each of these in four to six round trips; it stays the
path for SQLite, control items, expired reservations, skips and anything unusual, and the rows written here are
the rows it writes (``tests/annotations/test_loop_sql.py`` compares them).

A single statement is atomic on its own, so none of these needs a transaction around it: a statement that
fails (a unique violation) leaves nothing behind, like the ORM path's rolled-back transaction.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache

from django.db import connection
from django.db.models import JSONField

from annotations.models import Assignment, Enrollment, Item, Label, Project
from annotations.selectors import project_spec_cached

# What the enrollment's policies read after an item (flow.enrollment_after_item); the store hands them back.
COUNTERS = ("labels_done", "skipped", "session_done", "since_control", "attention_failures", "stage",
            "session_started_at", "break_until")


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _fields(model, *, leave_out: tuple[str, ...] = ()) -> list:
    return [field for field in model._meta.concrete_fields if field.attname not in leave_out]


def _columns(alias: str, fields: list) -> list[str]:
    return [f"{alias}.{connection.ops.quote_name(field.column)}" for field in fields]


def _instance(model, fields: list, values: list):
    """A model instance as the ORM would load it from these columns (so it may be saved like any other)."""
    # drivers hand JSON columns back as text (Django decodes them in from_db_value, which is bypassed here)
    decoded = [json.loads(value) if isinstance(field, JSONField) and isinstance(value, str | bytes) else value
               for field, value in zip(fields, values, strict=True)]
    return model.from_db(connection.alias, [field.attname for field in fields], decoded)


# The project's spec comes from the per-process cache, not from each row.
_PROJECT_FIELDS = _fields(Project, leave_out=("spec",))
_ENROLLMENT_FIELDS = _fields(Enrollment)
_ASSIGNMENT_FIELDS = _fields(Assignment)
_ITEM_FIELDS = _fields(Item)


@cache
def _context_statement() -> str:
    columns = _columns("p", _PROJECT_FIELDS) + _columns("e", _ENROLLMENT_FIELDS) + _columns("a", _ASSIGNMENT_FIELDS) \
        + _columns("i", _ITEM_FIELDS)
    return (
        f"SELECT {', '.join(columns)} FROM {_table(Project)} p "
        f"JOIN {_table(Enrollment)} e ON e.project_id = p.id AND e.annotator_id = %s "
        f"LEFT JOIN {_table(Assignment)} a ON a.id = %s AND a.annotator_id = e.annotator_id AND a.project_id = p.id "
        f"LEFT JOIN {_table(Item)} i ON i.id = a.item_id "
        f"WHERE p.slug = %s AND p.is_open"
    )


def submit_context_fetch(*, annotator_id: int, slug: str, assignment_id: int) -> tuple[Enrollment | None,
                                                                                      Assignment | None]:
    """The annotator's enrollment in the open project ``slug`` (with ``project``, its spec from the cache) and
    their assignment ``assignment_id`` in it (with ``item`` and ``project``), in one statement.

    (None, None) when the project is not open or the annotator not enrolled; (enrollment, None) when the
    assignment is not theirs. The project's spec is the cached one: read it, never change it."""
    with connection.cursor() as cursor:
        cursor.execute(_context_statement(), [annotator_id, assignment_id, slug])
        row = cursor.fetchone()
    if row is None:
        return None, None
    bounds = [0]
    for fields in (_PROJECT_FIELDS, _ENROLLMENT_FIELDS, _ASSIGNMENT_FIELDS, _ITEM_FIELDS):
        bounds.append(bounds[-1] + len(fields))
    project = _instance(Project, _PROJECT_FIELDS, row[bounds[0]:bounds[1]])
    project.spec = project_spec_cached(project_id=project.id, spec_hash=project.spec_hash)
    enrollment = _instance(Enrollment, _ENROLLMENT_FIELDS, row[bounds[1]:bounds[2]])
    enrollment.project = project
    if row[bounds[2]] is None:
        return enrollment, None
    assignment = _instance(Assignment, _ASSIGNMENT_FIELDS, row[bounds[2]:bounds[3]])
    assignment.item = _instance(Item, _ITEM_FIELDS, row[bounds[3]:bounds[4]])
    assignment.project = assignment.item.project = project
    return enrollment, assignment


@cache
def _store_statement() -> str:
    quote = connection.ops.quote_name
    counters = ", ".join(f"e.{quote(c)}" for c in COUNTERS)
    return (
        # the finish is conditional: a concurrent reclaim (reserved -> expired) or a second click either wins the
        # row lock first, and then nothing here happens, or waits and finds the assignment no longer reserved
        f"WITH finished AS (UPDATE {_table(Assignment)} SET status = %s, finished_at = %s, seconds = %s "
        f"WHERE id = %s AND status = %s AND NOT EXISTS (SELECT 1 FROM {_table(Label)} l "
        f"WHERE l.item_id = {_table(Assignment)}.item_id AND l.annotator_id = {_table(Assignment)}.annotator_id) "
        f"RETURNING id, item_id, annotator_id, project_id), "
        f"labelled AS (INSERT INTO {_table(Label)} (project_id, item_id, annotator_id, assignment_id, {quote('values')},"
        f" seconds, source, created_at) SELECT project_id, item_id, annotator_id, id, %s::jsonb, %s, %s, %s "
        f"FROM finished ON CONFLICT (item_id, annotator_id) DO NOTHING RETURNING id, item_id), "
        f"counted AS (UPDATE {_table(Item)} SET labels_count = labels_count + 1 "
        f"WHERE id IN (SELECT item_id FROM labelled) RETURNING id), "
        f"bumped AS (UPDATE {_table(Enrollment)} e SET labels_done = e.labels_done + 1, "
        f"session_done = e.session_done + 1, since_control = e.since_control + 1 "
        f"WHERE e.project_id = %s AND e.annotator_id = %s AND EXISTS (SELECT 1 FROM labelled) RETURNING {counters}) "
        f"SELECT (SELECT count(*) FROM finished), (SELECT id FROM labelled), (SELECT count(*) FROM counted), "
        f"bumped.* FROM (SELECT 1) one LEFT JOIN bumped ON true"
    )


def label_store_postgres(*, assignment: Assignment, values: dict, seconds: float | None,
                         now: datetime) -> tuple[int, dict] | None:
    """Moves the task ``assignment`` from reserved to submitted, inserts its label, adds one to the item's
    ``labels_count`` and to the enrollment's ``labels_done``, ``session_done`` and ``since_control``: all or
    nothing, one statement. Returns (label id, the enrollment's counters after the write), or None, with nothing
    written, when the assignment was no longer reserved or its item already had this annotator's label (the
    caller's ORM path then sorts out which).

    For task items only: the slot was taken when the item was reserved, so no slot changes hands here."""
    params = [Assignment.Status.SUBMITTED, now, seconds, assignment.pk, Assignment.Status.RESERVED,
              json.dumps(values), seconds, Label.Source.PLATFORM, now, assignment.project_id, assignment.annotator_id]
    with connection.cursor() as cursor:
        cursor.execute(_store_statement(), params)
        finished, label_id, _counted, *counters = cursor.fetchone()
    if not finished:
        return None
    if label_id is None:
        # A label committed between this statement's snapshot and its insert (another route, e.g. an import):
        # ON CONFLICT left it alone but the assignment was finished. Put the assignment back as it was, as the
        # ORM path's rolled-back transaction would leave it; nothing else was written.
        Assignment.objects.filter(pk=assignment.pk, status=Assignment.Status.SUBMITTED).update(
            status=Assignment.Status.RESERVED, finished_at=None, seconds=None)
        return None
    return label_id, dict(zip(COUNTERS, counters, strict=True))


@cache
def _reserve_statement(bound: str) -> str:
    shown = ", ".join(_columns("t", _ITEM_FIELDS))
    return (
        # the walk ORM path's _pool_candidate takes: the partial index item_open_pool from a random offset
        # the enrollment row is share-locked at the items stage first: a move to the final stage updates that row,
        # so it waits for this reservation (and then releases it) or this one waits and finds the stage moved on
        f"WITH enrolled AS (SELECT e.id FROM {_table(Enrollment)} e WHERE e.project_id = %s AND e.annotator_id = %s "
        f"AND e.stage = %s FOR SHARE), "
        f"candidate AS (SELECT i.id FROM {_table(Item)} i "
        f"WHERE EXISTS (SELECT 1 FROM enrolled) "
        f"AND i.project_id = %s AND i.role = 'task' AND NOT i.is_full AND i.shuffle_key {bound} %s "
        f"AND NOT EXISTS (SELECT 1 FROM {_table(Assignment)} a WHERE a.item_id = i.id AND a.annotator_id = %s) "
        f"ORDER BY i.shuffle_key LIMIT 1 FOR UPDATE OF i SKIP LOCKED), "
        # the slot is taken with the same condition as _take_slot, so `taken` never passes `needed`
        f"took AS (UPDATE {_table(Item)} i SET taken = i.taken + 1, is_full = i.taken + 1 >= i.needed "
        f"FROM candidate c WHERE i.id = c.id AND i.taken < i.needed RETURNING i.*), "
        f"reserved AS (INSERT INTO {_table(Assignment)} (project_id, item_id, annotator_id, status, reserved_at, "
        f"expires_at, follows_id) SELECT %s, id, %s, %s, %s, %s, %s FROM took RETURNING id, item_id) "
        f"SELECT (SELECT count(*) FROM candidate), r.id, {shown} "
        f"FROM (SELECT 1) one LEFT JOIN (reserved r JOIN took t ON t.id = r.item_id) ON true"
    )


class SlotMissed(Exception):
    """The candidate item's last slot went to someone else between the pick and the take; nothing was written."""


def task_reserve_postgres(*, project: Project, annotator_id: int, offset: int, wrap: bool, now: datetime,
                          expires_at: datetime, follows_id: int | None = None) -> Assignment | None:
    """Reserves for ``annotator_id`` the first open task item of ``project`` they never had, walking the shuffled
    order from ``offset`` up (``wrap``: below ``offset``), and takes one of its slots: all or nothing, one
    statement. Returns the assignment with ``item`` (its row after the take) and ``project`` set; None when no such
    item is free in that stretch. Raises SlotMissed (nothing written) when the candidate had no slot left, and
    lets IntegrityError through (nothing written) when the annotator already held it, or when ``follows_id``
    already led to a reservation. Finds nothing (None) unless the annotator's enrollment is at the items stage."""
    params = [project.id, annotator_id, Enrollment.Stage.ITEMS, project.id, offset, annotator_id, project.id,
              annotator_id, Assignment.Status.RESERVED, now, expires_at, follows_id]
    with connection.cursor() as cursor:
        cursor.execute(_reserve_statement("<" if wrap else ">="), params)
        found, assignment_id, *shown = cursor.fetchone()
    if not found:
        return None
    if assignment_id is None:
        raise SlotMissed()
    item = _instance(Item, _ITEM_FIELDS, shown)
    item.project = project
    row = {"id": assignment_id, "project_id": project.id, "item_id": item.id, "annotator_id": annotator_id,
           "status": Assignment.Status.RESERVED, "reserved_at": now, "expires_at": expires_at, "finished_at": None,
           "seconds": None, "follows_id": follows_id}
    assignment = _instance(Assignment, _ASSIGNMENT_FIELDS, [row[field.attname] for field in _ASSIGNMENT_FIELDS])
    assignment.project, assignment.item = project, item
    return assignment
