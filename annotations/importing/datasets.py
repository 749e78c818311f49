"""Parsers for published empathy datasets, in the files their authors distribute.

* EmpatheticDialogues (Rashkin et al., 2019) ``train.csv``: conv_id, utterance_idx, context
  (the emotion), prompt (the situation), speaker_idx, utterance, selfeval, tags; commas inside
  fields are written ``_comma_``, so rows are split on bare commas (quotes are literal text).
  Consecutive rows with one conv_id become one dialogue item.
* EmpathicStories (Shen et al., 2023) pair CSVs ``PAIRS (train|dev|test).csv``: an unnamed
  index column, pairs ("(12, 345)": indices into the stories file), binned, story_A, story_B,
  story_A_summary, story_B_summary, "Empathic Similarity (gpt3.5)", "... Binned (gpt3.5)",
  "... Reasons (gpt3.5)", similarity_{empathy,event,emotion,moral}_human_AGG. Each row is a
  pair item; its id is the ``pairs`` value written "12-345" (else an ``id`` column, else the
  index column); the human similarity scores are kept as numbers under
  ``metadata["similarity_human"]``, the other columns as metadata text.
* EPITOME (Sharma et al., 2020) ``{emotional-reactions,interpretations,explorations}-reddit.csv``:
  sp_id, rp_id, seeker_post, response_post, level, rationales. Each row is a response item
  (context = seeker post) with id ``rp_id``; level and rationales are kept as metadata
  (``epitome``: {mechanism: {level, rationales}}) and can be imported as labels too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from annotations.importing.errors import ImportFormatError
from annotations.importing.formats import external_id_clean, parsed_item
from annotations.importing.sources import csv_rows

ED_COLUMNS = ("conv_id", "utterance_idx", "context", "prompt", "speaker_idx", "utterance")
ES_SCORES = {
    "similarity_empathy_human_AGG": "empathy",
    "similarity_event_human_AGG": "event",
    "similarity_emotion_human_AGG": "emotion",
    "similarity_moral_human_AGG": "moral",
}
EPITOME_MECHANISMS = ("emotional_reactions", "interpretations", "explorations")


def _require_kind(kind: str | None, wanted: str, name: str, fmt: str) -> None:
    if kind not in (None, wanted):
        raise ImportFormatError(name, 1, None, f"{fmt} files hold {wanted} items, but the project's items are {kind!r}")


def parse_empathetic_dialogues(lines: Iterator[str], name: str, kind: str | None) -> Iterator[dict]:
    _require_kind(kind, "dialogue", name, "EmpatheticDialogues")
    header = next(lines, "").rstrip("\r\n").split(",")
    if tuple(h.strip() for h in header[: len(ED_COLUMNS)]) != ED_COLUMNS:
        raise ImportFormatError(name, 1, None, f"expected the header {','.join(ED_COLUMNS)},...")
    current: dict | None = None
    finished: set[str] = set()
    for number, text in enumerate(lines, start=2):
        text = text.rstrip("\r\n")
        if not text.strip():
            continue
        cells = text.split(",")
        if len(cells) < len(ED_COLUMNS):
            raise ImportFormatError(name, number, None, f"{len(cells)} cells, expected at least {len(ED_COLUMNS)}")
        conv_id = external_id_clean(name, number, "conv_id", cells[0])
        try:
            index = int(cells[1])
        except ValueError:
            raise ImportFormatError(name, number, "utterance_idx", f"{cells[1]!r} is not a whole number") from None
        speaker, utterance = cells[4].strip(), _unescape(cells[5])
        if not speaker:
            raise ImportFormatError(name, number, "speaker_idx", "is empty")
        if not utterance.strip():
            raise ImportFormatError(name, number, "utterance", "is empty")
        if current is None or current["external_id"] != conv_id:
            if current is not None:
                finished.add(current["external_id"])
                yield current
            if conv_id in finished:
                raise ImportFormatError(name, number, "conv_id", f"{conv_id!r} continues after other conversations")
            current = parsed_item(
                line=number, external_id=conv_id, kind="dialogue", data={"turns": []},
                metadata={"emotion": cells[2], "situation": _unescape(cells[3]), "utterance_idx": []},
            )
        expected = current["metadata"]["utterance_idx"][-1] + 1 if current["metadata"]["utterance_idx"] else None
        if expected is not None and index != expected:
            raise ImportFormatError(name, number, "utterance_idx", f"{index} follows {expected - 1}; expected {expected}")
        current["metadata"]["utterance_idx"].append(index)
        turn = {"speaker": speaker, "text": utterance}
        if len(cells) > 6 and cells[6].strip():
            turn["metadata"] = {"selfeval": cells[6].strip()}
        current["data"]["turns"].append(turn)
    if current is not None:
        yield current


def _unescape(text: str) -> str:
    return text.replace("_comma_", ",")


def parse_empathic_stories(lines: Iterator[str], name: str, kind: str | None) -> Iterator[dict]:
    _require_kind(kind, "pair", name, "EmpathicStories")
    for number, _header, row in csv_rows(lines, name, ("story_A", "story_B")):
        external_id = _pair_id(row, name, number)
        texts = {}
        for column, field in (("story_A", "text_a"), ("story_B", "text_b")):
            if not row[column].strip():
                raise ImportFormatError(name, number, column, "is empty")
            texts[field] = row[column]
        scores, metadata = {}, {}
        for column, value in row.items():
            if column in ("story_A", "story_B", "", "id") or value == "":
                continue
            if column in ES_SCORES:
                try:
                    scores[ES_SCORES[column]] = float(value)
                except ValueError:
                    raise ImportFormatError(name, number, column, f"{value!r} is not a number") from None
            else:
                metadata[column] = value
        if scores:
            metadata["similarity_human"] = scores
        yield parsed_item(line=number, external_id=external_id, kind="pair", data=texts, metadata=metadata)


def _pair_id(row: dict, name: str, number: int) -> str:
    if row.get("pairs", "").strip():
        indices = re.findall(r"\d+", row["pairs"])
        if len(indices) != 2:
            raise ImportFormatError(name, number, "pairs", f"{row['pairs']!r} is not a pair of story indices")
        return "-".join(indices)
    for column in ("id", ""):
        if row.get(column, "").strip():
            return external_id_clean(name, number, column or "(index)", row[column])
    raise ImportFormatError(name, number, "pairs", "no pair id (pairs, id or index column)")


def epitome_mechanism_from_name(name: str) -> str | None:
    """``emotional-reactions-reddit.csv`` -> ``emotional_reactions``; None when the name says nothing."""
    flat = re.sub(r"[^a-z]+", "_", name.lower())
    for mechanism in EPITOME_MECHANISMS:
        if mechanism in flat or mechanism.rstrip("s") in flat:
            return mechanism
    if "emotion" in flat:
        return "emotional_reactions"
    return None


def parse_epitome(lines: Iterator[str], name: str, kind: str | None) -> Iterator[dict]:
    _require_kind(kind, "response", name, "EPITOME")
    mechanism = epitome_mechanism_from_name(name) or "level"
    for number, row in epitome_rows(lines, name):
        metadata = {"seeker_post_id": row["sp_id"].strip()}
        if row.get("level", "").strip():
            metadata["epitome"] = {mechanism: {"level": epitome_level(row, name, number),
                                               "rationales": row.get("rationales", "")}}
        yield parsed_item(
            line=number, external_id=row["rp_id"].strip(), kind="response",
            data={"context": row["seeker_post"], "response": row["response_post"]}, metadata=metadata,
        )


def epitome_rows(lines: Iterator[str], name: str) -> Iterator[tuple[int, dict]]:
    """Checked EPITOME rows: ids and both posts present."""
    columns = ("sp_id", "rp_id", "seeker_post", "response_post")
    for number, _header, row in csv_rows(lines, name, columns):
        for column in columns:
            if not row[column].strip():
                raise ImportFormatError(name, number, column, "is empty")
        external_id_clean(name, number, "rp_id", row["rp_id"])
        yield number, row


def epitome_level(row: dict, name: str, number: int) -> int:
    raw = row.get("level", "").strip()
    if raw not in ("0", "1", "2"):
        raise ImportFormatError(name, number, "level", f"{raw!r} is not a level 0, 1 or 2")
    return int(raw)
