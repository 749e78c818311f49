"""Parsers for the platform's own item formats: JSONL, plain CSV and turn-level conversation CSV.

Each parser takes an iterator of text lines and yields parsed items lazily::

    {"line": int, "external_id": str, "kind": str, "data": dict, "metadata": dict,
     "gold": dict | None, "attention_check": dict | None}

``gold`` / ``attention_check`` carry the expected {dimension: value} answers when a line
marks the item as a gold item or an attention check (checked later against the spec).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from annotations.importing.errors import ImportFormatError
from annotations.importing.items import KIND_FIELDS, ItemDataError, item_data_from_mapping
from annotations.importing.sources import (
    DIALOG_ID_COLUMNS,
    SPEAKER_COLUMNS,
    TEXT_COLUMNS,
    TURN_COLUMNS,
    csv_rows,
    pick_column,
)
from webapp.data.unstorable import json_problem

_RESERVED = ("id", "kind", "metadata", "gold", "attention_check")


def parsed_item(*, line: int, external_id: str, kind: str, data: dict, metadata: dict,
                gold: dict | None = None, attention_check: dict | None = None) -> dict:
    return {
        "line": line, "external_id": external_id, "kind": kind, "data": data, "metadata": metadata,
        "gold": gold, "attention_check": attention_check,
    }


def external_id_clean(name: str, line: int, field: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ImportFormatError(name, line, field, "an id is text or a whole number")
    text = str(value).strip()
    if not text:
        raise ImportFormatError(name, line, field, "is empty")
    if len(text) > 200:
        raise ImportFormatError(name, line, field, "is longer than 200 characters")
    return text


def parse_jsonl(lines: Iterator[str], name: str, kind: str | None) -> Iterator[dict]:
    """One JSON object a line: ``id`` plus the kind's fields; other keys become metadata."""
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ImportFormatError(name, number, None, f"not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(obj, dict):
            raise ImportFormatError(name, number, None, "each line must be a JSON object")
        problem = json_problem(obj)
        if problem is not None:
            raise ImportFormatError(name, number, None, f"{problem}, which cannot be stored")
        yield _item_from_mapping(obj, name, number, kind)


def _item_from_mapping(obj: dict, name: str, number: int, kind: str | None) -> dict:
    if "id" not in obj:
        raise ImportFormatError(name, number, "id", "is required")
    external_id = external_id_clean(name, number, "id", obj["id"])
    declared = obj.get("kind")
    if declared is not None and kind is not None and declared != kind:
        raise ImportFormatError(name, number, "kind", f"{declared!r} but the project's items are {kind!r}")
    fields = {k: v for k, v in obj.items() if k not in _RESERVED}
    try:
        data, metadata = item_data_from_mapping(kind or declared, fields)
    except ItemDataError as exc:
        raise ImportFormatError(name, number, exc.field, exc.message) from None
    extra_meta = obj.get("metadata")
    if extra_meta is not None:
        if not isinstance(extra_meta, dict):
            raise ImportFormatError(name, number, "metadata", "must be an object")
        metadata = {**extra_meta, **metadata}
    answers = {}
    for key in ("gold", "attention_check"):
        value = obj.get(key)
        if value is not None and not isinstance(value, dict):
            raise ImportFormatError(name, number, key, "must be an object {dimension: value}")
        answers[key] = value or None
    inferred = kind or declared or _kind_of(data)
    return parsed_item(line=number, external_id=external_id, kind=inferred, data=data, metadata=metadata,
                       gold=answers["gold"], attention_check=answers["attention_check"])


def _kind_of(data: dict) -> str:
    return next(k for k, fields in KIND_FIELDS.items() if set(fields) == set(data))


def parse_csv(lines: Iterator[str], name: str, kind: str | None) -> Iterator[dict]:
    """A header row with ``id`` plus the kind's columns; other non-empty cells become metadata.

    Dialogues need one row per turn: use the turn-level format instead.
    """
    for number, header, row in csv_rows(lines, name):
        if "id" not in header:
            raise ImportFormatError(name, 1, "id", "the header needs an id column")
        if kind == "dialogue" or "turns" in header:
            raise ImportFormatError(name, 1, "turns", "dialogues are imported from JSONL or a turn-level "
                                    "CSV (dialog_id, turn, speaker, text)")
        mapping = {k: v for k, v in row.items() if k and (v != "" or k in _all_text_fields())}
        gold = _json_cell(mapping, "gold", name, number)
        check = _json_cell(mapping, "attention_check", name, number)
        item = _item_from_mapping(mapping, name, number, kind)
        item["gold"], item["attention_check"] = gold, check
        yield item


def _all_text_fields() -> set[str]:
    return {f for fields in KIND_FIELDS.values() for f in fields}


def _json_cell(mapping: dict, key: str, name: str, number: int) -> dict | None:
    raw = mapping.pop(key, None)
    if raw is None or raw == "":
        return None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise ImportFormatError(name, number, key, 'must hold a JSON object such as {"empathy": 3}')
    return value


def parse_turns(lines: Iterator[str], name: str, kind: str | None) -> Iterator[dict]:
    """Turn-level conversation CSV: one row per turn, rows of one dialogue together.

    Columns (first matching name wins, case-insensitive): dialogue id (dialog_id, dialogue_id,
    conversation_id, conv_id), optional turn number (turn, turn_id, turn_idx, utterance_idx),
    speaker (speaker, speaker_id, role), text (text, utterance, content). Turns are ordered by
    the turn number when there is one; other cells are kept on the turn as metadata.
    """
    if kind not in (None, "dialogue"):
        raise ImportFormatError(name, 1, None, f"a turn-level CSV holds dialogues, but the project's items are {kind!r}")
    rows = csv_rows(lines, name)
    group: list[tuple[int, dict]] = []
    columns: tuple[str, str | None, str, str] | None = None
    finished: set[str] = set()
    for number, header, row in rows:
        if columns is None:
            columns = _turn_columns(header, name)
        dialog_col = columns[0]
        dialog_id = external_id_clean(name, number, dialog_col, row[dialog_col])
        if group and dialog_id != group[0][1][dialog_col].strip():
            yield _dialogue_from_rows(group, columns, name)
            finished.add(group[0][1][dialog_col].strip())
            group = []
        if not group and dialog_id in finished:
            raise ImportFormatError(name, number, dialog_col, f"dialogue {dialog_id!r} continues after other "
                                    "dialogues; keep each dialogue's rows together")
        group.append((number, row))
    if group:
        yield _dialogue_from_rows(group, columns, name)


def _turn_columns(header: list[str], name: str) -> tuple[str, str | None, str, str]:
    found = []
    for label, candidates in (("dialog id", DIALOG_ID_COLUMNS), ("turn", TURN_COLUMNS),
                              ("speaker", SPEAKER_COLUMNS), ("text", TEXT_COLUMNS)):
        column = pick_column(header, candidates)
        if column is None and label != "turn":
            raise ImportFormatError(name, 1, label, f"no {label} column (one of {', '.join(candidates)})")
        found.append(column)
    return found[0], found[1], found[2], found[3]


def _dialogue_from_rows(group: list[tuple[int, dict]], columns: tuple, name: str) -> dict:
    dialog_col, turn_col, speaker_col, text_col = columns
    turns, seen_numbers = [], {}
    for number, row in group:
        order = len(turns)
        if turn_col is not None:
            try:
                order = float(row[turn_col])
            except ValueError:
                raise ImportFormatError(name, number, turn_col, f"{row[turn_col]!r} is not a number") from None
            if order in seen_numbers:
                raise ImportFormatError(name, number, turn_col,
                                        f"turn {row[turn_col]} already appears on line {seen_numbers[order]}")
            seen_numbers[order] = number
        speaker, text = row[speaker_col].strip(), row[text_col]
        if not speaker:
            raise ImportFormatError(name, number, speaker_col, "is empty")
        if not text.strip():
            raise ImportFormatError(name, number, text_col, "is empty")
        extra = {k: v for k, v in row.items() if k not in columns and k and v != ""}
        turn = {"speaker": speaker, "text": text}
        if extra:
            turn["metadata"] = extra
        turns.append((order, turn))
    turns.sort(key=lambda pair: pair[0])
    first_line = group[0][0]
    return parsed_item(line=first_line, external_id=group[0][1][dialog_col].strip(), kind="dialogue",
                       data={"turns": [t for _, t in turns]}, metadata={})
