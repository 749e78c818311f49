"""Opening import files lazily, from a path or an uploaded file, and sniffing their format."""

from __future__ import annotations

import codecs
import csv
import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from annotations.importing.errors import ImportFormatError
from webapp.data.unstorable import text_problem

# Stories and posts exceed csv's default 128 KiB cell limit now and then.
csv.field_size_limit(2**31 - 1)

ITEM_FORMATS = ("jsonl", "csv", "empathetic_dialogues", "empathic_stories", "epitome", "turns")
LABEL_FORMATS = ("labels_csv", "epitome")

DIALOG_ID_COLUMNS = ("dialog_id", "dialogue_id", "conversation_id", "conv_id", "conversation")
TURN_COLUMNS = ("turn", "turn_id", "turn_idx", "turn_index", "utterance_idx", "turn_number")
SPEAKER_COLUMNS = ("speaker", "speaker_id", "role", "speaker_idx", "author")
TEXT_COLUMNS = ("text", "utterance", "content", "message")


def source_name(path_or_file: Any) -> str:
    """The name errors should show for a path or a file object."""
    if isinstance(path_or_file, str | os.PathLike):
        return os.path.basename(os.fspath(path_or_file))
    return os.path.basename(str(getattr(path_or_file, "name", "") or "<upload>"))


@contextmanager
def open_lines(path_or_file: Any) -> Iterator[Iterator[str]]:
    """Yields an iterator of text lines (newlines kept), decoding UTF-8 with or without BOM line by line, so a bad
    byte or a NUL character is reported on its own line."""
    name = source_name(path_or_file)
    if isinstance(path_or_file, str | os.PathLike):
        with open(path_or_file, "rb") as handle:
            yield _decoded(handle, name)
        return
    handle: IO = path_or_file
    if hasattr(handle, "seek") and getattr(handle, "seekable", lambda: False)():
        handle.seek(0)
    probe = handle.read(0)
    yield _decoded(handle, name) if isinstance(probe, bytes) else _checked(handle, name)


def _decoded(handle: IO[bytes], name: str) -> Iterator[str]:
    for number, raw in enumerate(handle, start=1):
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8):]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ImportFormatError(name, number, None,
                                    f"not UTF-8 text ({exc.reason} at byte {exc.start + 1} of the line)") from None
        yield _stored_text(text, name, number)


def _checked(handle: IO[str], name: str) -> Iterator[str]:
    for number, text in enumerate(handle, start=1):
        yield _stored_text(text, name, number)


def _stored_text(text: str, name: str, number: int) -> str:
    problem = text_problem(text)
    if problem is not None:
        raise ImportFormatError(name, number, None, f"the line {problem}, which cannot be stored")
    return text


def peek_header(lines: Iterator[str]) -> tuple[str, Iterator[str]]:
    """The first line, and an iterator that still yields it first."""
    first = next(lines, "")
    return first, itertools.chain([first], lines)


def csv_columns(header_line: str) -> list[str]:
    row = next(csv.reader([header_line]), [])
    return [c.strip() for c in row]


def detect_item_format(name: str, header_line: str) -> str:
    """Picks an item format from the file name's extension and its first line."""
    lower = name.lower()
    if lower.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if header_line.lstrip().startswith("{"):
        return "jsonl"
    columns = {c.lower() for c in csv_columns(header_line)}
    if {"conv_id", "utterance_idx", "speaker_idx", "utterance"} <= columns:
        return "empathetic_dialogues"
    if {"sp_id", "rp_id", "seeker_post", "response_post"} <= columns:
        return "epitome"
    if {"story_a", "story_b"} <= columns:
        return "empathic_stories"
    if (
        columns & set(DIALOG_ID_COLUMNS)
        and columns & set(SPEAKER_COLUMNS)
        and columns & set(TEXT_COLUMNS)
    ):
        return "turns"
    if lower.endswith((".csv", ".tsv")) or "," in header_line:
        return "csv"
    raise ImportFormatError(name, 1, None, "cannot tell the format; pass --format")


def detect_label_format(name: str, header_line: str) -> str:
    columns = {c.lower() for c in csv_columns(header_line)}
    if {"sp_id", "rp_id", "level"} <= columns:
        return "epitome"
    return "labels_csv"


def csv_rows(
    lines: Iterator[str], name: str, required: tuple[str, ...] = ()
) -> Iterator[tuple[int, list[str], dict[str, str]]]:
    """Yields (line number where the record starts, header, row dict); ragged rows are errors.

    ``required`` columns missing from the header are an error even when no row follows.
    """
    # strict: a quote left open is an error at the record it opened, not a cell that swallows the rows below it
    reader = csv.reader(lines, strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise ImportFormatError(name, 1, None, "the file is empty") from None
    except csv.Error as exc:
        raise ImportFormatError(name, 1, None, f"bad CSV header ({exc})") from None
    if len(set(header)) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise ImportFormatError(name, 1, dup, "column appears twice in the header")
    for column in required:
        if column not in header:
            raise ImportFormatError(name, 1, column, f"missing from the header (need {', '.join(required)})")
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            hint = "; a quoted cell opened on this line is never closed" if "end of data" in str(exc) else ""
            raise ImportFormatError(name, start, None, f"bad CSV ({exc}{hint})") from None
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != len(header):
            raise ImportFormatError(name, start, None, f"{len(row)} cells but the header has {len(header)}")
        yield start, header, dict(zip(header, row, strict=True))


def pick_column(header: list[str], candidates: tuple[str, ...]) -> str | None:
    """The header's name for the first candidate present (case-insensitive)."""
    lowered = {h.lower(): h for h in header}
    for candidate in candidates:
        if candidate in lowered:
            return lowered[candidate]
    return None
