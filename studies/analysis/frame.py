"""The judgments frame every analysis function takes, and its canonical form.

Contract of the input frame (one row per judgment):

    participant  hashable   who judged (pseudonym or id)
    prompt       hashable   which prompt the two responses answer
    system_a     str        the system stored as "a" on the judgment
    system_b     str        the system stored as "b"
    choice       "a" | "b" | "tie"
    left         "a" | "b"  which stored side was shown on the left ("" or None: not known, as
                            in judgments imported without it; those stay out of position bias)
    criterion    str        the question answered ("overall", "empathy", ...)
    seconds      float      time spent on the judgment (may be NaN)

The participants frame has a ``participant`` column plus one column per attribute
(survey answers such as ``country`` or ``age_band``).

Plain pandas: no Django here, so the statistics can be tested and reused offline.
"""

from __future__ import annotations

import pandas as pd

JUDGMENT_COLUMNS = ("participant", "prompt", "system_a", "system_b", "choice", "left", "criterion", "seconds")
CHOICES = ("a", "b", "tie")
SIDES = ("a", "b")

_FLIP = {"a": "b", "b": "a", "tie": "tie", "": ""}


def judgments_frame_validate(frame: pd.DataFrame) -> None:
    """Raises ValueError naming the first problem: a missing column or a value outside its domain."""
    missing = [column for column in JUDGMENT_COLUMNS if column not in frame.columns]
    if missing:
        raise ValueError(f"judgments frame lacks columns {missing}")
    bad_choice = set(frame["choice"].unique()) - set(CHOICES)
    if bad_choice:
        raise ValueError(f"choice must be one of {CHOICES}, found {sorted(map(str, bad_choice))}")
    bad_left = set(frame["left"].dropna().unique()) - {*SIDES, ""}
    if bad_left:
        raise ValueError(f"left must be one of {SIDES}, found {sorted(map(str, bad_left))}")
    if (frame["system_a"] == frame["system_b"]).any():
        raise ValueError("a judgment compares a system with itself")


def judgments_frame_empty() -> pd.DataFrame:
    """An empty frame with the contract's columns, for studies without judgments yet."""
    return pd.DataFrame({column: pd.Series(dtype="object") for column in JUDGMENT_COLUMNS}).astype(
        {"seconds": "float64"}
    )


def judgments_canonical(frame: pd.DataFrame) -> pd.DataFrame:
    """Returns a copy where every pair is stored in one order: ``system_a`` sorts before ``system_b``.

    Rows stored the other way round are mirrored (systems swapped, ``choice`` and ``left``
    flipped), so "a wins" always means the alphabetically first system won, and the judgment
    keeps which system was on the left. ``left`` becomes "" where unknown. Adds ``decisive``
    (choice is not a tie), ``sided`` (decisive with a known left side: what position bias counts)
    and ``chose_left`` (bool; False unless ``sided``).
    """
    judgments_frame_validate(frame)
    out = frame.loc[:, list(JUDGMENT_COLUMNS)].copy()
    out["system_a"] = out["system_a"].astype(str)
    out["system_b"] = out["system_b"].astype(str)
    out["criterion"] = out["criterion"].astype(str)
    out["seconds"] = pd.to_numeric(out["seconds"], errors="coerce").astype("float64")
    out["left"] = out["left"].where(out["left"].isin(SIDES), "")
    swap = out["system_a"] > out["system_b"]
    if swap.any():
        a, b = out.loc[swap, "system_a"].copy(), out.loc[swap, "system_b"].copy()
        out.loc[swap, "system_a"], out.loc[swap, "system_b"] = b, a
        out.loc[swap, "choice"] = out.loc[swap, "choice"].map(_FLIP)
        out.loc[swap, "left"] = out.loc[swap, "left"].map(_FLIP)
    out["decisive"] = out["choice"] != "tie"
    out["sided"] = out["decisive"] & (out["left"] != "")
    out["chose_left"] = out["sided"] & (out["choice"] == out["left"])
    return out.reset_index(drop=True)


def systems_of(frame: pd.DataFrame) -> list[str]:
    """All systems that appear on either side, sorted."""
    return sorted(set(frame["system_a"].astype(str)) | set(frame["system_b"].astype(str)))


def criteria_ordered(frame: pd.DataFrame, criteria: list[str] | None = None) -> list[str]:
    """The criteria to report, in the given order first, then any others found in the frame sorted.

    The first criterion is the primary one (the study's overall question).
    """
    present = list(dict.fromkeys(frame["criterion"].astype(str)))
    ordered = [c for c in (criteria or []) if c in present]
    ordered += sorted(c for c in present if c not in ordered)
    return ordered
