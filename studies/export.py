"""Export of a study's judgments to training data: raw judgments, or preference pairs for DPO / reward models.

Both formats are JSON Lines, one object per line, written while the database is read
(``QuerySet.iterator``), so memory stays flat however large the study is; the pair format only
holds the judgments of one item (one criterion × prompt × system pair) at a time.

``raw``: one line per judgment::

    {"judgment_id", "participant" (pseudonym), "prompt_id", "prompt_metadata", "criterion", "system_a", "system_b",
     "shown_left" (system name), "left" ("a"|"b"; "" and null when not recorded), "choice" ("a"|"b"|"tie"), "chosen_system" (null for a tie),
     "strength", "seconds", "rationale", "source", "created_at", "attributes" (only with_attributes)}

``dpo``: one line per item with a winner, in TRL's conversational preference format plus plain text::

    {"prompt": [{"role": "user"|"assistant", "content"}...],   # the context as chat messages
     "chosen": [{"role": "assistant", "content"}], "rejected": [{"role": "assistant", "content"}],
     "prompt_text", "chosen_text", "rejected_text",           # the same as plain strings
     "weight",                                                # share of the item's participants who agreed
     "criterion", "prompt_id", "prompt_metadata", "chosen_system", "rejected_system",
     "votes_chosen", "votes_rejected", "ties", "participants"} # pseudonyms

The winner of an item is the system more participants chose; ties are never turned into pairs
and an item whose decisive votes are level is left out. ``weight`` is ``votes_chosen / n`` over
all of the item's judgments, ties included, so a pair half the people could not call counts
less. With ``per_judgment`` every decisive judgment becomes its own line (for reward models
that want each rater), weighted by the share of the item's judgments that made the same choice.

Next to the output a manifest ``<name>.manifest.json`` records the study, its spec hash, the
filters, the counts and the SHA-256 of the output.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Greatest, Least

from studies.analysis.load import one_sided_pseudonyms, study_judgments
from studies.models import Judgment, Participant, Response, Study

FORMATS = ("raw", "dpo")
MANIFEST_VERSION = 1


# --- plain helpers (no database) ---------------------------------------------------------------


def context_messages(context: list[dict], *, seeker: str = "seeker") -> list[dict]:
    """Chat messages for a prompt context: the seeker's turns are "user", everyone else's "assistant".

    The system under study speaks for the supporter, so the replies compared are the next
    "assistant" turn.
    """
    return [
        {
            "role": "user" if turn.get("speaker") == seeker else "assistant",
            "content": str(turn.get("text", "")),
        }
        for turn in context
    ]


def context_text(context: list[dict]) -> str:
    """The context as plain text, one ``speaker: text`` line per turn."""
    return "\n".join(f"{turn.get('speaker', '')}: {turn.get('text', '')}" for turn in context)


def preference_records(item: list[dict], *, seeker: str, per_judgment: bool) -> tuple[list[dict], str | None]:
    """The DPO lines of one item's judgment rows, and why none were made (``"tie"`` or ``"missing_response"``).

    Rows are dicts with ``choice``, ``system_a``/``system_b`` (names), ``text_a``/``text_b``,
    ``context``, ``prompt_id``, ``criterion`` and ``pseudonym``; they may store the pair in
    either order.
    """
    first = item[0]
    lo, hi = sorted((first["system_a"], first["system_b"]))
    votes = {lo: 0, hi: 0}
    texts: dict[str, str | None] = {}
    voters: dict[str, list[str]] = {lo: [], hi: []}
    ties = 0
    for row in item:
        texts.setdefault(row["system_a"], row["text_a"])
        texts.setdefault(row["system_b"], row["text_b"])
        if row["choice"] == "tie":
            ties += 1
            continue
        winner = row["system_a"] if row["choice"] == "a" else row["system_b"]
        votes[winner] += 1
        voters[winner].append(row["pseudonym"])
    n = len(item)
    if texts.get(lo) is None or texts.get(hi) is None:
        return [], "missing_response"
    if per_judgment:
        pairs = [(w, hi if w == lo else lo, [p]) for w in (lo, hi) for p in voters[w]]
    elif votes[lo] == votes[hi]:
        return [], "tie"
    else:
        winner = lo if votes[lo] > votes[hi] else hi
        pairs = [(winner, hi if winner == lo else lo, voters[winner] + voters[hi if winner == lo else lo])]
    if not pairs:
        return [], "tie"
    records = []
    for chosen, rejected, participants in pairs:
        records.append(
            {
                "prompt": context_messages(first["context"], seeker=seeker),
                "chosen": [{"role": "assistant", "content": texts[chosen]}],
                "rejected": [{"role": "assistant", "content": texts[rejected]}],
                "prompt_text": context_text(first["context"]),
                "chosen_text": texts[chosen],
                "rejected_text": texts[rejected],
                "weight": votes[chosen] / n,
                "criterion": first["criterion"],
                "prompt_id": first["prompt_id"],
                "prompt_metadata": first.get("prompt_metadata") or {},
                "chosen_system": chosen,
                "rejected_system": rejected,
                "votes_chosen": votes[chosen],
                "votes_rejected": votes[rejected],
                "ties": ties,
                "participants": participants,
            }
        )
    return records, None


# --- database reads ----------------------------------------------------------------------------


def _response_text(system_field: str) -> Subquery:
    return Subquery(
        Response.objects.filter(prompt=OuterRef("prompt"), system=OuterRef(system_field)).values("text")[:1]
    )


def _export_queryset(study: Study, filters: dict) -> QuerySet[Judgment]:
    judgments = study_judgments(
        study,
        include_ended=filters["include_ended"],
        sources=filters["sources"],
        criteria=filters["criteria"],
    )
    if filters["excluded_participants"]:
        judgments = judgments.exclude(participant__user__pseudonym__in=filters["excluded_participants"])
    return judgments


def _raw_lines(judgments: QuerySet[Judgment], *, with_attributes: bool) -> Iterator[dict]:
    fields = [
        "id", "participant__user__pseudonym", "prompt__external_id", "prompt__metadata", "criterion",
        "system_a__name", "system_b__name", "left", "choice", "strength", "seconds", "rationale", "source",
        "created_at",
    ]  # fmt: skip
    if with_attributes:
        fields += ["participant__user__attributes", "participant__survey"]
    for row in judgments.order_by("id").values(*fields).iterator(chunk_size=2000):
        a, b = row["system_a__name"], row["system_b__name"]
        line = {
            "judgment_id": row["id"],
            "participant": row["participant__user__pseudonym"],
            "prompt_id": row["prompt__external_id"],
            "prompt_metadata": row["prompt__metadata"] or {},
            "criterion": row["criterion"],
            "system_a": a,
            "system_b": b,
            "shown_left": {"a": a, "b": b}.get(row["left"]),
            "left": row["left"],
            "choice": row["choice"],
            "chosen_system": {"a": a, "b": b}.get(row["choice"]),
            "strength": row["strength"],
            "seconds": row["seconds"],
            "rationale": row["rationale"],
            "source": row["source"],
            "created_at": row["created_at"].isoformat(),
        }
        if with_attributes:
            line["attributes"] = {
                **(row["participant__user__attributes"] or {}),
                **(row["participant__survey"] or {}),
            }
        yield line


def _item_rows(judgments: QuerySet[Judgment]) -> Iterator[dict]:
    rows = (
        judgments.annotate(
            lo=Least("system_a_id", "system_b_id"),
            hi=Greatest("system_a_id", "system_b_id"),
            text_a=_response_text("system_a"),
            text_b=_response_text("system_b"),
        )
        .order_by("criterion", "prompt_id", "lo", "hi", "id")
        .values(
            "criterion",
            "prompt_id",
            "lo",
            "hi",
            "choice",
            "text_a",
            "text_b",
            system_a_name=F("system_a__name"),
            system_b_name=F("system_b__name"),
            prompt_external_id=F("prompt__external_id"),
            context=F("prompt__context"),
            prompt_metadata=F("prompt__metadata"),
            pseudonym=F("participant__user__pseudonym"),
        )  # fmt: skip
    )
    for row in rows.iterator(chunk_size=2000):
        row["system_a"], row["system_b"] = row.pop("system_a_name"), row.pop("system_b_name")
        row["prompt_id"] = row.pop("prompt_external_id")
        yield row


def _dpo_lines(
    judgments: QuerySet[Judgment], *, seeker: str, per_judgment: bool, counts: dict
) -> Iterator[dict]:
    def item_key(row):
        return row["criterion"], row["prompt_id"], row["lo"], row["hi"]

    for _, group in itertools.groupby(_item_rows(judgments), key=item_key):
        item = list(group)
        counts["items"] += 1
        records, skipped = preference_records(item, seeker=seeker, per_judgment=per_judgment)
        if skipped:
            counts[f"skipped_{skipped}"] += 1
        yield from records


# --- the export --------------------------------------------------------------------------------


def export_filters(
    study: Study,
    *,
    criteria: list[str] | None = None,
    sources: list[str] | None = None,
    include_ended: bool = False,
    exclude_one_sided: bool = False,
    min_judgments_one_sided: int = 4,
    with_attributes: bool = False,
    per_judgment: bool = False,
) -> dict:
    """The filters as the manifest records them, with the one-sided participants resolved to pseudonyms."""
    excluded: list[str] = []
    if exclude_one_sided:
        base = study_judgments(study, include_ended=include_ended, sources=sources, criteria=criteria)
        excluded = one_sided_pseudonyms(base, min_judgments=min_judgments_one_sided)
    return {
        "criteria": list(criteria or []),
        "sources": list(sources or []),
        "include_ended": include_ended,
        "exclude_one_sided": exclude_one_sided,
        "min_judgments_one_sided": min_judgments_one_sided,
        "excluded_participants": excluded,
        "with_attributes": with_attributes,
        "per_judgment": per_judgment,
    }


def export_lines(study: Study, *, format: str, filters: dict, counts: dict | None = None) -> Iterator[str]:
    """JSON lines (each ending in a newline) of the export; fills ``counts`` as it goes."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, not {format!r}")
    counts = counts if counts is not None else {}
    counts.update({"records": 0, "items": 0, "skipped_tie": 0, "skipped_missing_response": 0})
    judgments = _export_queryset(study, filters)
    records: Iterable[dict]
    if format == "raw":
        records = _raw_lines(judgments, with_attributes=filters["with_attributes"])
    else:
        seeker = study.spec.get("seeker_speaker", "seeker")
        records = _dpo_lines(judgments, seeker=seeker, per_judgment=filters["per_judgment"], counts=counts)
    for record in records:
        counts["records"] += 1
        yield json.dumps(record, ensure_ascii=False) + "\n"


def manifest_path(path: Path) -> Path:
    """Where the manifest of an export at ``path`` goes: ``prefs.jsonl`` -> ``prefs.manifest.json``."""
    path = Path(path)
    return path.with_name((path.stem if path.suffix else path.name) + ".manifest.json")


def export_write(study: Study, *, path: Path, format: str, filters: dict) -> dict:
    """Writes the export to ``path`` and its manifest beside it; returns the manifest."""
    path = Path(path)
    counts: dict = {}
    digest = hashlib.sha256()
    with path.open("w", encoding="utf-8") as handle:
        for line in export_lines(study, format=format, filters=filters, counts=counts):
            handle.write(line)
            digest.update(line.encode("utf-8"))
    if format == "raw":
        counts = {"records": counts["records"]}
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "study": study.slug,
        "spec_hash": study.spec_hash,
        "format": format,
        "file": path.name,
        "sha256": digest.hexdigest(),
        "created_at": datetime.now(UTC).isoformat(),
        "filters": filters,
        "counts": counts,
        "participants_total": Participant.objects.filter(study=study).count(),
    }
    manifest_path(path).write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return manifest
