"""Checking one annotator's answers against a project's dimensions (plain Python, no database).

Form fields are named `d__<dimension>` and, for per-turn dimensions, `d__<dimension>__<turn index>`."""

from annotations.spec import dimension_value_parse

MAX_TEXT = 5000


def _check_one(dimension: dict, raw) -> tuple[object, str | None]:
    if dimension["type"] == "text":
        text = str(raw).strip()
        return (text, None) if len(text) <= MAX_TEXT else (None, f"at most {MAX_TEXT} characters")
    try:
        return dimension_value_parse(dimension, raw if isinstance(raw, str) else str(raw)), None
    except ValueError as exc:
        return None, str(exc)


def _blank(raw) -> bool:
    return raw is None or (isinstance(raw, str) and raw.strip() == "")


def turn_count(item_data: dict) -> int:
    return len(item_data.get("turns", []))


def label_values_validate(dimensions: list[dict], item_data: dict, raw_values: dict) -> tuple[dict, dict]:
    """Returns (values, errors). `raw_values` maps dimension name to a value, or for per-turn dimensions to a dict
    {turn index: value}. Errors map `dimension` or `dimension[turn]` to a sentence."""
    values: dict = {}
    errors: dict = {}
    known = {dimension["name"] for dimension in dimensions}
    for name in raw_values:
        if name not in known:
            errors[name] = "no such dimension in this project"
    for dimension in dimensions:
        name = dimension["name"]
        raw = raw_values.get(name)
        if dimension.get("per_turn"):
            per_turn = raw if isinstance(raw, dict) else {}
            checked = {}
            for turn in range(turn_count(item_data)):
                turn_raw = per_turn.get(str(turn), per_turn.get(turn))
                if _blank(turn_raw):
                    if dimension.get("required", True):
                        errors[f"{name}[{turn}]"] = "required"
                    continue
                value, error = _check_one(dimension, turn_raw)
                if error:
                    errors[f"{name}[{turn}]"] = error
                else:
                    checked[str(turn)] = value
            if checked:
                values[name] = checked
            continue
        if _blank(raw):
            if dimension.get("required", True):
                errors[name] = "required"
            continue
        value, error = _check_one(dimension, raw)
        if error:
            errors[name] = error
        else:
            values[name] = value
    return values, errors


def raw_values_from_form(dimensions: list[dict], form) -> dict:
    """Collects `d__` fields of a POSTed form into the dict label_values_validate takes."""
    raw: dict = {}
    for dimension in dimensions:
        name = dimension["name"]
        if dimension.get("per_turn"):
            prefix = f"d__{name}__"
            raw[name] = {key[len(prefix):]: form.get(key) for key in form if key.startswith(prefix)}
        else:
            raw[name] = form.get(f"d__{name}")
    return raw


def control_passed(expected: dict, values: dict) -> bool:
    """An attention check or gold item passes when every expected dimension got the expected value."""
    for name, wanted in expected.items():
        got = values.get(name)
        if isinstance(wanted, (int, float)) and isinstance(got, (int, float)):
            if float(wanted) != float(got):
                return False
        elif str(got) != str(wanted):
            return False
    return True
