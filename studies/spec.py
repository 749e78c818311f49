"""Study specs: parsing and validation of the YAML/JSON a researcher writes (plain Python, no Django).

``spec_parse(text_or_mapping, base_dir=None) -> dict`` returns the normalised spec (every optional
key filled with its default) or raises ``SpecError`` listing every problem, each starting with the key path
and ending with its YAML line, e.g. ``criteria[1].rationale: must be one of 'none', 'optional', 'required'
(line 14)``. The shape is the pydantic models below (``webapp.specs.models``). The normalised dict is what
``Study.spec`` stores and what ``spec_hash`` hashes, so two specs that mean the same thing hash alike.

Shape (YAML shown; JSON is the same)::

    slug: perm-vs-base              # [a-z0-9-], 3..60
    title: PERM vs. base model        # researchers only; participants see participant_title
    language: de                    # the participant pages' language: en (the default) or de
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
    survey: [{name: age_band, ...}]  # questions as webapp.people.surveys takes them; or a list of names
    instructions: "..."
    recruitment: {platform: open|prolific|mturk, quota: 100, completion_code: ABC, redirect_url: "...",
                  prolific: {...}, mturk: {...}}
    reservation_minutes: 60
    pairs_reserved_at_once: 3       # pairs one participant holds at a time; the next is reserved as one finishes
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, PlainValidator, ValidationInfo, field_validator, model_validator

from webapp.specs import DEFAULT_LANGUAGE, SpecError, language_check, slug_check, spec_hash, spec_text_read
from webapp.specs.models import SpecModel, spec_validate

__all__ = ["SpecError", "redirect_url_usable", "spec_hash", "spec_load_file", "spec_parse"]

SYSTEM_KINDS = ("model", "imported")
RATIONALE = ("none", "optional", "required")
PLATFORMS = ("open", "prolific", "mturk")
DEFAULT_PARTICIPANT_TITLE = "Compare two replies"
# A script opening many links holds at most this many pairs per link; the rest stay free for others.
DEFAULT_PAIRS_RESERVED_AT_ONCE = 3
DEFAULT_CRITERIA = [{"name": "overall", "question": "Which response is better overall?"}]


# ---------------------------------------------------------------------------------------------
# values


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SpecError("", "must be a non-empty string")
    return value.strip()


def _optional_text(value: Any) -> str:
    if not isinstance(value, str):
        raise SpecError("", "must be a string")
    return value.strip()


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise SpecError("", "must be true or false")
    return value


def _mapping(value: Any) -> dict:
    if not isinstance(value, dict):
        raise SpecError("", "must be a mapping")
    return value


def _whole(minimum: int):
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise SpecError("", "must be a whole number")
        if value < minimum:
            raise SpecError("", f"must be at least {minimum}")
        return value

    return PlainValidator(check)


def _one_of(options: tuple[str, ...]):
    def check(value: Any) -> str:
        if value not in options:
            raise SpecError("", f"must be one of {', '.join(map(repr, options))}")
        return value

    return PlainValidator(check)


def _id(value: Any) -> str:
    return _text(str(value) if isinstance(value, int) and not isinstance(value, bool) else value)


Text = Annotated[str, PlainValidator(_text)]
OptionalText = Annotated[str, PlainValidator(_optional_text)]
Flag = Annotated[bool, PlainValidator(_flag)]
Mapping = Annotated[dict, PlainValidator(_mapping)]
Id = Annotated[str, PlainValidator(_id)]


class _Lenient(SpecModel):
    """A mapping whose other keys are ignored, as study specs always have (unlike the top level)."""

    model_config = {**SpecModel.model_config, "extra": "ignore"}


def context_parse(value: Any, path: str, *, seeker: str) -> list[dict]:
    """Validates dialogue turns ``[{speaker, text}]``; the last turn must be the seeker's."""
    if not isinstance(value, list) or not value:
        raise SpecError(path, "must be a non-empty list of turns {speaker, text}")
    turns = []
    for i, turn in enumerate(value):
        if not isinstance(turn, dict):
            raise SpecError(f"{path}[{i}]", "must be a mapping {speaker, text}")
        turns.append(spec_validate(Turn, turn, path=f"{path}[{i}]").model_dump())
    if turns[-1]["speaker"] != seeker:
        raise SpecError(f"{path}[{len(turns) - 1}].speaker", f"the last turn must be the seeker's ({seeker!r})")
    return turns


class Turn(_Lenient):
    speaker: Text
    text: Text


def _seeker(info: ValidationInfo) -> str:
    return (info.context or {}).get("seeker", "seeker")


class _Dialogue(_Lenient):
    """Something with a ``context``: dialogue turns whose last is the seeker's (the spec's ``seeker_speaker``)."""

    @field_validator("context", mode="plain", check_fields=False)
    @classmethod
    def _turns(cls, value: Any, info: ValidationInfo) -> list[dict]:
        return context_parse(value, "", seeker=_seeker(info))


class Prompt(_Dialogue):
    """A prompt; every key besides id and context is its metadata (an EmPO prompt's emotion label)."""

    id: Id
    context: Any = Field(default=None, validate_default=True)
    metadata: Mapping = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _metadata_gathered(cls, raw: Any) -> Any:
        if not isinstance(raw, dict):
            raise SpecError("", "must be a mapping {id, context}")
        metadata = raw.get("metadata", {})
        if not isinstance(metadata, dict):
            return raw  # refused as the metadata key's own problem
        extra = {k: v for k, v in raw.items() if k not in ("id", "context", "metadata")}
        return {"id": raw.get("id"), "context": raw.get("context"), "metadata": {**extra, **metadata}}

    def normalised(self) -> dict:
        prompt = {"id": self.id, "context": self.context}
        if self.metadata:
            prompt["metadata"] = self.metadata
        return prompt


class System(_Lenient):
    name: Text
    kind: Annotated[str, _one_of(SYSTEM_KINDS)] = "imported"
    model_version: Annotated[int, _whole(1)] = None  # type: ignore[assignment]  (None: an imported system)

    @model_validator(mode="before")
    @classmethod
    def _name_alone(cls, raw: Any) -> Any:
        if isinstance(raw, str):
            return {"name": raw}
        if not isinstance(raw, dict):
            raise SpecError("", "must be a mapping {name, kind, model_version}")
        return raw

    @model_validator(mode="after")
    def _model_has_a_version(self) -> System:
        if self.kind == "model" and self.model_version is None:
            raise SpecError("model_version", "is required")
        return self


class Criterion(_Lenient):
    name: Text
    question: Text
    help: OptionalText = ""
    ties: Flag = True
    strength: Any = Field(default_factory=list)
    rationale: Annotated[str, _one_of(RATIONALE)] = "none"

    @model_validator(mode="before")
    @classmethod
    def _a_mapping(cls, raw: Any) -> Any:
        if not isinstance(raw, dict):
            raise SpecError("", "must be a mapping {name, question, ties, strength, rationale}")
        return raw

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not re.fullmatch(r"[a-z0-9_]{1,40}", name):
            raise SpecError("", "must be lower-case letters, digits or _ (at most 40)")
        return name

    @field_validator("strength", mode="plain")
    @classmethod
    def _strength(cls, strength: Any) -> list[str]:
        if strength is None or strength is False or strength == []:
            return []
        if not isinstance(strength, list) or len(strength) < 2 or not all(isinstance(s, str) and s for s in strength):
            raise SpecError("", "must be a list of two or more labels, weakest first")
        return list(strength)


class AttentionItem(_Dialogue):
    id: Id
    context: Any = Field(default=None, validate_default=True)
    good: Text
    bad: Text

    @model_validator(mode="before")
    @classmethod
    def _a_mapping(cls, raw: Any) -> Any:
        if not isinstance(raw, dict):
            raise SpecError("", "must be a mapping {id, context, good, bad}")
        return raw


class AttentionChecks(_Lenient):
    every: Annotated[int, _whole(0)] = 0
    warn_after: Annotated[int, _whole(0)] = 1
    end_after: Annotated[int, _whole(0)] = 2
    items: Any = Field(default_factory=list)

    @field_validator("items", mode="plain")
    @classmethod
    def _items(cls, raw: Any, info: ValidationInfo) -> list[dict]:
        if not raw:
            return []
        if not isinstance(raw, list):
            raise SpecError("", "must be a list of {id, context, good, bad}")
        return [_dump(spec_validate(AttentionItem, row, context=info.context, path=f"[{i}]"))
                for i, row in enumerate(raw)]

    @model_validator(mode="after")
    def _consistent(self) -> AttentionChecks:
        if self.every and not self.items:
            raise SpecError("items", "needs at least one item when every > 0")
        if self.end_after and self.warn_after >= self.end_after:
            raise SpecError("warn_after", "must be below end_after (warn first, then end)")
        return self


def redirect_url_usable(url: str) -> bool:
    """Whether ``url`` can go into a Location header: no spaces, line breaks or control characters. Specs are
    refused otherwise; a study stored before that rule keeps its URL, and the pages skip the redirect."""
    return not any(char.isspace() or ord(char) < 0x20 or ord(char) == 0x7F for char in url)


class Recruitment(_Lenient):
    platform: Annotated[str, _one_of(PLATFORMS)] = "open"
    quota: Annotated[int, _whole(0)] = 0
    completion_code: OptionalText = ""
    redirect_url: OptionalText = ""
    prolific: Mapping = Field(default_factory=dict)
    mturk: Mapping = Field(default_factory=dict)

    @field_validator("redirect_url")
    @classmethod
    def _redirect(cls, redirect: str) -> str:
        if redirect and not redirect.startswith(("https://", "http://")):
            raise SpecError("", "must be an http(s) address")
        if redirect and not redirect_url_usable(redirect):
            raise SpecError("", "must not contain spaces, line breaks or control characters")
        return redirect


class Consent(_Lenient):
    text: OptionalText = ""
    required: Flag = True


class StudySpec(SpecModel):
    """The whole study spec (its top level refuses unknown keys)."""

    slug: Annotated[str, PlainValidator(lambda value: slug_check(value, path=""))]
    title: Text
    description: OptionalText = ""
    language: Annotated[str, PlainValidator(language_check)] = DEFAULT_LANGUAGE
    # participants see this, never the title, which often names the systems
    participant_title: OptionalText = DEFAULT_PARTICIPANT_TITLE
    seeker_speaker: OptionalText = "seeker"
    prompts: Any = None
    prompts_file: Any = None
    systems: Any = None
    criteria: Any = None
    pairs_per_participant: Annotated[int, _whole(1)]
    judgments_per_pair: Annotated[int, _whole(1)] = 1
    repeat_prompts: Flag = False
    attention_checks: Any = None
    consent: Consent = Field(default_factory=Consent)
    survey: Any = None
    instructions: OptionalText = ""
    recruitment: Recruitment = Field(default_factory=Recruitment)
    reservation_minutes: Annotated[int, _whole(1)] = 60
    pairs_reserved_at_once: Annotated[int, _whole(1)] = DEFAULT_PAIRS_RESERVED_AT_ONCE

    @classmethod
    def unknown_key_message(cls, known: list[str]) -> str:
        return f"unknown key (known: {', '.join(sorted(known))})"

    @model_validator(mode="before")
    @classmethod
    def _seeker_known(cls, raw: Any, info: ValidationInfo) -> Any:
        if isinstance(raw, dict) and raw.get("prompts") is not None and raw.get("prompts_file") is not None:
            raise SpecError("prompts", "give prompts or prompts_file, not both")
        seeker = raw.get("seeker_speaker") if isinstance(raw, dict) else None
        if info.context is not None:
            info.context["seeker"] = seeker.strip() if isinstance(seeker, str) and seeker.strip() else "seeker"
        return raw

    @field_validator("prompts_file", mode="plain")
    @classmethod
    def _prompts_file(cls, name: Any, info: ValidationInfo) -> list[dict]:
        name = _text(name)
        base_dir = (info.context or {}).get("base_dir")
        if base_dir is None:
            # text from the dashboard or the API must not make the server read its own files
            raise SpecError("", "only a spec loaded from a file (manage.py load_study) may name a "
                                "prompts file; list the prompts inline under prompts")
        path = Path(name) if Path(name).is_absolute() else base_dir / name
        return prompts_file_parse(path, seeker=_seeker(info))

    @field_validator("prompts", mode="plain")
    @classmethod
    def _prompts(cls, raw: Any, info: ValidationInfo) -> list[dict]:
        if not isinstance(raw, list):
            raise SpecError("", "is required: a list of {id, context} (or give prompts_file)")
        return [spec_validate(Prompt, row, context=info.context, path=f"[{i}]").normalised()
                for i, row in enumerate(raw)]

    @field_validator("systems", mode="plain")
    @classmethod
    def _systems(cls, raw: Any) -> list[dict]:
        if not isinstance(raw, list) or len(raw) < 2:
            raise SpecError("", "needs a list of two or more systems")
        systems = [_dump(spec_validate(System, row, path=f"[{i}]")) for i, row in enumerate(raw)]
        _unique([s["name"] for s in systems], "[{}].name", "duplicate system {!r}")
        return systems

    @field_validator("criteria", mode="plain")
    @classmethod
    def _criteria(cls, raw: Any) -> list[dict]:
        return _criteria_list(raw)

    @field_validator("attention_checks", mode="plain")
    @classmethod
    def _attention(cls, raw: Any, info: ValidationInfo) -> dict:
        return _dump(spec_validate(AttentionChecks, raw if raw is not None else {}, context=info.context))

    @field_validator("survey", mode="plain")
    @classmethod
    def _survey(cls, raw: Any) -> list:
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise SpecError("", "must be a list of questions (or of demographic question names)")
        for i, question in enumerate(raw):
            if not isinstance(question, str | dict):
                raise SpecError(f"[{i}]", "must be a question name or a question mapping")
            if isinstance(question, dict) and not question.get("name"):
                raise SpecError(f"[{i}].name", "is required")
        return raw

    @model_validator(mode="after")
    def _prompts_given_once_and_enough(self) -> StudySpec:
        prompts = self.prompts if self.prompts is not None else self.prompts_file
        if prompts is None:
            raise SpecError("prompts", "is required: a list of {id, context} (or give prompts_file)")
        if not prompts:
            raise SpecError("prompts", "needs at least one prompt")
        _unique([p["id"] for p in prompts], "prompts[{}].id", "duplicate prompt id {!r}")
        if self.systems is None:
            raise SpecError("systems", "needs a list of two or more systems")
        if not self.repeat_prompts and self.pairs_per_participant > len(prompts):
            raise SpecError(
                "pairs_per_participant",
                f"is {self.pairs_per_participant} but there are only {len(prompts)} prompts and a participant never "
                "sees a prompt twice (set repeat_prompts: true for test-retest)",
            )
        return self

    def normalised(self) -> dict:
        return {
            "slug": self.slug,
            "title": self.title,
            "description": self.description,
            "language": self.language,
            "participant_title": self.participant_title,
            "seeker_speaker": self.seeker_speaker,
            "prompts": self.prompts if self.prompts is not None else self.prompts_file,
            "systems": self.systems,
            "criteria": self.criteria if self.criteria is not None else _criteria_list(None),
            "pairs_per_participant": self.pairs_per_participant,
            "judgments_per_pair": self.judgments_per_pair,
            "repeat_prompts": self.repeat_prompts,
            "attention_checks": self.attention_checks if self.attention_checks is not None else _dump(
                spec_validate(AttentionChecks, {})),
            "consent": self.consent.model_dump(),
            "survey": self.survey if self.survey is not None else [],
            "instructions": self.instructions,
            "recruitment": self.recruitment.model_dump(),
            "reservation_minutes": self.reservation_minutes,
            "pairs_reserved_at_once": self.pairs_reserved_at_once,
        }


def _criteria_list(raw: Any) -> list[dict]:
    if raw is None:
        raw = DEFAULT_CRITERIA
    if not isinstance(raw, list) or not raw:
        raise SpecError("", "needs a list of at least one question (the first is the overall one)")
    criteria = [_dump(spec_validate(Criterion, row, path=f"[{i}]")) for i, row in enumerate(raw)]
    _unique([c["name"] for c in criteria], "[{}].name", "duplicate criterion {!r}")
    return criteria


def _dump(model: SpecModel) -> dict:
    return model.model_dump()


def _unique(values: list[str], path: str, message: str) -> None:
    seen: set[str] = set()
    for i, value in enumerate(values):
        if value in seen:
            raise SpecError(path.format(i), message.format(value))
        seen.add(value)


def prompts_file_parse(path: Path, *, seeker: str) -> list[dict]:
    """Reads a JSONL prompts file ``{id, context}``; errors name the file, line and field."""
    prompts = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise SpecError("", f"cannot read {path}: {exc.strerror}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path.name}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise _outside(SpecError(where, f"not valid JSON ({exc.msg})")) from exc
        if not isinstance(row, dict):
            raise _outside(SpecError(where, "each line must be a JSON object {id, context}"))
        try:
            prompts.append(spec_validate(Prompt, row, context={"seeker": seeker}, path=where).normalised())
        except SpecError as exc:
            raise _outside(exc) from None
    return prompts


class _OutsideSpec(SpecError):
    """A problem in a file the spec names: its path is the file's (``prompts.jsonl:2.context[0].text``), not
    under the spec key that named the file."""

    paths_are_absolute = True


def _outside(exc: SpecError) -> SpecError:
    return _OutsideSpec(problems=exc.problems)


def spec_parse(source: str | dict, *, base_dir: Path | None = None) -> dict:
    """Validates a spec (YAML/JSON text or a mapping) and returns it normalised; raises ``SpecError``."""
    context = {"base_dir": base_dir}
    if isinstance(source, dict):
        return spec_validate(StudySpec, source, context=context).normalised()
    data, lines = spec_text_read(source)
    try:
        return spec_validate(StudySpec, data, context=context).normalised()
    except SpecError as exc:
        raise exc.located(lines) from None


def spec_load_file(path: Path) -> dict:
    """Reads and parses a spec file; a prompts_file is resolved beside it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError("", f"cannot read {path}: {exc.strerror}") from exc
    return spec_parse(text, base_dir=path.parent)
