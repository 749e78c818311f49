"""Pure import parsers (no Django): files in, plain dicts with line numbers out.

``iter_items`` and ``iter_label_rows`` are the entry points; both stream (nothing is held
but the current dialogue and the set of ids seen) and raise ``ImportFormatError`` naming
file, line and field at the first malformed line.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from annotations.importing.datasets import parse_empathetic_dialogues, parse_empathic_stories, parse_epitome
from annotations.importing.errors import ImportFormatError
from annotations.importing.formats import parse_csv, parse_jsonl, parse_turns
from annotations.importing.labels import parse_epitome_labels, parse_label_rows
from annotations.importing.sources import (
    ITEM_FORMATS,
    LABEL_FORMATS,
    detect_item_format,
    detect_label_format,
    open_lines,
    peek_header,
    source_name,
)

__all__ = ["ITEM_FORMATS", "LABEL_FORMATS", "ImportFormatError", "iter_items", "iter_label_rows"]

_ITEM_PARSERS = {
    "jsonl": parse_jsonl,
    "csv": parse_csv,
    "turns": parse_turns,
    "empathetic_dialogues": parse_empathetic_dialogues,
    "empathic_stories": parse_empathic_stories,
    "epitome": parse_epitome,
}


def iter_items(path_or_file: Any, *, fmt: str | None = None, kind: str | None = None) -> Iterator[dict]:
    """Yields parsed items (see ``formats.parsed_item``) from a path or file object.

    ``fmt`` is one of ``ITEM_FORMATS`` or None to detect it from the name and header.
    ``kind`` is the project's item kind; items of another kind are errors. Duplicate ids
    inside the file are errors (ids already stored are the caller's to check).
    """
    name = source_name(path_or_file)
    if fmt is not None and fmt not in ITEM_FORMATS:
        raise ImportFormatError(name, 0, None, f"unknown format {fmt!r} (one of {', '.join(ITEM_FORMATS)})")
    with open_lines(path_or_file) as lines:
        header, lines = peek_header(lines)
        fmt = fmt or detect_item_format(name, header)
        seen: dict[str, int] = {}
        for item in _ITEM_PARSERS[fmt](lines, name, kind):
            if kind is not None and item["kind"] != kind:
                raise ImportFormatError(name, item["line"], "kind",
                                        f"a {item['kind']} item, but the project's items are {kind!r}")
            first = seen.setdefault(item["external_id"], item["line"])
            if first != item["line"]:
                raise ImportFormatError(name, item["line"], "id",
                                        f"{item['external_id']!r} already appears on line {first}")
            yield item


def iter_label_rows(path_or_file: Any, *, fmt: str | None = None) -> Iterator[dict]:
    """Yields label rows (see ``labels``) from a long label CSV or an EPITOME file."""
    name = source_name(path_or_file)
    if fmt is not None and fmt not in LABEL_FORMATS:
        raise ImportFormatError(name, 0, None, f"unknown label format {fmt!r} (one of {', '.join(LABEL_FORMATS)})")
    with open_lines(path_or_file) as lines:
        header, lines = peek_header(lines)
        fmt = fmt or detect_label_format(name, header)
        parser = parse_epitome_labels if fmt == "epitome" else parse_label_rows
        yield from parser(lines, name)
