"""The pydantic plumbing shared by project and study specs: a base model whose errors are ours.

Spec models declare their shape (keys, defaults, nesting) as pydantic models and check values with validators
that raise ``SpecError(relative_path, message)``; ``spec_validate`` turns pydantic's ValidationError into one
``SpecError`` whose problems carry the full key path (``criteria[1].rationale``) and plain messages."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from webapp.specs.errors import SpecError, SpecProblem

Model = TypeVar("Model", bound="SpecModel")


class SpecModel(BaseModel):
    """A mapping in a spec. Unknown keys are refused naming the key and the known ones; a key given as null
    reads as left out (its default applies), as researchers write ``help:`` with nothing after it."""

    model_config = ConfigDict(extra="forbid", strict=True, arbitrary_types_allowed=True)

    @model_validator(mode="before")
    @classmethod
    def _mapping_without_nulls(cls, raw: Any) -> Any:
        if not isinstance(raw, dict):
            raise SpecError("", cls.not_a_mapping_message())
        if cls.model_config.get("extra") == "forbid":
            known = list(cls.model_fields)
            for key in raw:
                if key not in cls.model_fields:
                    raise SpecError(str(key), cls.unknown_key_message(known))
        return {key: value for key, value in raw.items() if value is not None}

    @classmethod
    def not_a_mapping_message(cls) -> str:
        return "must be a mapping"

    @classmethod
    def unknown_key_message(cls, known: list[str]) -> str:
        return f"unknown key (expected one of {', '.join(known)})"


def path_join(*parts: object) -> str:
    """Joins pydantic location parts and relative paths the way ``SpecError`` writes them: ``a.b[2].c``."""
    path = ""
    for part in parts:
        if part == "" or part is None:
            continue
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            text = str(part)
            path = f"{path}.{text}" if path and not text.startswith("[") else path + text
    return path


_PLAIN = {
    "missing": "is required",
    "string_type": "must be text",
    "int_type": "must be a whole number",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
}


def spec_validate(model: type[Model], raw: Any, *, context: dict | None = None, path: str = "") -> Model:
    """``model`` validated from ``raw``; ``SpecError`` listing every problem otherwise (each under ``path`` +
    its location). A validator's own ``SpecError`` keeps its message, its path read relative to the field."""
    try:
        return model.model_validate(raw, context=context)
    except ValidationError as exc:
        problems = [problem for error in exc.errors(include_url=False) for problem in _problems(error, path)]
        raise SpecError(problems=_first_per_path(problems)) from None


def spec_validate_each(model: type[Model], rows: list, *, context: dict | None = None, path: str = "") -> list[Model]:
    """Each of ``rows`` validated as ``model`` (under ``path[i]``); one ``SpecError`` with every row's problems."""
    valid, problems = [], []
    for index, row in enumerate(rows):
        try:
            valid.append(spec_validate(model, row, context=context, path=f"{path}[{index}]"))
        except SpecError as exc:
            problems.extend(exc.problems)
    if problems:
        raise SpecError(problems=problems)
    return valid


def _problems(error: dict, base: str) -> list[SpecProblem]:
    loc = [part for part in error["loc"] if not (isinstance(part, str) and part.startswith("function-"))]
    where = path_join(base, *loc)
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, SpecError):
        if cause.paths_are_absolute:
            return list(cause.problems)
        return [SpecProblem(path_join(where, problem.path), problem.message, problem.line)
                for problem in cause.problems]
    message = _PLAIN.get(error["type"])
    if message is None:
        message = str(error["msg"]).removeprefix("Value error, ")
    elif error["type"] != "missing":
        message = f"{message}, got {error['input']!r}"
    return [SpecProblem(where, message)]


def _first_per_path(problems: list[SpecProblem]) -> list[SpecProblem]:
    seen, kept = set(), []
    for problem in problems:
        if problem.path not in seen:
            seen.add(problem.path)
            kept.append(problem)
    return kept
