"""Annotation project specs: parse, validate and normalise (plain Python, no Django).

A spec is a YAML or JSON document describing one annotation project. ``spec_load`` turns its
text into a plain dict with every default filled, so the rest of the platform reads keys
without ``.get`` chains; ``spec_hash`` gives the stable identity stored beside it and written
into every export manifest. Every error is a ``SpecError`` whose ``path`` names the offending
key exactly (``dimensions[2].type``).

Normalised shape (all keys always present)::

    slug, title, kind ("narrative" | "pair" | "dialogue" | "response"), overlap (int >= 1),
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
from typing import Any

from annotations.importing.items import ITEM_KINDS, ItemDataError, item_data_from_mapping
from webapp.specs import SpecError, slug_check, spec_hash, spec_text_read

__all__ = ["DEMOGRAPHIC_FIELDS", "DIMENSION_TYPES", "SpecError", "dimension_value_clean", "dimension_value_parse",
           "spec_hash", "spec_load", "spec_normalize", "spec_parse_text"]

DIMENSION_TYPES = ("likert", "slider", "choice", "levels", "number", "text")
MEASUREMENT_LEVELS = ("nominal", "ordinal", "interval", "ratio")
DEMOGRAPHIC_FIELDS = ("age_band", "gender", "country", "culture", "native_language", "education")
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
    """Parses, validates and normalises spec text. Raises ``SpecError`` naming the bad key and its line."""
    raw, lines = spec_text_read(text)
    try:
        return spec_normalize(raw)
    except SpecError as exc:
        raise exc.located(lines) from None


def spec_normalize(raw: dict) -> dict:
    """Validates a raw mapping and returns the normalised spec (a new dict, defaults filled)."""
    r = _Reader(raw, "")
    r.allow_keys(
        "slug", "title", "kind", "overlap", "instructions", "consent", "surveys", "dimensions",
        "attention_checks", "gold", "limits", "content_note", "crowd", "export",
    )
    slug = slug_check(r.get("slug"))
    kind = r.one_of("kind", ITEM_KINDS, required=True)
    spec: dict[str, Any] = {
        "slug": slug,
        "title": r.string("title", required=True),
        "kind": kind,
        "overlap": r.integer("overlap", default=3, minimum=1),
        "instructions": r.string("instructions", default=""),
        "content_note": r.string("content_note", default=""),
        "consent": _consent(r.get("consent")),
        "surveys": _surveys(r.get("surveys")),
    }
    spec["dimensions"] = _dimensions(r.get("dimensions"), kind)
    dims = {d["name"]: d for d in spec["dimensions"]}
    spec["attention_checks"] = _attention_checks(r.get("attention_checks"), kind, dims)
    spec["gold"] = _gold(r.get("gold"), dims)
    spec["limits"] = _limits(r.get("limits"))
    spec["crowd"] = _crowd(r.get("crowd"))
    export = _Reader(r.get("export") or {}, "export")
    export.allow_keys("allow_attributes")
    spec["export"] = {"allow_attributes": export.boolean("allow_attributes", default=False)}
    return spec


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
# sections


def _consent(raw: Any) -> dict:
    if raw is None:
        return {"text": "", "required": False}
    if isinstance(raw, str):
        return {"text": raw, "required": True}
    r = _Reader(raw, "consent")
    r.allow_keys("text", "required")
    return {"text": r.string("text", required=True), "required": r.boolean("required", default=True)}


def _surveys(raw: Any) -> dict:
    r = _Reader(raw or {}, "surveys")
    r.allow_keys("before", "after")
    return {stage: _survey(r.get(stage), f"surveys.{stage}") for stage in ("before", "after")}


def _survey(raw: Any, path: str) -> dict:
    r = _Reader(raw or {}, path)
    r.allow_keys("demographic", "questions")
    demographic = r.get("demographic", False)
    if demographic is True:
        fields = list(DEMOGRAPHIC_FIELDS)
    elif demographic is False or demographic is None:
        fields = []
    elif isinstance(demographic, list):
        fields = []
        for i, field in enumerate(demographic):
            if field not in DEMOGRAPHIC_FIELDS:
                raise SpecError(f"{path}.demographic[{i}]", _not_one_of(field, DEMOGRAPHIC_FIELDS))
            fields.append(field)
    else:
        raise SpecError(f"{path}.demographic", "must be true, false or a list of fields")
    questions, names = [], set(fields)
    for i, q in enumerate(r.items("questions")):
        qp = f"{path}.questions[{i}]"
        qr = _Reader(q, qp)
        qr.allow_keys("name", "question", "type", "choices", "min", "max", "required")
        name = qr.identifier("name")
        if name in names:
            raise SpecError(f"{qp}.name", f"{name!r} is used twice in this survey")
        names.add(name)
        qtype = qr.one_of("type", SURVEY_QUESTION_TYPES, default="text")
        question = {
            "name": name,
            "question": qr.string("question", required=True),
            "type": qtype,
            "choices": _choices(qr, required=qtype == "choice"),
            "min": qr.number("min", default=1 if qtype == "likert" else None),
            "max": qr.number("max", default=5 if qtype == "likert" else None),
            "required": qr.boolean("required", default=True),
        }
        questions.append(question)
    return {"demographic": fields, "questions": questions}


def _dimensions(raw: Any, kind: str) -> list[dict]:
    if not isinstance(raw, list) or not raw:
        raise SpecError("dimensions", "must be a non-empty list")
    dims, seen = [], set()
    for i, entry in enumerate(raw):
        path = f"dimensions[{i}]"
        r = _Reader(entry, path)
        r.allow_keys(
            "name", "question", "help", "type", "min", "max", "step", "choices", "labels", "level",
            "required", "per_turn", "randomize_order",
        )
        name = r.identifier("name")
        if name in RESERVED_DIMENSION_NAMES or name.startswith("annotator_"):
            raise SpecError(f"{path}.name", f"{name!r} is reserved for export columns")
        if name in seen:
            raise SpecError(f"{path}.name", f"{name!r} is used by an earlier dimension")
        seen.add(name)
        dtype = r.one_of("type", DIMENSION_TYPES, required=True)
        defaults = _TYPE_DEFAULTS[dtype]
        dim = {
            "name": name,
            "question": r.string("question", required=True),
            "help": r.string("help", default=""),
            "type": dtype,
            "min": r.number("min", default=defaults["min"]),
            "max": r.number("max", default=defaults["max"]),
            "step": r.number("step", default=defaults["step"]),
            "choices": _choices(r, required=dtype == "choice"),
            "level": _level(r, dtype, defaults["level"]),
            "required": r.boolean("required", default=dtype != "text"),
            "per_turn": r.boolean("per_turn", default=False),
            "randomize_order": _randomize(r.get("randomize_order"), f"{path}.randomize_order"),
        }
        _check_scale(dim, r, path)
        dim["labels"] = _labels(r.get("labels"), dim, f"{path}.labels")
        if dim["per_turn"] and kind != "dialogue":
            raise SpecError(f"{path}.per_turn", f"only dialogue projects have turns (kind is {kind!r})")
        dims.append(dim)
    return dims


def _level(r: _Reader, dtype: str, default: str | None) -> str | None:
    level = r.one_of("level", MEASUREMENT_LEVELS, default=default)
    if dtype == "text" and level is not None:
        raise SpecError(f"{r.path}.level", "a text dimension has no level of measurement")
    if dtype == "choice" and level not in ("nominal", "ordinal"):
        raise SpecError(f"{r.path}.level", f"a choice dimension is nominal or ordinal, not {level!r}")
    return level


def _check_scale(dim: dict, r: _Reader, path: str) -> None:
    dtype, lo, hi, step = dim["type"], dim["min"], dim["max"], dim["step"]
    if dtype in ("choice", "text"):
        for key in ("min", "max", "step"):
            if r.get(key) is not None:
                raise SpecError(f"{path}.{key}", f"a {dtype} dimension has no numeric scale")
        return
    if dim["choices"]:
        raise SpecError(f"{path}.choices", f"only choice dimensions take choices (type is {dtype!r})")
    if lo is not None and hi is not None and lo >= hi:
        raise SpecError(f"{path}.max", f"max ({_fmt(hi)}) must be greater than min ({_fmt(lo)})")
    if step is not None and step <= 0:
        raise SpecError(f"{path}.step", "must be positive")
    if dtype in ("likert", "levels"):
        for key, value in (("min", lo), ("max", hi), ("step", step)):
            if value != int(value):
                raise SpecError(f"{path}.{key}", f"a {dtype} scale has whole points, got {_fmt(value)}")


def _choices(r: _Reader, *, required: bool) -> list[dict]:
    raw = r.get("choices")
    if raw is None:
        if required:
            raise SpecError(f"{r.path}.choices", "required for a choice question")
        return []
    if not isinstance(raw, list) or not raw:
        raise SpecError(f"{r.path}.choices", "must be a non-empty list")
    choices, values = [], set()
    for i, c in enumerate(raw):
        cp = f"{r.path}.choices[{i}]"
        if isinstance(c, dict):
            cr = _Reader(c, cp)
            cr.allow_keys("value", "label")
            value = cr.get("value")
            label = cr.string("label", default=str(value))
        else:
            value, label = c, str(c)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise SpecError(cp, f"a choice value is a string or a number, got {value!r}")
        if value in values:
            raise SpecError(cp, f"{value!r} is listed twice")
        values.add(value)
        choices.append({"value": value, "label": label})
    if len({isinstance(c["value"], str) for c in choices}) > 1:
        raise SpecError(f"{r.path}.choices", "values must be all strings or all numbers")
    return choices


def _labels(raw: Any, dim: dict, path: str) -> dict[str, str]:
    """Scale-point labels keyed by the point written as text ("1", "2.5") for JSON safety."""
    if raw is None:
        return {}
    if dim["type"] in ("choice", "text"):
        raise SpecError(path, f"a {dim['type']} dimension has no scale points to label")
    if isinstance(raw, list):  # labels listed in order from min
        if dim["min"] is None or dim["step"] is None:
            raise SpecError(path, "a list of labels needs min and step; use a mapping instead")
        raw = {dim["min"] + i * dim["step"]: label for i, label in enumerate(raw)}
    if not isinstance(raw, dict):
        raise SpecError(path, "must be a mapping of scale point to label, or a list")
    labels = {}
    for point, label in raw.items():
        try:
            value = dimension_value_clean(dim, point)
        except ValueError as exc:
            raise SpecError(f"{path}.{point}", str(exc)) from None
        if not isinstance(label, str):
            raise SpecError(f"{path}.{point}", "a label is text")
        labels[_fmt(value)] = label
    return labels


def _randomize(raw: Any, path: str) -> str | None:
    """A group name: dimensions sharing it are shown in a random order among themselves."""
    if raw is None or raw is False:
        return None
    if raw is True:
        return "default"
    if isinstance(raw, str) and raw:
        return raw
    raise SpecError(path, "is a group name, true or false")


def _attention_checks(raw: Any, kind: str, dims: dict[str, dict]) -> dict:
    r = _Reader(raw or {}, "attention_checks")
    r.allow_keys("rate", "policy", "items")
    rate = r.number("rate", default=0.0)
    if not 0 <= rate <= 1:
        raise SpecError("attention_checks.rate", "is a fraction between 0 and 1")
    policy = _Reader(r.get("policy") or {}, "attention_checks.policy")
    policy.allow_keys("warn_after", "end_after")
    warn_after = policy.integer("warn_after", default=1, minimum=1)
    end_after = policy.integer("end_after", default=3, minimum=1)
    if end_after < warn_after:
        raise SpecError("attention_checks.policy.end_after", "must not be smaller than warn_after")
    items, ids = [], set()
    for i, entry in enumerate(r.items("items")):
        path = f"attention_checks.items[{i}]"
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
    if rate > 0 and not items:
        raise SpecError("attention_checks.items", "a positive rate needs at least one check item")
    return {"rate": float(rate), "policy": {"warn_after": warn_after, "end_after": end_after}, "items": items}


def _gold(raw: Any, dims: dict[str, dict]) -> dict:
    r = _Reader(raw or {}, "gold")
    r.allow_keys("rate", "min_accuracy", "answers")
    rate = r.number("rate", default=0.0)
    if not 0 <= rate <= 1:
        raise SpecError("gold.rate", "is a fraction between 0 and 1")
    min_accuracy = r.number("min_accuracy", default=None)
    if min_accuracy is not None and not 0 <= min_accuracy <= 1:
        raise SpecError("gold.min_accuracy", "is a fraction between 0 and 1")
    answers_raw = r.get("answers") or {}
    if not isinstance(answers_raw, dict):
        raise SpecError("gold.answers", "must map item ids to {dimension: value}")
    answers = {
        str(item_id): _answers(expect, dims, f"gold.answers.{item_id}", required=True)
        for item_id, expect in answers_raw.items()
    }
    return {"rate": float(rate), "min_accuracy": min_accuracy, "answers": answers}


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


def _limits(raw: Any) -> dict:
    r = _Reader(raw or {}, "limits")
    keys = ("items_per_annotator", "session_items", "session_minutes", "break_every_minutes", "break_minutes")
    r.allow_keys(*keys)
    return {key: r.integer(key, default=None, minimum=1) for key in keys}


def _crowd(raw: Any) -> dict:
    r = _Reader(raw or {}, "crowd")
    r.allow_keys("completion_code", "redirect_url", "no_work_code", "min_labels")
    url = r.string("redirect_url", default=None)
    if url is not None and not re.match(r"^https?://[^\s\x00-\x1f\x7f]+$", url):
        raise SpecError("crowd.redirect_url", f"{url!r} is not an http(s) URL (no spaces or control characters)")
    # labels an annotator must have stored to be given the completion code (0: the code is given to everyone)
    return {"completion_code": r.string("completion_code", default=None), "redirect_url": url,
            "no_work_code": r.string("no_work_code", default=None),
            "min_labels": r.integer("min_labels", default=1, minimum=0)}


# ---------------------------------------------------------------------------------------------
# helpers


class _Reader:
    """Typed access to one mapping of a spec, raising SpecError with the key's full path."""

    _MISSING = object()

    def __init__(self, raw: Any, path: str):
        if not isinstance(raw, dict):
            raise SpecError(path, "must be a mapping")
        self.raw, self.path = raw, path

    def _p(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def allow_keys(self, *keys: str) -> None:
        for key in self.raw:
            if key not in keys:
                raise SpecError(self._p(str(key)), f"unknown key (expected one of {', '.join(keys)})")

    def get(self, key: str, default: Any = None) -> Any:
        return self.raw.get(key, default)

    def string(self, key: str, *, required: bool = False, default: Any = None) -> Any:
        value = self.raw.get(key)
        if value is None:
            if required:
                raise SpecError(self._p(key), "is required")
            return default
        if not isinstance(value, str) or (required and not value.strip()):
            raise SpecError(self._p(key), f"must be non-empty text, got {value!r}")
        return value

    def identifier(self, key: str) -> str:
        value = self.string(key, required=True)
        if not _NAME_RE.match(value):
            raise SpecError(self._p(key), f"{value!r} must be lowercase letters, digits and _ (start with a letter)")
        return value

    def one_of(self, key: str, options: tuple[str, ...], *, required: bool = False, default: Any = None) -> Any:
        value = self.raw.get(key)
        if value is None:
            if required:
                raise SpecError(self._p(key), f"is required (one of {', '.join(options)})")
            return default
        if value not in options:
            raise SpecError(self._p(key), _not_one_of(value, options))
        return value

    def boolean(self, key: str, *, default: bool) -> bool:
        value = self.raw.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise SpecError(self._p(key), f"must be true or false, got {value!r}")
        return value

    def number(self, key: str, *, default: Any) -> Any:
        value = self.raw.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise SpecError(self._p(key), f"must be a number, got {value!r}")
        return value

    def integer(self, key: str, *, default: Any, minimum: int | None = None) -> Any:
        value = self.raw.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise SpecError(self._p(key), f"must be a whole number, got {value!r}")
        if minimum is not None and value < minimum:
            raise SpecError(self._p(key), f"must be at least {minimum}, got {value}")
        return value

    def items(self, key: str) -> list:
        value = self.raw.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise SpecError(self._p(key), "must be a list")
        return value


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
