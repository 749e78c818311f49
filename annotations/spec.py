"""Annotation project specs: parse, validate and normalise (plain Python, no Django).

A spec is a YAML or JSON document describing one annotation project. ``spec_load`` turns its
text into a plain dict with every default filled, so the rest of the platform reads keys
without ``.get`` chains; ``spec_hash`` gives the stable identity stored beside it and written
into every export manifest. Every error is a ``SpecError`` listing the problems found, each naming the
offending key exactly (``dimensions[2].type``) and, for text, its YAML line. The shape is the pydantic
models below (``webapp.specs.models``); each section's model reads its keys, defaults and rules.

Normalised shape (all keys always present)::

    slug, title, language ("en" | "de": the crowd pages' language), kind ("narrative" | "pair" | "dialogue" | "response"), overlap (int >= 1),
    instructions (Markdown str), content_note (Markdown str),
    consent: {text, required}
    surveys: {before: {demographic: [field...], questions: [question...]}, after: {...}}
    dimensions: [{name, question, help, type, min, max, step, choices, labels, level,
                  required, per_turn, randomize_order}]
    attention_checks: {rate, policy: {warn_after, end_after}, items: [{id, data, expect}]}
    gold: {rate, min_accuracy, answers: {item_id: {dimension: value}}}
    limits: {items_per_annotator, session_items, session_minutes, break_every_minutes}
    crowd: {completion_code, redirect_url, no_work_code (shown to a newcomer when no work is left), min_labels}
    export: {allow_attributes}

Per-turn dimension values (dialogues) are stored as ``{dimension: {"<turn index>": value}}``.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, ClassVar

from pydantic import Field, PlainValidator, ValidationInfo, field_validator, model_validator

from annotations.importing.items import ITEM_KINDS, ItemDataError, item_data_from_mapping
from webapp.people.surveys import ATTRIBUTE_NAMES as DEMOGRAPHIC_FIELDS
from webapp.specs import SpecError, language_check, slug_check, spec_hash, spec_text_read
from webapp.specs.models import SpecModel, spec_validate, spec_validate_each

__all__ = ["DEMOGRAPHIC_FIELDS", "DIMENSION_TYPES", "SpecError", "dimension_value_clean", "dimension_value_parse",
           "spec_hash", "spec_load", "spec_normalize", "spec_parse_text"]

DIMENSION_TYPES = ("likert", "slider", "choice", "levels", "number", "text")
MEASUREMENT_LEVELS = ("nominal", "ordinal", "interval", "ratio")
SURVEY_QUESTION_TYPES = ("text", "number", "choice", "likert")

# Export rows use these as column names, so a dimension may not take them.
RESERVED_DIMENSION_NAMES = frozenset(
    {
        "label_id", "project", "item_id", "item_kind", "text", "text_a", "text_b", "context",
        "response", "turns", "item_metadata", "annotator", "source", "created_at", "seconds",
    }
)
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

_TYPE_DEFAULTS: dict[str, dict[str, Any]] = {
    "likert": {"min": 1, "max": 5, "step": 1, "level": "ordinal"},
    "slider": {"min": 0, "max": 100, "step": 1, "level": "interval"},
    "levels": {"min": 0, "max": 2, "step": 1, "level": "ordinal"},
    "number": {"min": None, "max": None, "step": None, "level": "interval"},
    "choice": {"min": None, "max": None, "step": None, "level": "nominal"},
    "text": {"min": None, "max": None, "step": None, "level": None},
}


# ---------------------------------------------------------------------------------------------
# public API


def spec_parse_text(text: str) -> dict:
    """Parses YAML or JSON text (JSON is valid YAML) into a raw mapping; no validation."""
    return spec_text_read(text)[0]


def spec_load(text: str) -> dict:
    """Parses, validates and normalises spec text. Raises ``SpecError`` naming the bad keys and their lines."""
    raw, lines = spec_text_read(text)
    try:
        return spec_normalize(raw)
    except SpecError as exc:
        raise exc.located(lines) from None


def spec_normalize(raw: dict) -> dict:
    """Validates a raw mapping and returns the normalised spec (a new dict, defaults filled)."""
    return spec_validate(ProjectSpec, raw, context={}).normalised()


def dimension_value_clean(dimension: dict, value: Any) -> Any:
    """Checks one value against a normalised dimension's scale; returns it in canonical type.

    likert/levels -> int, slider/number -> float, choice -> the declared choice value,
    text -> str. Raises ``ValueError`` with a message fit to show to the researcher.
    """
    kind = dimension["type"]
    if kind == "text":
        if not isinstance(value, str):
            raise ValueError(f"expected text, got {value!r}")
        return value
    if kind == "choice":
        for choice in dimension["choices"]:
            if value == choice["value"] or str(value) == str(choice["value"]):
                return choice["value"]
        allowed = ", ".join(str(c["value"]) for c in dimension["choices"])
        raise ValueError(f"{value!r} is not one of {allowed}")
    number = _as_number(value)
    if number is None:
        raise ValueError(f"expected a number, got {value!r}")
    lo, hi, step = dimension["min"], dimension["max"], dimension["step"]
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        raise ValueError(f"{value!r} is outside {_fmt(lo)}..{_fmt(hi)}")
    if step:
        base = lo if lo is not None else 0
        steps = (number - base) / step
        if abs(steps - round(steps)) > 1e-9:
            raise ValueError(f"{value!r} is not on the scale's step of {_fmt(step)}")
    if kind in ("likert", "levels"):
        return int(round(number))
    return float(number)


def dimension_value_parse(dimension: dict, text: str) -> Any:
    """Like ``dimension_value_clean`` for a value read as text (CSV cell); blank is the caller's job."""
    if dimension["type"] in ("text", "choice"):
        return dimension_value_clean(dimension, text)
    return dimension_value_clean(dimension, text.strip())


# ---------------------------------------------------------------------------------------------
# values: each reads a key that may be left out (None), with the message a researcher reads


def _given() -> Any:
    """A key's default: left out reads as None, and the key's validator decides what that means."""
    return Field(default=None, validate_default=True)


def _read_text(value: Any, *, required: bool = False, default: Any = None) -> Any:
    if value is None:
        if required:
            raise SpecError("", "is required")
        return default
    if not isinstance(value, str) or (required and not value.strip()):
        raise SpecError("", f"must be non-empty text, got {value!r}")
    return value


def _read_one_of(value: Any, options: tuple[str, ...], *, required: bool = False, default: Any = None) -> Any:
    if value is None:
        if required:
            raise SpecError("", f"is required (one of {', '.join(options)})")
        return default
    if value not in options:
        raise SpecError("", _not_one_of(value, options))
    return value


def _read_flag(value: Any, *, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise SpecError("", f"must be true or false, got {value!r}")
    return value


def _identifier(value: Any) -> str:
    value = _read_text(value, required=True)
    if not _NAME_RE.match(value):
        raise SpecError("", f"{value!r} must be lowercase letters, digits and _ (start with a letter)")
    return value


def _text(*, required: bool = False, default: Any = None):
    return Annotated[Any, PlainValidator(lambda value: _read_text(value, required=required, default=default))]


def _one_of(options: tuple[str, ...], *, required: bool = False, default: Any = None):
    return Annotated[Any, PlainValidator(
        lambda value: _read_one_of(value, options, required=required, default=default))]


def _flag(*, default: bool):
    return Annotated[Any, PlainValidator(lambda value: _read_flag(value, default=default))]


def _number_or_none(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SpecError("", f"must be a number, got {value!r}")
    return value


def _number(*, default: Any):
    return Annotated[Any, PlainValidator(lambda value: default if value is None else _number_or_none(value))]


def _whole(*, default: Any, minimum: int | None = None):
    def check(value: Any) -> Any:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise SpecError("", f"must be a whole number, got {value!r}")
        if minimum is not None and value < minimum:
            raise SpecError("", f"must be at least {minimum}, got {value}")
        return value

    return Annotated[Any, PlainValidator(check)]


def _list(value: Any) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise SpecError("", "must be a list")
    return value


Raw = Annotated[Any, PlainValidator(lambda value: value)]


class _Section(SpecModel):
    """A mapping of a project spec: unknown keys are refused, naming the keys it takes in the order written."""

    KEYS: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def unknown_key_message(cls, known: list[str]) -> str:
        return f"unknown key (expected one of {', '.join(cls.KEYS or tuple(known))})"


def _section(model: type[SpecModel], raw: Any, info: ValidationInfo) -> dict:
    """A section given as a mapping (or left out / empty: its defaults), normalised by ``model``."""
    return spec_validate(model, raw or {}, context=info.context).normalised()


def _kind(info: ValidationInfo) -> str | None:
    return (info.context or {}).get("kind")


# ---------------------------------------------------------------------------------------------
# sections


class Consent(_Section):
    text: _text(required=True) = _given()
    required: _flag(default=True) = _given()

    def normalised(self) -> dict:
        return {"text": self.text, "required": self.required}


def _consent(raw: Any, info: ValidationInfo) -> dict:
    if raw is None:
        return {"text": "", "required": False}
    if isinstance(raw, str):
        return {"text": raw, "required": True}
    return spec_validate(Consent, raw, context=info.context).normalised()


def _choices(raw: Any, *, required: bool) -> list[dict]:
    if raw is None:
        if required:
            raise SpecError("", "required for a choice question")
        return []
    if not isinstance(raw, list) or not raw:
        raise SpecError("", "must be a non-empty list")
    choices, values = [], set()
    for i, c in enumerate(raw):
        if isinstance(c, dict):
            choice = spec_validate(Choice, c, path=f"[{i}]")
            value, label = choice.value, choice.label if choice.label is not None else str(choice.value)
        else:
            value, label = c, str(c)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise SpecError(f"[{i}]", f"a choice value is a string or a number, got {value!r}")
        if value in values:
            raise SpecError(f"[{i}]", f"{value!r} is listed twice")
        values.add(value)
        choices.append({"value": value, "label": label})
    if len({isinstance(c["value"], str) for c in choices}) > 1:
        raise SpecError("", "values must be all strings or all numbers")
    return choices


class Choice(_Section):
    value: Raw = _given()
    label: _text() = _given()


class SurveyQuestion(_Section):
    KEYS: ClassVar[tuple[str, ...]] = ("name", "question", "type", "choices", "min", "max", "required")

    name: Annotated[Any, PlainValidator(_identifier)] = _given()
    type: _one_of(SURVEY_QUESTION_TYPES, default="text") = _given()
    question: _text(required=True) = _given()
    choices: Raw = _given()
    min: Raw = _given()
    max: Raw = _given()
    required: _flag(default=True) = _given()

    @field_validator("choices", mode="plain")
    @classmethod
    def _choices(cls, raw: Any, info: ValidationInfo) -> list[dict]:
        return _choices(raw, required=info.data.get("type") == "choice")

    @field_validator("min", "max", mode="plain")
    @classmethod
    def _bound(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.data.get("type") == "likert":
            return 1 if info.field_name == "min" else 5
        return _number_or_none(value)

    def normalised(self) -> dict:
        return {"name": self.name, "question": self.question, "type": self.type, "choices": self.choices,
                "min": self.min, "max": self.max, "required": self.required}


class Survey(_Section):
    demographic: Raw = _given()
    questions: Annotated[Any, PlainValidator(_list)] = _given()

    @field_validator("demographic", mode="plain")
    @classmethod
    def _demographic(cls, demographic: Any) -> list[str]:
        if demographic is True:
            return list(DEMOGRAPHIC_FIELDS)
        if demographic is False or demographic is None:
            return []
        if not isinstance(demographic, list):
            raise SpecError("", "must be true, false or a list of fields")
        for i, field in enumerate(demographic):
            if field not in DEMOGRAPHIC_FIELDS:
                raise SpecError(f"[{i}]", _not_one_of(field, DEMOGRAPHIC_FIELDS))
        return list(demographic)

    @model_validator(mode="after")
    def _questions(self) -> Survey:
        questions = spec_validate_each(SurveyQuestion, self.questions, path="questions")
        names = set(self.demographic)
        for i, question in enumerate(questions):
            if question.name in names:
                raise SpecError(f"questions[{i}].name", f"{question.name!r} is used twice in this survey")
            names.add(question.name)
        self.questions = [question.normalised() for question in questions]
        return self

    def normalised(self) -> dict:
        return {"demographic": self.demographic, "questions": self.questions}


class Surveys(_Section):
    before: Raw = _given()
    after: Raw = _given()

    @field_validator("before", "after", mode="plain")
    @classmethod
    def _survey(cls, raw: Any, info: ValidationInfo) -> dict:
        return _section(Survey, raw, info)

    def normalised(self) -> dict:
        return {"before": self.before, "after": self.after}


class Dimension(_Section):
    KEYS: ClassVar[tuple[str, ...]] = ("name", "question", "help", "type", "min", "max", "step", "choices", "labels", "level", "required",
            "per_turn", "randomize_order")

    name: Annotated[Any, PlainValidator(_identifier)] = _given()
    type: _one_of(DIMENSION_TYPES, required=True) = _given()
    question: _text(required=True) = _given()
    help: _text(default="") = _given()
    min: Raw = _given()
    max: Raw = _given()
    step: Raw = _given()
    choices: Raw = _given()
    level: Raw = _given()
    required: Raw = _given()
    per_turn: _flag(default=False) = _given()
    randomize_order: Raw = _given()
    labels: Raw = _given()

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, name: str) -> str:
        if name in RESERVED_DIMENSION_NAMES or name.startswith("annotator_"):
            raise SpecError("", f"{name!r} is reserved for export columns")
        return name

    @field_validator("min", "max", "step", mode="plain")
    @classmethod
    def _scale(cls, value: Any, info: ValidationInfo) -> Any:
        dtype = info.data.get("type")
        value = _number_or_none(value)
        if value is not None and dtype in ("choice", "text"):
            raise SpecError("", f"a {dtype} dimension has no numeric scale")
        if value is None and dtype in _TYPE_DEFAULTS:
            return _TYPE_DEFAULTS[dtype][info.field_name]
        return value

    @field_validator("choices", mode="plain")
    @classmethod
    def _choices(cls, raw: Any, info: ValidationInfo) -> list[dict]:
        return _choices(raw, required=info.data.get("type") == "choice")

    @field_validator("level", mode="plain")
    @classmethod
    def _level(cls, level: Any, info: ValidationInfo) -> Any:
        dtype = info.data.get("type")
        default = _TYPE_DEFAULTS[dtype]["level"] if dtype in _TYPE_DEFAULTS else None
        level = _read_one_of(level, MEASUREMENT_LEVELS, default=default)
        if dtype == "text" and level is not None:
            raise SpecError("", "a text dimension has no level of measurement")
        if dtype == "choice" and level not in ("nominal", "ordinal"):
            raise SpecError("", f"a choice dimension is nominal or ordinal, not {level!r}")
        return level

    @field_validator("required", mode="plain")
    @classmethod
    def _required(cls, value: Any, info: ValidationInfo) -> bool:
        return _read_flag(value, default=info.data.get("type") != "text")

    @field_validator("randomize_order", mode="plain")
    @classmethod
    def _randomize(cls, raw: Any) -> str | None:
        """A group name: dimensions sharing it are shown in a random order among themselves."""
        if raw is None or raw is False:
            return None
        if raw is True:
            return "default"
        if isinstance(raw, str) and raw:
            return raw
        raise SpecError("", "is a group name, true or false")

    @model_validator(mode="after")
    def _scale_consistent_and_labelled(self) -> Dimension:
        dtype, lo, hi, step = self.type, self.min, self.max, self.step
        if dtype not in ("choice", "text"):
            if self.choices:
                raise SpecError("choices", f"only choice dimensions take choices (type is {dtype!r})")
            if lo is not None and hi is not None and lo >= hi:
                raise SpecError("max", f"max ({_fmt(hi)}) must be greater than min ({_fmt(lo)})")
            if step is not None and step <= 0:
                raise SpecError("step", "must be positive")
            if dtype in ("likert", "levels"):
                for key, value in (("min", lo), ("max", hi), ("step", step)):
                    if value != int(value):
                        raise SpecError(key, f"a {dtype} scale has whole points, got {_fmt(value)}")
        self.labels = _labels(self.labels, self.normalised())
        return self

    def normalised(self) -> dict:
        return {"name": self.name, "question": self.question, "help": self.help, "type": self.type,
                "min": self.min, "max": self.max, "step": self.step, "choices": self.choices,
                "level": self.level, "required": self.required, "per_turn": self.per_turn,
                "randomize_order": self.randomize_order, "labels": self.labels}


def _labels(raw: Any, dim: dict) -> dict[str, str]:
    """Scale-point labels keyed by the point written as text ("1", "2.5") for JSON safety."""
    if raw is None:
        return {}
    if dim["type"] in ("choice", "text"):
        raise SpecError("labels", f"a {dim['type']} dimension has no scale points to label")
    if isinstance(raw, list):  # labels listed in order from min
        if dim["min"] is None or dim["step"] is None:
            raise SpecError("labels", "a list of labels needs min and step; use a mapping instead")
        raw = {dim["min"] + i * dim["step"]: label for i, label in enumerate(raw)}
    if not isinstance(raw, dict):
        raise SpecError("labels", "must be a mapping of scale point to label, or a list")
    labels = {}
    for point, label in raw.items():
        try:
            value = dimension_value_clean(dim, point)
        except ValueError as exc:
            raise SpecError(f"labels.{point}", str(exc)) from None
        if not isinstance(label, str):
            raise SpecError(f"labels.{point}", "a label is text")
        labels[_fmt(value)] = label
    return labels


class Policy(_Section):
    warn_after: _whole(default=1, minimum=1) = _given()
    end_after: _whole(default=3, minimum=1) = _given()

    @model_validator(mode="after")
    def _warn_first(self) -> Policy:
        if self.end_after < self.warn_after:
            raise SpecError("end_after", "must not be smaller than warn_after")
        return self

    def normalised(self) -> dict:
        return {"warn_after": self.warn_after, "end_after": self.end_after}


def _fraction(value: Any) -> Any:
    value = _number_or_none(value)
    if value is not None and not 0 <= value <= 1:
        raise SpecError("", "is a fraction between 0 and 1")
    return value


Fraction = Annotated[Any, PlainValidator(lambda value: 0.0 if value is None else _fraction(value))]


class AttentionChecks(_Section):
    rate: Fraction = _given()
    policy: Raw = _given()
    items: Annotated[Any, PlainValidator(_list)] = _given()

    @field_validator("policy", mode="plain")
    @classmethod
    def _policy(cls, raw: Any, info: ValidationInfo) -> dict:
        return _section(Policy, raw, info)

    @model_validator(mode="after")
    def _items_checked(self, info: ValidationInfo) -> AttentionChecks:
        kind, dims = _kind(info), (info.context or {}).get("dims", {})
        items, ids = [], set()
        for i, entry in enumerate(self.items):
            path = f"items[{i}]"
            if not isinstance(entry, dict):
                raise SpecError(path, "must be a mapping")
            fields = {k: v for k, v in entry.items() if k != "expect"}
            item_id = fields.pop("id", None)
            if not isinstance(item_id, str | int) or isinstance(item_id, bool) or str(item_id) == "":
                raise SpecError(f"{path}.id", "required (text)")
            if str(item_id) in ids:
                raise SpecError(f"{path}.id", f"{item_id!r} is used twice")
            ids.add(str(item_id))
            try:
                data, _meta = item_data_from_mapping(kind, fields)
            except ItemDataError as exc:
                raise SpecError(f"{path}.{exc.field}", exc.message) from None
            expect = _answers(entry.get("expect"), dims, f"{path}.expect", required=True)
            items.append({"id": str(item_id), "data": data, "expect": expect})
        if self.rate > 0 and not items:
            raise SpecError("items", "a positive rate needs at least one check item")
        self.items = items
        return self

    def normalised(self) -> dict:
        return {"rate": float(self.rate), "policy": self.policy, "items": self.items}


class Gold(_Section):
    rate: Fraction = _given()
    min_accuracy: Annotated[Any, PlainValidator(_fraction)] = _given()
    answers: Raw = _given()

    @field_validator("answers", mode="plain")
    @classmethod
    def _answers(cls, raw: Any, info: ValidationInfo) -> dict:
        raw = raw or {}
        if not isinstance(raw, dict):
            raise SpecError("", "must map item ids to {dimension: value}")
        dims = (info.context or {}).get("dims", {})
        return {str(item_id): _answers(expect, dims, str(item_id), required=True) for item_id, expect in raw.items()}

    def normalised(self) -> dict:
        return {"rate": float(self.rate), "min_accuracy": self.min_accuracy, "answers": self.answers}


def _answers(raw: Any, dims: dict[str, dict], path: str, *, required: bool) -> dict:
    if not isinstance(raw, dict) or (required and not raw):
        raise SpecError(path, "must map at least one dimension name to its expected value")
    out = {}
    for name, value in raw.items():
        if name not in dims:
            raise SpecError(f"{path}.{name}", _not_one_of(name, list(dims)))
        if dims[name]["per_turn"]:
            raise SpecError(f"{path}.{name}", "per-turn dimensions cannot be expected answers")
        try:
            out[name] = dimension_value_clean(dims[name], value)
        except ValueError as exc:
            raise SpecError(f"{path}.{name}", str(exc)) from None
    return out


_Limit = _whole(default=None, minimum=1)


class Limits(_Section):
    items_per_annotator: _Limit = _given()
    session_items: _Limit = _given()
    session_minutes: _Limit = _given()
    break_every_minutes: _Limit = _given()
    break_minutes: _Limit = _given()

    def normalised(self) -> dict:
        return self.model_dump()


def _redirect_url(url: Any) -> Any:
    url = _read_text(url)
    if url is not None and not re.match(r"^https?://[^\s\x00-\x1f\x7f]+$", url):
        raise SpecError("", f"{url!r} is not an http(s) URL (no spaces or control characters)")
    return url


class Crowd(_Section):
    completion_code: _text() = _given()
    redirect_url: Annotated[Any, PlainValidator(_redirect_url)] = _given()
    no_work_code: _text() = _given()
    # labels an annotator must have stored to be given the completion code (0: the code is given to everyone)
    min_labels: _whole(default=1, minimum=0) = _given()

    def normalised(self) -> dict:
        return {"completion_code": self.completion_code, "redirect_url": self.redirect_url,
                "no_work_code": self.no_work_code, "min_labels": self.min_labels}


class Export(_Section):
    allow_attributes: _flag(default=False) = _given()

    def normalised(self) -> dict:
        return {"allow_attributes": self.allow_attributes}


class ProjectSpec(_Section):
    """The whole project spec. Keys are validated in this order; later sections read the kind and the
    dimensions through the validation context."""

    KEYS: ClassVar[tuple[str, ...]] = ("slug", "title", "language", "kind", "overlap", "instructions", "consent", "surveys", "dimensions",
            "attention_checks", "gold", "limits", "content_note", "crowd", "export")

    slug: Annotated[Any, PlainValidator(lambda value: slug_check(value, path=""))] = _given()
    title: _text(required=True) = _given()
    language: Annotated[Any, PlainValidator(language_check)] = _given()
    kind: _one_of(ITEM_KINDS, required=True) = _given()
    overlap: _whole(default=3, minimum=1) = _given()
    instructions: _text(default="") = _given()
    content_note: _text(default="") = _given()
    consent: Raw = _given()
    surveys: Raw = _given()
    dimensions: Raw = _given()
    attention_checks: Raw = _given()
    gold: Raw = _given()
    limits: Raw = _given()
    crowd: Raw = _given()
    export: Raw = _given()

    @field_validator("kind")
    @classmethod
    def _kind_known(cls, kind: str, info: ValidationInfo) -> str:
        info.context["kind"] = kind
        return kind

    @field_validator("consent", mode="plain")
    @classmethod
    def _consent(cls, raw: Any, info: ValidationInfo) -> dict:
        return _consent(raw, info)

    @field_validator("dimensions", mode="plain")
    @classmethod
    def _dimensions(cls, raw: Any, info: ValidationInfo) -> list[dict]:
        if not isinstance(raw, list) or not raw:
            raise SpecError("", "must be a non-empty list")
        dims, seen = [], set()
        for i, dimension in enumerate(spec_validate_each(Dimension, raw, context=info.context)):
            if dimension.name in seen:
                raise SpecError(f"[{i}].name", f"{dimension.name!r} is used by an earlier dimension")
            seen.add(dimension.name)
            kind = info.data.get("kind")
            if dimension.per_turn and "kind" in info.data and kind != "dialogue":
                raise SpecError(f"[{i}].per_turn", f"only dialogue projects have turns (kind is {kind!r})")
            dims.append(dimension.normalised())
        info.context["dims"] = {d["name"]: d for d in dims}
        return dims

    @field_validator("surveys", "attention_checks", "gold", "limits", "crowd", "export", mode="plain")
    @classmethod
    def _sections(cls, raw: Any, info: ValidationInfo) -> dict:
        model = {"surveys": Surveys, "attention_checks": AttentionChecks, "gold": Gold, "limits": Limits,
                 "crowd": Crowd, "export": Export}[info.field_name]
        if model in (AttentionChecks, Gold) and "dims" not in info.context:
            return {}  # the dimensions are wrong; what these sections say about them cannot be checked yet
        return _section(model, raw, info)

    def normalised(self) -> dict:
        return {"slug": self.slug, "title": self.title, "language": self.language, "kind": self.kind, "overlap": self.overlap,
                "instructions": self.instructions, "content_note": self.content_note, "consent": self.consent,
                "surveys": self.surveys, "dimensions": self.dimensions, "attention_checks": self.attention_checks,
                "gold": self.gold, "limits": self.limits, "crowd": self.crowd, "export": self.export}


# ---------------------------------------------------------------------------------------------
# helpers


def _not_one_of(value: Any, options: Any) -> str:
    return f"{value!r} is not one of {', '.join(options)}"


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _fmt(value: Any) -> str:
    """Numbers as researchers write them: 3 not 3.0."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
