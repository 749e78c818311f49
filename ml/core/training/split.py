"""A seeded split into train / validation / held-out by unit (item, pair item, or prompt).

Units are ordered by a hash of (seed, unit id) and cut at the fractions' shares; a later version
of the same line passes its parent's held-out units as ``fixed_heldout``, so it is measured on
the same items even when the snapshot has grown. ``Split`` is plain data (``as_dict`` / ``from_dict``) stored with the run.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from ml.core.training.data import TrainingDataError

PARTS = ("train", "validation", "heldout")


@dataclass
class Split:
    seed: int
    fractions: dict[str, float]
    parts: dict[str, list[str]] = field(default_factory=dict)
    holdout_group: dict[str, str] | None = None

    def part_of(self, unit: str) -> str | None:
        for name, units in self.parts.items():
            if unit in units:
                return name
        return None

    def sizes(self) -> dict[str, int]:
        return {name: len(self.parts.get(name, [])) for name in PARTS}

    def as_dict(self) -> dict:
        return {"seed": self.seed, "fractions": dict(self.fractions), "parts": {k: list(v) for k, v in self.parts.items()},
                "holdout_group": self.holdout_group, "sizes": self.sizes()}

    @classmethod
    def from_dict(cls, data: dict) -> Split:
        return cls(seed=int(data["seed"]), fractions=dict(data["fractions"]),
                   parts={k: list(v) for k, v in data["parts"].items()}, holdout_group=data.get("holdout_group"))


def _position(seed: int, unit: str) -> float:
    digest = hashlib.sha256(f"{seed}\x00{unit}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_units(units: list[str], *, seed: int = 0, validation: float = 0.1, heldout: float = 0.2,
                minimum: int = 1, fixed_heldout: list[str] | None = None) -> Split:
    """Splits distinct ``units``. ``fixed_heldout`` (an earlier run's held-out units) are kept held
    out. Raises ``TrainingDataError`` (field ``snapshot``) when a part would have fewer than ``minimum``."""
    distinct = list(dict.fromkeys(units))
    if not distinct:
        raise TrainingDataError("snapshot", "the export has no items to train on")
    if validation < 0 or heldout < 0 or validation + heldout >= 1:
        raise TrainingDataError("split", "validation and held-out fractions must be >= 0 and sum to less than 1")
    fixed = set(fixed_heldout or ())
    parts: dict[str, list[str]] = {name: [] for name in PARTS}
    parts["heldout"] = sorted(u for u in distinct if u in fixed)
    free = sorted((u for u in distinct if u not in fixed), key=lambda u: _position(seed, u))
    n = len(distinct)
    n_heldout = max(_share(n, heldout) - len(parts["heldout"]), 0)
    n_validation = _share(n, validation)
    parts["heldout"] = sorted(parts["heldout"] + free[:n_heldout])
    parts["validation"] = sorted(free[n_heldout:n_heldout + n_validation])
    parts["train"] = sorted(free[n_heldout + n_validation:])
    split = Split(seed=seed, fractions={"validation": validation, "heldout": heldout}, parts=parts)
    _check(split, minimum, total=len(distinct), wanted={"validation": validation, "heldout": heldout})
    return split


def split_by_group(items: list, *, attribute: str, value: str, seed: int = 0, validation: float = 0.1,
                   heldout: float = 0.2, minimum: int = 1) -> Split:
    """Items split as by ``split_units``, the held-out part drawn from items the group labelled;
    the caller then trains on the other annotators' labels and tests on the group's only
    (``ml.core.training.run``), so no held-out item is ever trained on. ``items`` are ``LabelItem``."""
    if not any(attribute in attrs for item in items for attrs in item.annotators.values()):
        raise TrainingDataError("holdout_group", f"the export has no annotator attribute {attribute!r} "
                                                 "(is export.allow_attributes on?)")
    inside = {i.item_id for i in items if any(a.get(attribute) == value for a in i.annotators.values())}
    if not inside:
        raise TrainingDataError("holdout_group", f"no annotator has {attribute}={value}")
    ordered = sorted({i.item_id for i in items}, key=lambda u: _position(seed, u))
    n_heldout = _share(len(ordered), heldout)
    held = [u for u in ordered if u in inside][:n_heldout]
    rest = [u for u in ordered if u not in set(held)]
    n_validation = _share(len(ordered), validation)
    parts = {"train": sorted(rest[n_validation:]), "validation": sorted(rest[:n_validation]), "heldout": sorted(held)}
    result = Split(seed=seed, fractions={"validation": validation, "heldout": heldout}, parts=parts,
                   holdout_group={"attribute": attribute, "value": value})
    _check(result, minimum, total=len(ordered), wanted={"validation": validation, "heldout": heldout})
    return result


def _share(n: int, fraction: float) -> int:
    """Units for a part: the rounded share, at least one for a wanted part once there are three units."""
    if fraction <= 0:
        return 0
    return max(int(round(n * fraction)), 1 if n >= 3 else 0)


def _check(split: Split, minimum: int, *, total: int, wanted: dict[str, float]) -> None:
    sizes = split.sizes()
    needed = ["train"] + [name for name, fraction in wanted.items() if fraction > 0]
    for name in needed:
        if sizes[name] < minimum:
            raise TrainingDataError("snapshot", f"{total} units give {sizes[name]} {name} units; "
                                                f"at least {minimum} are needed (label more items)")
