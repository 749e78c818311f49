"""Annotators' notes on items: a flag (something is wrong with the item) and/or a comment, given with an answer
or a skip and stored in the same turn; and the notes as researchers read and download them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from django.utils.translation import gettext

from annotations.models import Assignment, ItemNote, Project
from annotations.services.routing import SubmitError
from webapp.data.csvsafe import csv_cell_neutralised

FORM_FLAG, FORM_COMMENT = "note_flag", "note_comment"
CSV_HEADER = ["item", "annotator", "flag", "comment", "answer", "at"]
ANSWERS = {Assignment.Status.SUBMITTED: "labelled", Assignment.Status.SKIPPED: "skipped",
           Assignment.Status.DISTRESSING: "skipped as distressing"}


@dataclass(frozen=True)
class NoteInput:
    flag: str
    comment: str


def note_parse(*, flag: object = "", comment: object = "") -> NoteInput | None:
    """The note as given, or None when there is none; SubmitError under ``note`` for a flag that is not one of
    ItemNote.Flag, a comment over ItemNote.COMMENT_MAX characters or with a NUL byte (nothing is stored then)."""
    flag = "" if flag is None else str(flag).strip()
    comment = "" if comment is None else str(comment).strip()
    if flag not in ItemNote.Flag.values:
        choices = ", ".join(repr(value) for value in ItemNote.Flag.values if value)
        raise SubmitError({"note": f"flag {flag!r} is not one of {choices} (or empty)"})
    if len(comment) > ItemNote.COMMENT_MAX:
        raise SubmitError({"note": gettext("the comment has %(length)d characters; at most %(limit)d")
                           % {"length": len(comment), "limit": ItemNote.COMMENT_MAX}})
    if "\x00" in comment:
        raise SubmitError({"note": "the comment contains a NUL byte"})
    return NoteInput(flag=flag, comment=comment) if flag or comment else None


def note_from_form(form: Mapping) -> NoteInput | None:
    return note_parse(flag=form.get(FORM_FLAG, ""), comment=form.get(FORM_COMMENT, ""))


def item_note_store(*, assignment: Assignment, note: NoteInput) -> ItemNote:
    """Stores ``note`` for ``assignment`` (with ``item`` and ``project``); a replay keeps the note stored first."""
    stored, _ = ItemNote.objects.get_or_create(
        assignment=assignment,
        defaults={"project_id": assignment.project_id, "item_id": assignment.item_id,
                  "annotator_id": assignment.annotator_id, "flag": note.flag, "comment": note.comment})
    return stored


def notes_of_project(*, project: Project, item_id: int | None = None):
    notes = ItemNote.objects.filter(project=project).select_related("item", "annotator", "assignment")
    return (notes.filter(item_id=item_id) if item_id is not None else notes).order_by("item__external_id", "id")


def notes_csv_rows(*, project: Project) -> Iterator[list[str]]:
    """The header, then one row per note: item id, annotator pseudonym, flag, comment, what they did with the item
    (labelled / skipped / skipped as distressing), when. Cells a spreadsheet would run as formulas are
    neutralised."""
    yield CSV_HEADER
    for note in notes_of_project(project=project):
        answer = ANSWERS.get(note.assignment.status, note.assignment.status)
        yield [csv_cell_neutralised(value) for value in (note.item.external_id, note.annotator.pseudonym, note.flag,
                                             note.comment, answer, note.created_at.isoformat())]
