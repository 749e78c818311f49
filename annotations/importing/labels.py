"""Parsers for labels collected elsewhere.

Long CSV (``labels_csv``): one row per (item, annotator, dimension)::

    item_id,annotator_id,dimension,value[,turn][,any annotator attribute columns...]

* ``value`` blank = a missing label (the row is kept so the annotator still counts).
* Per-turn dimensions: write the turn (0-based index into the dialogue's turns) either in
  the dimension as ``empathy[2]`` or in a ``turn`` column; both at once must agree.
* Every other column is an annotator attribute (country, gender, age_band, ...); blank cells
  are ignored.

EPITOME (``epitome``): the dataset's own CSV; each row's ``level`` becomes a label of the
mechanism named by the file (``emotional-reactions-reddit.csv``) by annotator ``epitome``.

Rows are yielded as ``{"line", "item_id", "annotator_id", "dimension", "turn", "value",
"attributes"}`` with ``value`` the raw text (None when blank) and ``dimension`` None when an
EPITOME file name does not say which mechanism it holds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from annotations.importing.datasets import epitome_level, epitome_mechanism_from_name, epitome_rows
from annotations.importing.errors import ImportFormatError
from annotations.importing.formats import external_id_clean
from annotations.importing.sources import csv_rows

LABEL_COLUMNS = ("item_id", "annotator_id", "dimension", "value")
EPITOME_ANNOTATOR = "epitome"
_DIMENSION_TURN = re.compile(r"^(?P<name>[^\[\]]+)\[(?P<turn>[^\[\]]*)\]$")


def parse_label_rows(lines: Iterator[str], name: str) -> Iterator[dict]:
    for number, _header, row in csv_rows(lines, name, LABEL_COLUMNS):
        item_id = external_id_clean(name, number, "item_id", row["item_id"])
        annotator_id = external_id_clean(name, number, "annotator_id", row["annotator_id"])
        dimension, turn = _dimension_and_turn(row, name, number)
        value = row["value"] if row["value"].strip() else None
        attributes = {
            k: v.strip() for k, v in row.items()
            if k and k not in LABEL_COLUMNS and k != "turn" and v.strip()
        }
        yield {"line": number, "item_id": item_id, "annotator_id": annotator_id, "dimension": dimension,
               "turn": turn, "value": value, "attributes": attributes}


def _dimension_and_turn(row: dict, name: str, number: int) -> tuple[str, int | None]:
    raw = row["dimension"].strip()
    if not raw:
        raise ImportFormatError(name, number, "dimension", "is empty")
    turn_text = None
    match = _DIMENSION_TURN.match(raw)
    if match:
        raw, turn_text = match["name"].strip(), match["turn"].strip()
    column_turn = row.get("turn", "").strip() or None
    if turn_text is not None and column_turn is not None and turn_text != column_turn:
        raise ImportFormatError(name, number, "turn", f"{column_turn!r} disagrees with dimension {row['dimension']!r}")
    turn_text = turn_text if turn_text is not None else column_turn
    if turn_text is None:
        return raw, None
    if not turn_text.isdigit():
        field = "dimension" if match else "turn"
        raise ImportFormatError(name, number, field, f"turn {turn_text!r} is not a whole number >= 0")
    return raw, int(turn_text)


def parse_epitome_labels(lines: Iterator[str], name: str) -> Iterator[dict]:
    mechanism = epitome_mechanism_from_name(name)
    for number, row in epitome_rows(lines, name):
        yield {"line": number, "item_id": row["rp_id"].strip(), "annotator_id": EPITOME_ANNOTATOR,
               "dimension": mechanism, "turn": None, "value": str(epitome_level(row, name, number)),
               "attributes": {}}
