"""Regrouping an attribute in a report without re-importing: age bands cut at a threshold, merged categories.

Rules are written the way a researcher types them (page field, API ``regroup`` parameter,
``--regroup`` option), several separated by ``;``:

* ``age_band=45``: cut numbers at 45: "under 45" and "45 and over". Several cuts
  (``age=30,45``) give "under 30", "30 to under 45", "45 and over". A band such as "45-54" or
  "65+" is read by its lower bound, and must not straddle a cut; a value with no number
  ("Prefer not to say") keeps its own group.
* ``country=UK|IE:British Isles,US|CA:North America``: merge the listed values (``|``
  between them) under a new name; values not listed stay as they are.

Used by both the study report (participant attributes) and the agreement report (annotator
attributes); plain pandas, no Django.
"""

from __future__ import annotations

import re

import pandas as pd

_BAND = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(?:(?:-|–|to)\s*(-?\d+(?:\.\d+)?)|\+)?\s*$")


def regroup_parse(text: str | None) -> dict[str, dict]:
    """``{attribute: {"cuts": [float, ...]} | {"merge": {old: new}}}``; raises ValueError naming the problem."""
    rules: dict[str, dict] = {}
    for part in (text or "").split(";"):
        if not part.strip():
            continue
        if "=" not in part:
            raise ValueError(f"{part.strip()!r}: write ATTRIBUTE=CUTS or ATTRIBUTE=A|B:NEW,...")
        attribute, body = (s.strip() for s in part.split("=", 1))
        if not attribute or not body:
            raise ValueError(f"{part.strip()!r}: an attribute and a rule are both needed")
        if attribute in rules:
            raise ValueError(f"{attribute}: regrouped twice")
        if ":" in body:
            merge = {}
            for entry in body.split(","):
                if ":" not in entry:
                    raise ValueError(f"{attribute}: {entry.strip()!r} lacks ':NEW NAME'")
                olds, new = entry.rsplit(":", 1)
                if not new.strip():
                    raise ValueError(f"{attribute}: {entry.strip()!r} has an empty new name")
                for old in olds.split("|"):
                    if old.strip():
                        merge[old.strip()] = new.strip()
            rules[attribute] = {"merge": merge}
        else:
            try:
                cuts = sorted(float(c) for c in body.split(",") if c.strip())
            except ValueError:
                raise ValueError(f"{attribute}: cut points must be numbers, not {body!r}") from None
            if not cuts or len(set(cuts)) != len(cuts):
                raise ValueError(f"{attribute}: give distinct cut points")
            rules[attribute] = {"cuts": cuts}
    return rules


def _number(value: float) -> str:
    return f"{value:g}"


def _band_label(low_cut: float | None, high_cut: float | None) -> str:
    if low_cut is None:
        return f"under {_number(high_cut)}"
    if high_cut is None:
        return f"{_number(low_cut)} and over"
    return f"{_number(low_cut)} to under {_number(high_cut)}"


def _cut(value, cuts: list[float], attribute: str):
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return value
    match = _BAND.match(str(value))
    if not match:
        return value
    low = float(match.group(1))
    high = float(match.group(2)) if match.group(2) else None
    position = sum(low >= c for c in cuts)
    if high is not None and sum(high >= c for c in cuts) != position:
        raise ValueError(f"{attribute}: the band {value!r} straddles a cut point")
    return _band_label(cuts[position - 1] if position else None, cuts[position] if position < len(cuts) else None)


def regroup_apply(frame: pd.DataFrame, rules: dict[str, dict]) -> pd.DataFrame:
    """A copy of ``frame`` with each ruled attribute column regrouped; raises ValueError for an unknown attribute."""
    out = frame.copy()
    for attribute, rule in rules.items():
        if attribute not in out.columns:
            raise ValueError(f"{attribute}: no such attribute")
        if "cuts" in rule:
            out[attribute] = out[attribute].map(lambda v, r=rule, a=attribute: _cut(v, r["cuts"], a)).astype(object)
        else:
            out[attribute] = out[attribute].map(lambda v, r=rule: r["merge"].get(str(v), v) if v is not None else v)
    return out
