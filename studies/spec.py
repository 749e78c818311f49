"""Study specs: parsing and validation of the YAML/JSON a researcher writes (plain Python, no Django).

``spec_parse(text_or_mapping, base_dir=None) -> dict`` returns the normalised spec (every optional
key filled with its default) or raises ``SpecError`` whose message starts with the key path, e.g.
``criteria[1].rationale: must be one of 'none', 'optional', 'required'``. The normalised dict is what
``Study.spec`` stores and what ``spec_hash`` hashes, so two specs that mean the same thing hash alike.

Shape (YAML shown; JSON is the same)::

    slug: perm-vs-base              # [a-z0-9-], 3..60
    title: PERM vs. base model        # researchers only; participants see participant_title
    prompts:                        # or prompts_file: prompts.jsonl (JSONL {id, context}), relative to the spec
      - id: p1
        context: [{speaker: seeker, text: "..."}]   # the last turn is the seeker's
    systems:                        # two or more
      - {name: perm, kind: model, model_version: 12}
      - {name: baseline, kind: imported}
    criteria:                       # the first is the overall question
      - {name: overall, question: "...", ties: true, strength: ["slightly", "clearly", "much"], rationale: optional}
    pairs_per_participant: 10
    judgments_per_pair: 3
    repeat_prompts: false           # true allows the same prompt twice for one participant (test-retest)
    attention_checks: {every: 5, warn_after: 1, end_after: 2, items: [{id, context, good, bad}]}
    consent: {text: "...", required: true}
    survey: [{name: age_band, ...}]  # questions as webapp.surveys takes them; or a list of names
    instructions: "..."
    recruitment: {platform: open|prolific|mturk, quota: 100, completion_code: ABC, redirect_url: "...",
                  prolific: {...}, mturk: {...}}
    reservation_minutes: 60
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from webapp.specs import SpecError, slug_check, spec_hash, spec_text_read

__all__ = ["SpecError", "context_parse", "redirect_url_usable", "spec_hash", "spec_load_file", "spec_parse"]
SYSTEM_KINDS = ("model", "imported")
RATIONALE = ("none", "optional", "required")
PLATFORMS = ("open", "prolific", "mturk")
TOP_KEYS = {
    "slug", "title", "description", "prompts", "prompts_file", "systems", "criteria",
    "pairs_per_participant", "judgments_per_pair", "repeat_prompts", "attention_checks", "consent",
    "survey", "instructions", "recruitment", "reservation_minutes", "seeker_speaker", "participant_title",
}


def _str(value: Any, path: str, *, required: bool = True, default: str = "") -> str:
    if value is None:
        if required:
            raise SpecError(path, "is required")
        return default
    if not isinstance(value, str) or (required and not value.strip()):
        raise SpecError(path, "must be a non-empty string" if required else "must be a string")
    return value.strip()


def _int(value: Any, path: str, *, minimum: int, default: int | None = None) -> int:
    if value is None:
        if default is None:
            raise SpecError(path, "is required")
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(path, "must be a whole number")
    if value < minimum:
        raise SpecError(path, f"must be at least {minimum}")
    return value


def _bool(value: Any, path: str, *, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise SpecError(path, "must be true or false")
    return value


def _mapping(value: Any, path: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SpecError(path, "must be a mapping")
    return value


def context_parse(value: Any, path: str, *, seeker: str) -> list[dict]:
    """Validates dialogue turns ``[{speaker, text}]``; the last turn must be the seeker's."""
    if not isinstance(value, list) or not value:
        raise SpecError(path, "must be a non-empty list of turns {speaker, text}")
    turns = []
    for i, turn in enumerate(value):
        if not isinstance(turn, dict):
            raise SpecError(f"{path}[{i}]", "must be a mapping {speaker, text}")
        turns.append({"speaker": _str(turn.get("speaker"), f"{path}[{i}].speaker"),
                      "text": _str(turn.get("text"), f"{path}[{i}].text")})
    if turns[-1]["speaker"] != seeker:
        raise SpecError(f"{path}[{len(turns) - 1}].speaker", f"the last turn must be the seeker's ({seeker!r})")
    return turns


def prompts_file_parse(path: Path, *, seeker: str) -> list[dict]:
    """Reads a JSONL prompts file ``{id, context}``; errors name the file, line and field."""
    prompts = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise SpecError("prompts_file", f"cannot read {path}: {exc.strerror}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path.name}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SpecError(where, f"not valid JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise SpecError(where, "each line must be a JSON object {id, context}")
        prompts.append(_prompt(row, where, seeker=seeker))
    return prompts


def _prompt(row: dict, path: str, *, seeker: str) -> dict:
    raw_id = row.get("id")
    if isinstance(raw_id, int) and not isinstance(raw_id, bool):
        raw_id = str(raw_id)
    prompt = {"id": _str(raw_id, f"{path}.id"),
              "context": context_parse(row.get("context"), f"{path}.context", seeker=seeker)}
    # every other key is the prompt's metadata (an EmPO prompt's emotion label), kept rather than dropped
    metadata = row.get("metadata", {})
    if not isinstance(metadata, dict):
        raise SpecError(f"{path}.metadata", "must be a mapping")
    metadata = {**{k: v for k, v in row.items() if k not in ("id", "context", "metadata")}, **metadata}
    if metadata:
        prompt["metadata"] = metadata
    return prompt


def _prompts(data: dict, base_dir: Path | None, seeker: str) -> list[dict]:
    if data.get("prompts") is not None and data.get("prompts_file") is not None:
        raise SpecError("prompts", "give prompts or prompts_file, not both")
    if data.get("prompts_file") is not None:
        name = _str(data["prompts_file"], "prompts_file")
        if base_dir is None:
            # text from the dashboard or the API must not make the server read its own files
            raise SpecError("prompts_file", "only a spec loaded from a file (manage.py load_study) may name a "
                                            "prompts file; list the prompts inline under prompts")
        path = Path(name) if Path(name).is_absolute() else base_dir / name
        prompts = prompts_file_parse(path, seeker=seeker)
    else:
        raw = data.get("prompts")
        if not isinstance(raw, list):
            raise SpecError("prompts", "is required: a list of {id, context} (or give prompts_file)")
        prompts = []
        for i, row in enumerate(raw):
            if not isinstance(row, dict):
                raise SpecError(f"prompts[{i}]", "must be a mapping {id, context}")
            prompts.append(_prompt(row, f"prompts[{i}]", seeker=seeker))
    if not prompts:
        raise SpecError("prompts", "needs at least one prompt")
    seen: set[str] = set()
    for i, prompt in enumerate(prompts):
        if prompt["id"] in seen:
            raise SpecError(f"prompts[{i}].id", f"duplicate prompt id {prompt['id']!r}")
        seen.add(prompt["id"])
    return prompts


def _systems(raw: Any) -> list[dict]:
    if not isinstance(raw, list) or len(raw) < 2:
        raise SpecError("systems", "needs a list of two or more systems")
    systems, names = [], set()
    for i, row in enumerate(raw):
        path = f"systems[{i}]"
        if isinstance(row, str):
            row = {"name": row}
        if not isinstance(row, dict):
            raise SpecError(path, "must be a mapping {name, kind, model_version}")
        name = _str(row.get("name"), f"{path}.name")
        if name in names:
            raise SpecError(f"{path}.name", f"duplicate system {name!r}")
        names.add(name)
        kind = row.get("kind", "imported")
        if kind not in SYSTEM_KINDS:
            raise SpecError(f"{path}.kind", f"must be one of {', '.join(map(repr, SYSTEM_KINDS))}")
        version = row.get("model_version")
        if kind == "model":
            version = _int(version, f"{path}.model_version", minimum=1)
        elif version is not None:
            version = _int(version, f"{path}.model_version", minimum=1)
        systems.append({"name": name, "kind": kind, "model_version": version})
    return systems


def _criteria(raw: Any) -> list[dict]:
    if raw is None:
        raw = [{"name": "overall", "question": "Which response is better overall?"}]
    if not isinstance(raw, list) or not raw:
        raise SpecError("criteria", "needs a list of at least one question (the first is the overall one)")
    criteria, names = [], set()
    for i, row in enumerate(raw):
        path = f"criteria[{i}]"
        if not isinstance(row, dict):
            raise SpecError(path, "must be a mapping {name, question, ties, strength, rationale}")
        name = _str(row.get("name"), f"{path}.name")
        if not re.fullmatch(r"[a-z0-9_]{1,40}", name):
            raise SpecError(f"{path}.name", "must be lower-case letters, digits or _ (at most 40)")
        if name in names:
            raise SpecError(f"{path}.name", f"duplicate criterion {name!r}")
        names.add(name)
        strength = row.get("strength")
        if strength is None or strength is False or strength == []:
            strength = []
        elif not isinstance(strength, list) or len(strength) < 2 or not all(isinstance(s, str) and s for s in strength):
            raise SpecError(f"{path}.strength", "must be a list of two or more labels, weakest first")
        rationale = row.get("rationale", "none")
        if rationale not in RATIONALE:
            raise SpecError(f"{path}.rationale", f"must be one of {', '.join(map(repr, RATIONALE))}")
        criteria.append({
            "name": name,
            "question": _str(row.get("question"), f"{path}.question"),
            "help": _str(row.get("help"), f"{path}.help", required=False),
            "ties": _bool(row.get("ties"), f"{path}.ties", default=True),
            "strength": list(strength),
            "rationale": rationale,
        })
    return criteria


def _attention(raw: Any, seeker: str) -> dict:
    data = _mapping(raw, "attention_checks")
    every = _int(data.get("every"), "attention_checks.every", minimum=0, default=0)
    items_raw = data.get("items") or []
    if not isinstance(items_raw, list):
        raise SpecError("attention_checks.items", "must be a list of {id, context, good, bad}")
    if every and not items_raw:
        raise SpecError("attention_checks.items", "needs at least one item when every > 0")
    items = []
    for i, row in enumerate(items_raw):
        path = f"attention_checks.items[{i}]"
        if not isinstance(row, dict):
            raise SpecError(path, "must be a mapping {id, context, good, bad}")
        items.append({
            "id": _str(str(row["id"]) if isinstance(row.get("id"), int) else row.get("id"), f"{path}.id"),
            "context": context_parse(row.get("context"), f"{path}.context", seeker=seeker),
            "good": _str(row.get("good"), f"{path}.good"),
            "bad": _str(row.get("bad"), f"{path}.bad"),
        })
    warn_after = _int(data.get("warn_after"), "attention_checks.warn_after", minimum=0, default=1)
    end_after = _int(data.get("end_after"), "attention_checks.end_after", minimum=0, default=2)
    if end_after and warn_after >= end_after:
        raise SpecError("attention_checks.warn_after", "must be below end_after (warn first, then end)")
    return {"every": every, "warn_after": warn_after, "end_after": end_after, "items": items}


def redirect_url_usable(url: str) -> bool:
    """Whether ``url`` can go into a Location header: no spaces, line breaks or control characters. Specs are
    refused otherwise; a study stored before that rule keeps its URL, and the pages skip the redirect."""
    return not any(char.isspace() or ord(char) < 0x20 or ord(char) == 0x7F for char in url)


def _recruitment(raw: Any) -> dict:
    data = _mapping(raw, "recruitment")
    platform = data.get("platform", "open")
    if platform not in PLATFORMS:
        raise SpecError("recruitment.platform", f"must be one of {', '.join(map(repr, PLATFORMS))}")
    redirect = _str(data.get("redirect_url"), "recruitment.redirect_url", required=False)
    if redirect and not redirect.startswith(("https://", "http://")):
        raise SpecError("recruitment.redirect_url", "must be an http(s) address")
    if redirect and not redirect_url_usable(redirect):
        raise SpecError("recruitment.redirect_url", "must not contain spaces, line breaks or control characters")
    return {
        "platform": platform,
        "quota": _int(data.get("quota"), "recruitment.quota", minimum=0, default=0),
        "completion_code": _str(data.get("completion_code"), "recruitment.completion_code", required=False),
        "redirect_url": redirect,
        "prolific": _mapping(data.get("prolific"), "recruitment.prolific"),
        "mturk": _mapping(data.get("mturk"), "recruitment.mturk"),
    }


def _survey(raw: Any) -> list:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise SpecError("survey", "must be a list of questions (or of demographic question names)")
    for i, question in enumerate(raw):
        if not isinstance(question, str | dict):
            raise SpecError(f"survey[{i}]", "must be a question name or a question mapping")
        if isinstance(question, dict) and not question.get("name"):
            raise SpecError(f"survey[{i}].name", "is required")
    return raw


def spec_parse(source: str | dict, *, base_dir: Path | None = None) -> dict:
    """Validates a spec (YAML/JSON text or a mapping) and returns it normalised; raises ``SpecError``."""
    if isinstance(source, dict):
        return _normalise(source, base_dir)
    data, lines = spec_text_read(source)
    try:
        return _normalise(data, base_dir)
    except SpecError as exc:
        raise exc.located(lines) from None


def _normalise(data: dict, base_dir: Path | None) -> dict:
    unknown = sorted(set(data) - TOP_KEYS)
    if unknown:
        raise SpecError(unknown[0], f"unknown key (known: {', '.join(sorted(TOP_KEYS))})")
    slug = slug_check(data.get("slug"))
    seeker = _str(data.get("seeker_speaker"), "seeker_speaker", required=False, default="seeker")
    prompts = _prompts(data, base_dir, seeker)
    systems = _systems(data.get("systems"))
    pairs_per_participant = _int(data.get("pairs_per_participant"), "pairs_per_participant", minimum=1)
    repeat_prompts = _bool(data.get("repeat_prompts"), "repeat_prompts", default=False)
    if not repeat_prompts and pairs_per_participant > len(prompts):
        raise SpecError(
            "pairs_per_participant",
            f"is {pairs_per_participant} but there are only {len(prompts)} prompts and a participant never "
            "sees a prompt twice (set repeat_prompts: true for test-retest)",
        )
    consent = _mapping(data.get("consent"), "consent")
    return {
        "slug": slug,
        "title": _str(data.get("title"), "title"),
        "description": _str(data.get("description"), "description", required=False),
        # participants see this, never the title, which often names the systems
        "participant_title": _str(data.get("participant_title"), "participant_title", required=False,
                                  default="Compare two replies"),
        "seeker_speaker": seeker,
        "prompts": prompts,
        "systems": systems,
        "criteria": _criteria(data.get("criteria")),
        "pairs_per_participant": pairs_per_participant,
        "judgments_per_pair": _int(data.get("judgments_per_pair"), "judgments_per_pair", minimum=1, default=1),
        "repeat_prompts": repeat_prompts,
        "attention_checks": _attention(data.get("attention_checks"), seeker),
        "consent": {"text": _str(consent.get("text"), "consent.text", required=False),
                    "required": _bool(consent.get("required"), "consent.required", default=True)},
        "survey": _survey(data.get("survey")),
        "instructions": _str(data.get("instructions"), "instructions", required=False),
        "recruitment": _recruitment(data.get("recruitment")),
        "reservation_minutes": _int(data.get("reservation_minutes"), "reservation_minutes", minimum=1, default=60),
    }


def spec_load_file(path: Path) -> dict:
    """Reads and parses a spec file; a prompts_file is resolved beside it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError("", f"cannot read {path}: {exc.strerror}") from exc
    return spec_parse(text, base_dir=path.parent)
