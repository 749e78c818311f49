"""The annotation turn: what one answer (or skip) of an annotator does, for the page, the API and the benchmarks.

A turn stores or skips the assignment on screen, applies the project's policies after an item (attention checks,
quota, breaks: ``flow.enrollment_after_item``, reading the counters the store handed back), then reserves the next
item or says why there is none. The usual turn on the page (a task item answered while its reservation holds, then
the next task item) runs four statements on PostgreSQL: the user (session auth), ``turn_context_fetch``, the store
(the label's insert, the assignment's finish, the item's and the enrollment's counters, handed back) and the next
(the pick, its reservation and the slot's take); a skip turn the same four, its store the locked assignment, its
finish, its slot given back and the enrollment's counters. The store and the next are one statement each
(data-modifying WITH, ``webapp.data.statements``), each atomic on its own, so no BEGIN and COMMIT surround them; on
SQLite the same parts run one after another, each lot in a transaction of its own (eleven statements, four
BEGIN/COMMIT).

No transaction spans the store and the next, and none needs to: once the store has committed, the turn's later
steps are derived from what is stored, so a turn cut short after it (the process died, the connection dropped)
is finished by the retry the browser or client sends: the store finds the assignment submitted and writes nothing
(the replay path), the policies read the counters again and apply what is due, and the next reservation is keyed
on the assignment answered (``follows``, unique), so every copy of the submit gets one and the same next item.

Locks: the store takes the assignment, then the item just labelled, then the enrollment; the next passes over
items others hold (SKIP LOCKED) and share-locks the enrollment. None waits on a row another annotator's turn
holds except the item just labelled, and that one before anything shared is locked, so two turns never deadlock.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from functools import cache

from django.db import connection, transaction

from annotations.models import Assignment, Enrollment, Item, Label, Project
from annotations.selectors import project_spec_cached
from annotations.services import flow
from annotations.services.notes import NoteInput, item_note_store
from annotations.services.routing import assignment_next, assignment_skip, label_submit
from webapp.data.raw_rows import instance_from_row

SKIPS = {"skip": False, "distressing": True}  # action -> whether the skip is a distressing one


@dataclass
class Turn:
    """What the annotator faces after the turn."""

    label: Label | None = None  # the label stored for the assignment (or stored first, on a replay); None for a skip
    skipped: bool = False  # the assignment was skipped by this turn (False on a replay of a skip)
    stop: str | None = None  # why no item follows: "attention", "quota", "break" or "finished"
    assignment: Assignment | None = None  # the item to show next, reserved (None with a stop, or past the items)


def annotation_turn(*, enrollment: Enrollment, assignment: Assignment, action: str = "submit",
                    raw_values: dict | None = None, seconds: float | None = None,
                    note: NoteInput | None = None) -> Turn:
    """Submits ``raw_values`` for ``assignment`` (``action`` "submit") or skips it ("skip", "distressing"), with
    the annotator's ``note`` on the item if they left one, then reserves the item that follows. SubmitError
    (answers that do not fit, a reservation lost) leaves nothing written. The store commits before the next item
    is reserved (see the module's docstring): a replay of the same turn (a double click, a retry, a resent form,
    one whose first copy stopped half way) stores nothing new, applies the policies due and gets the same next
    item back. A note is stored in one transaction with the answer or skip (the rare turn that has one pays for
    the BEGIN and COMMIT).

    ``enrollment`` is the annotator's (with ``project``), read in this request and at the work stage;
    ``assignment`` one of theirs in that project (with ``item`` and ``project``)."""
    with transaction.atomic() if note is not None else nullcontext():
        if action in SKIPS:
            label = None
            skipped = assignment_skip(assignment=assignment, distressing=SKIPS[action], seconds=seconds,
                                      enrollment=enrollment)
            # a skip hands back the counters it moved; a replay of one reads them again
            stop = flow.enrollment_after_item(enrollment=enrollment, counters_fresh=skipped)
        else:
            skipped = False
            label = label_submit(assignment=assignment, raw_values=raw_values or {}, seconds=seconds,
                                 enrollment=enrollment)
            stop = flow.enrollment_after_item(enrollment=enrollment, counters_fresh=True)
        if note is not None:
            item_note_store(assignment=assignment, note=note)
    if stop is not None:
        return Turn(label=label, skipped=skipped, stop=stop)
    following, stop = turn_next(enrollment=enrollment, resume=False, after=assignment)
    return Turn(label=label, skipped=skipped, stop=stop, assignment=following)


def turn_next(*, enrollment: Enrollment, resume: bool = True,
              after: Assignment | None = None) -> tuple[Assignment | None, str | None]:
    """The item the annotator faces now and None, or None and why there is none: "break" (a pause is due) or
    "finished" (nothing is left for them: the work stage ends here). (None, None) when the enrollment is past the
    work stage. ``resume``: the reservation they hold comes first; ``after``: the assignment just answered (see
    ``routing.assignment_next``)."""
    if enrollment.stage != Enrollment.Stage.WORK:
        return None, None
    if enrollment.break_until is not None:
        return None, "break"
    assignment = assignment_next(enrollment=enrollment, resume=resume, after=after)
    if assignment is None:
        flow.enrollment_items_finished(enrollment=enrollment)
        if enrollment.stage == Enrollment.Stage.WORK:  # a reservation landed meanwhile: show it
            assignment = assignment_next(enrollment=enrollment, resume=True)
        if assignment is None:
            return None, "finished"
    return assignment, None


# The project's spec comes from the per-process cache, not from each row.
_PROJECT_FIELDS = [field for field in Project._meta.concrete_fields if field.attname != "spec"]
_ENROLLMENT_FIELDS = list(Enrollment._meta.concrete_fields)
_ASSIGNMENT_FIELDS = list(Assignment._meta.concrete_fields)
_ITEM_FIELDS = list(Item._meta.concrete_fields)
_PARTS = (_PROJECT_FIELDS, _ENROLLMENT_FIELDS, _ASSIGNMENT_FIELDS, _ITEM_FIELDS)
_BOUNDS = [sum(len(part) for part in _PARTS[:index]) for index in range(len(_PARTS) + 1)]


@cache
def _context_statement() -> str:
    quote = connection.ops.quote_name

    def columns(alias: str, fields: list) -> list[str]:
        return [f"{alias}.{quote(field.column)}" for field in fields]

    def table(model) -> str:
        return quote(model._meta.db_table)

    selected = (columns("p", _PROJECT_FIELDS) + columns("e", _ENROLLMENT_FIELDS) + columns("a", _ASSIGNMENT_FIELDS)
                + columns("i", _ITEM_FIELDS))
    return (
        f"SELECT {', '.join(selected)} FROM {table(Project)} p "
        f"JOIN {table(Enrollment)} e ON e.project_id = p.id AND e.annotator_id = %s "
        f"LEFT JOIN {table(Assignment)} a ON a.id = %s AND a.annotator_id = e.annotator_id AND a.project_id = p.id "
        f"LEFT JOIN {table(Item)} i ON i.id = a.item_id "
        f"WHERE p.slug = %s AND p.is_open"
    )


def turn_context_fetch(*, annotator_id: int, slug: str, assignment_id: int) -> tuple[Enrollment | None,
                                                                                   Assignment | None]:
    """The annotator's enrollment in the open project ``slug`` (with ``project``, its spec from the cache) and
    their assignment ``assignment_id`` in it (with ``item`` and ``project``), in one statement: what a turn needs.

    (None, None) when the project is not open or the annotator not enrolled; (enrollment, None) when the
    assignment is not theirs. The project's spec is the cached one: read it, never change it."""
    with connection.cursor() as cursor:
        cursor.execute(_context_statement(), [annotator_id, assignment_id, slug])
        row = cursor.fetchone()
    if row is None:
        return None, None
    project, enrollment, assignment, item = (
        instance_from_row(model, fields, row[_BOUNDS[index]:_BOUNDS[index + 1]]) if row[_BOUNDS[index]] is not None
        else None
        for index, (model, fields) in enumerate(zip((Project, Enrollment, Assignment, Item), _PARTS, strict=True)))
    project.spec = project_spec_cached(project_id=project.id, spec_hash=project.spec_hash)
    enrollment.project = project
    if assignment is None:
        return enrollment, None
    assignment.item = item
    assignment.project = item.project = project
    return enrollment, assignment
