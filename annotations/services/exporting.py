"""Label export: JSONL or CSV, one row per label, streamed in constant memory, with a manifest.

Row columns (the same on every row, so ``datasets.load_dataset("json", ...)`` infers one type
per column):

    label_id (int), project (str), item_id (str), item_kind (str),
    the item's fields: text | text_a, text_b | context, response | turns ([{speaker, text}]),
    item_metadata (JSON text: metadata differs between items, a text column keeps one type),
    annotator (the pseudonym), annotator_<attribute> (text or null; only when the spec's
    export.allow_attributes is true), source ("platform" | "import"), created_at (ISO 8601),
    seconds (float or null), then one column per dimension: int for likert/levels, float for
    slider/number, the declared choice type for choice, str for text, null when missing; a
    per-turn dimension is a list with one entry per turn (null where unrated).

In CSV, lists (turns, per-turn values) are JSON text. The manifest (``PATH.manifest.json``)
records the project, spec hash, format, aggregation, counts, columns and time.

With ``aggregate`` other than ``none`` the rows are those of
``annotations.agreement.aggregate.aggregate_rows`` (one per item or turn and dimension); that
needs every label in memory at once, unlike the plain export.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from itertools import islice
from typing import IO, Any

from django.db import connection
from django.db.models import CharField, F
from django.db.models.expressions import RawSQL

from annotations.agreement.load import project_annotator_attribute_table
from annotations.importing.items import KIND_FIELDS
from annotations.models import ItemKind, Label, Project
from webapp.data.csvsafe import csv_cell_neutralised
from webapp.people.surveys import ATTRIBUTE_NAMES

FORMATS = ("jsonl", "csv")
AGGREGATES = ("none", "mean", "median", "majority", "distribution", "weighted")
CHUNK_SIZE = 5000
ITEM_CACHE = 50_000


def labels_export(*, project: Project, out: Any, fmt: str, aggregate: str = "none") -> dict:
    """Writes the project's labels to ``out`` (a path, or a text file object) and returns the manifest.

    For a path the manifest is also written beside it as ``<path>.manifest.json``. Reads with
    a server-side cursor in chunks of ``CHUNK_SIZE``; memory stays flat for any number of
    labels when ``aggregate`` is ``none``. Raises ``ValueError`` for an unknown format or method.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if aggregate not in AGGREGATES:
        raise ValueError(f"aggregate must be one of {', '.join(AGGREGATES)}, not {aggregate!r}")
    started = datetime.now(UTC)
    if aggregate == "none":
        columns, rows, counts = _label_rows(project, fmt)
    else:
        columns, rows, counts = _aggregate_rows(project, aggregate)
    if isinstance(out, str | os.PathLike):
        with open(out, "w", encoding="utf-8", newline="") as handle:
            written = _write(handle, fmt, columns, rows)
    else:
        written = _write(out, fmt, columns, rows)
    manifest = {
        "project": project.slug,
        "spec_hash": project.spec_hash,
        "format": fmt,
        "aggregate": aggregate,
        "rows": written,
        **counts,
        "columns": columns,
        "exported_at": started.isoformat(),
        "seconds": round((datetime.now(UTC) - started).total_seconds(), 3),
    }
    if isinstance(out, str | os.PathLike):
        with open(f"{os.fspath(out)}.manifest.json", "w", encoding="utf-8") as handle:
            json.dump(manifest, handle, indent=2, ensure_ascii=False)
    return manifest


# ---------------------------------------------------------------------------------------------
# one row per label


def _annotators(project: Project, allow_attributes: bool) -> tuple[dict[int, tuple], list[str]]:
    """user id -> (pseudonym, attribute values in column order); annotators are few next to labels."""
    users = [(uid, pseudonym, attrs) for uid, (pseudonym, attrs)
             in project_annotator_attribute_table(project=project).items()]
    keys: list[str] = []
    if allow_attributes:
        present = {k for _, _, attrs in users for k in (attrs or {})}
        # the demographic survey's order first, then the rest alphabetically
        keys = [k for k in ATTRIBUTE_NAMES if k in present] + sorted(present - set(ATTRIBUTE_NAMES))
    table = {uid: (pseudonym, tuple(_attribute_text((attrs or {}).get(k)) for k in keys))
             for uid, pseudonym, attrs in users}
    return table, keys


def _attribute_text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else str(value)


def _label_rows(project: Project, fmt: str) -> tuple[list[str], Iterator[Any], dict]:
    """Columns, rows already encoded for ``fmt`` (JSONL: one JSON text per label; CSV: a list of
    cells), and counts filled in once the rows are consumed. Each item's and each annotator's
    part is encoded once and reused: items are cached per chunk of labels, at most
    ``ITEM_CACHE`` at a time, so memory stays flat however many labels there are."""
    spec = project.spec
    dims = spec.get("dimensions", [])
    annotators, attribute_keys = _annotators(project, bool((spec.get("export") or {}).get("allow_attributes")))
    item_fields = list(KIND_FIELDS[project.kind])
    columns = (
        ["label_id", "project", "item_id", "item_kind", *item_fields, "item_metadata", "annotator"]
        + [f"annotator_{k}" for k in attribute_keys]
        + ["source", "created_at", "seconds"]
        + [d["name"] for d in dims]
    )
    counts = {"labels": 0, "annotators": len(annotators), "items": 0}
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    as_json = fmt == "jsonl"

    def item_part(external_id: str, data: dict, metadata: dict) -> Any:
        fields = {"item_id": external_id, "item_kind": project.kind, **_item_fields(item_fields, data, metadata)}
        return dumps(fields)[1:-1] if as_json else list(fields.values())

    def annotator_part(pseudonym: str, attributes: tuple) -> Any:
        fields = {"annotator": pseudonym, **{f"annotator_{k}": v for k, v in zip(attribute_keys, attributes, strict=True)}}
        return dumps(fields)[1:-1] if as_json else list(fields.values())

    converters = [(d["name"], _converter(d), bool(d.get("per_turn"))) for d in dims]
    people = {uid: annotator_part(pseudonym, attrs) for uid, (pseudonym, attrs) in annotators.items()}
    slug_part = dumps(project.slug)

    def rows() -> Iterator[Any]:
        queryset = (
            Label.objects.filter(project=project).order_by("id").annotate(created_text=_created_text())
            .values_list("id", "item_id", "annotator_id", "values", "source", "created_text", "seconds")
        )
        labels = queryset.iterator(chunk_size=CHUNK_SIZE)
        items: dict[int, tuple[Any, int]] = {}
        items_seen: set[int] = set()
        while chunk := list(islice(labels, CHUNK_SIZE)):
            missing = {row[1] for row in chunk} - items.keys()
            if len(items) + len(missing) > ITEM_CACHE:
                items.clear()
                missing = {row[1] for row in chunk}
            for pk, external_id, data, metadata in project.items.filter(id__in=missing).values_list(
                "id", "external_id", "data", "metadata"
            ):
                turns = len(data.get("turns", ())) if project.kind == ItemKind.DIALOGUE else 0
                items[pk] = (item_part(external_id, data, metadata), turns)
            for label_id, item_pk, annotator_id, values, source, created_at, seconds in chunk:
                items_seen.add(item_pk)
                part, turns = items[item_pk]
                values = values or {}
                dim_values = {name: _per_turn(convert, values.get(name), turns) if per_turn else
                              (None if values.get(name) is None else convert(values[name]))
                              for name, convert, per_turn in converters}
                seconds = float(seconds) if seconds is not None else None
                counts["labels"] += 1
                if as_json:
                    yield "".join((
                        '{"label_id":', str(label_id), ',"project":', slug_part, ",", part, ",",
                        people[annotator_id], ',"source":', dumps(source), ',"created_at":"', _iso(created_at),
                        '","seconds":', "null" if seconds is None else repr(seconds), ",", dumps(dim_values)[1:], "\n",
                    ))
                else:
                    yield [label_id, project.slug, *part, *people[annotator_id], source, _iso(created_at),
                           seconds, *dim_values.values()]
        counts["items"] = len(items_seen)

    return columns, rows(), counts


def _created_text():
    """created_at as ISO 8601 text made by PostgreSQL (parsing a datetime per row costs more than the
    rest of the row); other databases hand back datetimes that ``_iso`` formats."""
    if connection.vendor == "postgresql":
        return RawSQL("""to_char(annotations_label.created_at AT TIME ZONE 'UTC', """
                      """'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')""", (), output_field=CharField())
    return F("created_at")


def _iso(value: Any) -> str:
    return value if isinstance(value, str) else value.isoformat()


def _converter(dim: dict):
    """The function giving one dimension's values their single export type (see ``_typed``)."""
    kind = dim["type"]
    if kind in ("likert", "levels"):
        return lambda v: int(round(float(v)))
    if kind in ("slider", "number"):
        return float
    if kind == "text":
        return str
    return lambda v: _typed(dim, v)


def _per_turn(convert, value: Any, turns: int) -> list:
    per_turn = value if isinstance(value, dict) else {}
    out = []
    for i in range(turns):
        v = per_turn.get(str(i))
        out.append(None if v is None else convert(v))
    return out


def _item_fields(fields: list[str], data: dict, metadata: dict) -> dict:
    out = {}
    turn_metadata = None
    for field in fields:
        if field == "turns":
            turns = data.get("turns", [])
            out["turns"] = [{"speaker": str(t.get("speaker", "")), "text": t.get("text", "")} for t in turns]
            if any("metadata" in t for t in turns):
                turn_metadata = [t.get("metadata") for t in turns]
        else:
            out[field] = data.get(field)
    meta = dict(metadata or {})
    if turn_metadata is not None:
        meta["turns_metadata"] = turn_metadata
    out["item_metadata"] = json.dumps(meta, ensure_ascii=False, sort_keys=True)
    return out


def _typed(dim: dict, value: Any) -> Any:
    """One JSON type per dimension whatever was stored (3 and 3.0 must not meet in one column)."""
    if value is None:
        return None
    kind = dim["type"]
    if kind in ("likert", "levels"):
        return int(round(float(value)))
    if kind in ("slider", "number"):
        return float(value)
    if kind == "choice":
        declared = [c["value"] for c in dim.get("choices", [])]
        if declared and all(isinstance(v, str) for v in declared):
            return str(value)
        if any(isinstance(v, float) for v in declared):
            return float(value)
        return int(value) if float(value).is_integer() else float(value)
    return str(value)


# ---------------------------------------------------------------------------------------------
# aggregated rows


def _aggregate_rows(project: Project, method: str) -> tuple[list[str], Iterator[dict], dict]:
    """Rows of ``annotations.agreement.aggregate.aggregate_rows`` with the item's own fields beside each,
    so an aggregated file trains without a join: text | text_a, text_b | context, response | turns (and
    ``turn_text`` for a per-turn unit), then ``item_metadata``."""
    import pandas as pd

    from annotations.agreement.aggregate import aggregate_rows

    dims = [d for d in project.spec.get("dimensions", []) if d["type"] != "text"]
    columns = ["item", "unit", "turn", "dimension", "annotator", "value"]
    values = list(_long_label_values(project, dims))
    frame = pd.DataFrame(values, columns=columns)
    # an object column keeps each dimension's type (an int choice beside a float slider stays int)
    frame["value"] = pd.Series([row[5] for row in values], dtype=object)
    counts = {"labels": int(frame[["item", "annotator"]].drop_duplicates().shape[0]) if len(frame) else 0,
              "annotators": int(frame["annotator"].nunique()), "items": int(frame["item"].nunique())}
    item_fields = list(KIND_FIELDS[project.kind])
    items = {
        external_id: _item_fields(item_fields, data, metadata)
        for external_id, data, metadata in project.items.filter(
            external_id__in=set(frame["item"])
        ).values_list("external_id", "data", "metadata").iterator(chunk_size=CHUNK_SIZE)
    } if len(frame) else {}
    rows = []
    for row in aggregate_rows(frame, method, dimensions=dims) if len(frame) else ():
        row = _json_safe(row)
        fields = items[row["item"]]
        extra = {}
        if project.kind == ItemKind.DIALOGUE:
            turn = row.get("turn")
            turns = fields["turns"]
            extra["turn_text"] = turns[turn]["text"] if turn is not None and 0 <= turn < len(turns) else None
        head = {"project": project.slug} if method != "none" else {}
        rows.append({**head, "item": row["item"], "unit": row["unit"], "turn": row["turn"], **fields, **extra,
                     **{k: v for k, v in row.items() if k not in ("item", "unit", "turn")}})
    if rows:
        columns = list(rows[0])
    else:
        columns = ["project", "item", "unit", "turn", *item_fields, "item_metadata", "dimension", "method",
                   "value", "n_labels"]
    return columns, iter(rows), counts


def _long_label_values(project: Project, dims: list[dict]) -> Iterator[tuple]:
    """(item, unit, turn, dimension, annotator, value): one tuple per stored value; units of a
    per-turn dimension are ``<item id>[<turn>]``."""
    names = {d["name"]: d for d in dims}
    queryset = (
        Label.objects.filter(project=project).order_by("id")
        .values_list("item__external_id", "annotator__pseudonym", "values")
    )
    for external_id, pseudonym, values in queryset.iterator(chunk_size=CHUNK_SIZE):
        for name, value in (values or {}).items():
            dim = names.get(name)
            if dim is None or value is None:
                continue
            if dim.get("per_turn") and isinstance(value, dict):
                for turn, turn_value in value.items():
                    if turn_value is not None:
                        yield external_id, f"{external_id}[{turn}]", int(turn), name, pseudonym, _typed(dim, turn_value)
            else:
                yield external_id, external_id, None, name, pseudonym, _typed(dim, value)


def _json_safe(row: dict) -> dict:
    out = {}
    for key, value in row.items():
        if hasattr(value, "item") and not isinstance(value, list | dict | str):
            value = value.item()
        out[key] = value
    return out


# ---------------------------------------------------------------------------------------------
# writers


def _write(handle: IO[str], fmt: str, columns: list[str], rows: Iterable[Any]) -> int:
    """Rows are dicts (aggregated), JSON lines (plain JSONL) or lists of cells (plain CSV)."""
    written = 0
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    writer = csv.writer(handle) if fmt == "csv" else None
    if writer is not None:
        writer.writerow(columns)
    for row in rows:
        if isinstance(row, str):
            handle.write(row)
        elif writer is None:
            handle.write(dumps(row) + "\n")
        else:
            cells = [row.get(column) for column in columns] if isinstance(row, dict) else row
            writer.writerow([_csv_cell(cell) for cell in cells])
        written += 1
    return written


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return csv_cell_neutralised(json.dumps(value, ensure_ascii=False))
    return csv_cell_neutralised(value)
