"""Reading the platform's own export files into training examples (plain Python, no Django).

Two inputs, each read exactly as the exports write them:

- a label export, JSONL with one row per label (``annotations.services.exporting``, aggregate
  ``none``): rows are grouped by ``item_id`` into ``LabelItem`` (texts, then every annotator's
  value per dimension, then the annotators' attribute columns ``annotator_<attr>``);
- a study preference export, JSONL in the ``dpo`` format (``studies.export``), optionally with
  the ``raw`` export of the same study beside it, from which each pair's mean ``strength`` of
  the winning judgments is taken.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

_META_COLUMNS = {"label_id", "project", "item_id", "item_kind", "text", "text_a", "text_b", "context",
                 "response", "turns", "item_metadata", "annotator", "source", "created_at", "seconds"}


class TrainingDataError(ValueError):
    """The training input is unusable; ``field`` names what is wrong (``file``, ``dimensions``...)."""

    def __init__(self, field: str, message: str):
        self.field, self.message = field, message
        super().__init__(f"{field}: {message}")


@dataclass
class LabelItem:
    item_id: str
    kind: str
    fields: dict
    # dimension -> annotator -> value (numbers only; missing values left out)
    ratings: dict[str, dict[str, float]] = field(default_factory=dict)
    # annotator -> {attribute: value}
    annotators: dict[str, dict[str, str | None]] = field(default_factory=dict)

    def mean(self, dimension: str) -> float | None:
        values = list(self.ratings.get(dimension, {}).values())
        return sum(values) / len(values) if values else None

    def input_text(self) -> tuple[str, str | None]:
        """What an encoder reads: (text, second text or None), context first for responses."""
        f = self.fields
        if self.kind == "pair":
            return str(f.get("text_a") or ""), str(f.get("text_b") or "")
        if self.kind == "response":
            return str(f.get("context") or ""), str(f.get("response") or "")
        if self.kind == "dialogue":
            return "\n".join(f"{t.get('speaker', '')}: {t.get('text', '')}" for t in f.get("turns") or []), None
        return str(f.get("text") or ""), None


@dataclass
class PreferencePair:
    prompt_id: str
    criterion: str
    prompt: list[dict]
    chosen: list[dict]
    rejected: list[dict]
    prompt_text: str
    chosen_text: str
    rejected_text: str
    weight: float
    strength: float | None = None


def _lines(path: Path) -> Iterable[dict]:
    path = Path(path)
    if not path.is_file():
        raise TrainingDataError("file", f"{path} does not exist")
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise TrainingDataError("file", f"{path.name} line {number} is not JSON ({exc.msg})") from None


def labels_read(path: Path) -> list[LabelItem]:
    """Items of a plain (one row per label) JSONL label export, in the order they first appear."""
    items: dict[str, LabelItem] = {}
    for row in _lines(path):
        if "item_id" not in row or "annotator" not in row:
            raise TrainingDataError("file", f"{Path(path).name} is not a per-label export (aggregate none, JSONL)")
        item = items.get(row["item_id"])
        if item is None:
            fields = {k: row[k] for k in ("text", "text_a", "text_b", "context", "response", "turns") if k in row}
            item = items[row["item_id"]] = LabelItem(item_id=row["item_id"], kind=row.get("item_kind", ""),
                                                     fields=fields)
        annotator = row["annotator"]
        item.annotators[annotator] = {k[len("annotator_"):]: v for k, v in row.items() if k.startswith("annotator_")}
        for key, value in row.items():
            if key in _META_COLUMNS or key.startswith("annotator_"):
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            item.ratings.setdefault(key, {})[annotator] = float(value)
    return list(items.values())


def preferences_read(path: Path, *, raw_path: Path | None = None) -> list[PreferencePair]:
    """Pairs of a ``dpo`` study export; with ``raw_path`` each pair gets the mean strength of the
    judgments that chose its winner (None where the study did not ask for strength)."""
    strengths: dict[tuple, list[float]] = {}
    if raw_path is not None:
        for row in _lines(raw_path):
            if row.get("strength") is None or not row.get("chosen_system"):
                continue
            loser = row["system_b"] if row["chosen_system"] == row["system_a"] else row["system_a"]
            key = (row["prompt_id"], row["criterion"], row["chosen_system"], loser)
            strengths.setdefault(key, []).append(float(row["strength"]))
    pairs = []
    for row in _lines(path):
        missing = [k for k in ("prompt", "chosen", "rejected", "prompt_id") if k not in row]
        if missing:
            raise TrainingDataError("file", f"{Path(path).name} is not a dpo preference export (no {missing[0]})")
        key = (row["prompt_id"], row.get("criterion", ""), row.get("chosen_system"), row.get("rejected_system"))
        found = strengths.get(key)
        pairs.append(PreferencePair(
            prompt_id=row["prompt_id"], criterion=row.get("criterion", ""), prompt=row["prompt"],
            chosen=row["chosen"], rejected=row["rejected"], prompt_text=row.get("prompt_text", ""),
            chosen_text=row.get("chosen_text", ""), rejected_text=row.get("rejected_text", ""),
            weight=float(row.get("weight", 1.0)), strength=sum(found) / len(found) if found else None,
        ))
    return pairs
