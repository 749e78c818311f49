"""Reading a gettext .po catalogue for the tests (plain Python): its entries with context, plural and flags.

Handles what ``makemessages`` writes: ``#,`` flag lines, ``msgctxt``, ``msgid``, ``msgid_plural``, ``msgstr`` and
``msgstr[n]``, each string possibly continued on following quoted lines; obsolete ``#~`` entries are skipped."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class PoEntry:
    """One message. ``translations`` holds the one msgstr, or msgstr[0], msgstr[1], ... for a plural."""

    msgid: str
    context: str | None = None
    plural: str | None = None
    translations: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags


def po_entries(path: Path) -> list[PoEntry]:
    """Every entry of the catalogue at ``path`` except the header (the entry with the empty msgid)."""
    entries: list[PoEntry] = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry = _entry(block)
        if entry is not None and entry.msgid:
            entries.append(entry)
    return entries


def _entry(block: str) -> PoEntry | None:
    flags: set[str] = set()
    parts: dict[str, str] = {}
    key = None
    for line in block.strip().splitlines():
        if line.startswith("#,"):
            flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            parts[key] += ast.literal_eval(line)
        else:
            key, _, text = line.partition(" ")
            parts[key] = ast.literal_eval(text)
    if "msgid" not in parts:
        return None
    if "msgid_plural" in parts:
        translations = [parts[f"msgstr[{n}]"] for n in range(len(parts)) if f"msgstr[{n}]" in parts]
    else:
        translations = [parts.get("msgstr", "")]
    return PoEntry(msgid=parts["msgid"], context=parts.get("msgctxt"), plural=parts.get("msgid_plural"),
                   translations=translations, flags=flags)
