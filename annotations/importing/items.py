"""Item shapes per kind: which fields make the item's ``data`` and which are metadata.

    narrative  {"text": str}
    pair       {"text_a": str, "text_b": str}
    dialogue   {"turns": [{"speaker": str, "text": str}, ...]}
    response   {"context": str, "response": str}
"""

from __future__ import annotations

from typing import Any

ITEM_KINDS = ("narrative", "pair", "dialogue", "response")
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "narrative": ("text",),
    "pair": ("text_a", "text_b"),
    "dialogue": ("turns",),
    "response": ("context", "response"),
}
_ALL_FIELDS = {f for fields in KIND_FIELDS.values() for f in fields}


class ItemDataError(ValueError):
    """One field of an item is wrong; ``field`` names it (``turns[2].text``)."""

    def __init__(self, field: str, message: str):
        self.field, self.message = field, message
        super().__init__(f"{field}: {message}")


def item_kind_infer(mapping: dict) -> str | None:
    """The kind whose fields a mapping carries, or None when it carries none."""
    for kind in ("dialogue", "pair", "response", "narrative"):
        if any(f in mapping for f in KIND_FIELDS[kind]):
            return kind
    return None


def item_data_from_mapping(kind: str | None, mapping: dict[str, Any]) -> tuple[dict, dict]:
    """Splits a mapping into (data, metadata) for ``kind`` (inferred when None).

    Keys of the kind become ``data`` (checked: non-empty text, turns with speaker and text);
    every other key is kept as metadata. Raises ``ItemDataError``.
    """
    if kind is None:
        kind = item_kind_infer(mapping)
        if kind is None:
            raise ItemDataError("text", "no item text (expected text, text_a/text_b, turns or context/response)")
    wanted = KIND_FIELDS[kind]
    stray = sorted(f for f in _ALL_FIELDS if f in mapping and f not in wanted)
    if stray:
        raise ItemDataError(stray[0], f"not a field of a {kind} item (expected {', '.join(wanted)})")
    data: dict[str, Any] = {}
    for field in wanted:
        if field == "turns":
            data["turns"] = turns_clean(mapping.get("turns"))
        else:
            data[field] = _text(field, mapping.get(field))
    metadata = {k: v for k, v in mapping.items() if k not in wanted}
    return data, metadata


def turns_clean(raw: Any) -> list[dict]:
    """Validates a list of ``{speaker, text}`` turns; speakers become text."""
    if not isinstance(raw, list) or not raw:
        raise ItemDataError("turns", "must be a non-empty list of {speaker, text}")
    turns = []
    for i, turn in enumerate(raw):
        if not isinstance(turn, dict):
            raise ItemDataError(f"turns[{i}]", "must be an object with speaker and text")
        speaker = turn.get("speaker")
        if isinstance(speaker, bool) or not isinstance(speaker, str | int) or str(speaker).strip() == "":
            raise ItemDataError(f"turns[{i}].speaker", "is required (text)")
        clean = {"speaker": str(speaker), "text": _text(f"turns[{i}].text", turn.get("text"))}
        extra = {k: v for k, v in turn.items() if k not in ("speaker", "text")}
        if extra:
            clean["metadata"] = extra
        turns.append(clean)
    return turns


def _text(field: str, value: Any) -> str:
    if value is None:
        raise ItemDataError(field, "is required")
    if not isinstance(value, str):
        raise ItemDataError(field, f"must be text, got {type(value).__name__}")
    if not value.strip():
        raise ItemDataError(field, "is empty")
    return value
