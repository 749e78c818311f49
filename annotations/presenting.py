"""Turns dimensions and an item into what the annotator page draws (no database; its few words through gettext).

Digit keys: scale points and choices get keys 1..9 in order (0 for a tenth), so the page can be used from the
keyboard alone."""

import random

from django.utils.translation import gettext


def _fmt(number) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _points(dimension: dict) -> list[dict]:
    if dimension["type"] == "choice":
        options = [(choice["value"], choice["label"]) for choice in dimension["choices"]]
    elif dimension["type"] in {"likert", "levels"}:
        low, high, step = int(dimension["min"]), int(dimension["max"]), int(dimension.get("step") or 1)
        labels = dimension.get("labels") or {}
        options = [(value, labels.get(str(value), "")) for value in range(low, high + 1, step)]
    else:
        return []
    values = [value for value, _ in options]
    # A 0-9 integer scale keeps its own digits (level 0 is key 0); anything else is numbered 1, 2, ... 9, 0.
    digits_are_values = all(isinstance(v, int) and 0 <= v <= 9 for v in values) and len(set(values)) == len(values)
    return [{"value": value, "label": label,
             "key": str(value) if digits_are_values else (str((index + 1) % 10) if index < 10 else "")}
            for index, (value, label) in enumerate(options)]


def _widget(dimension: dict) -> dict:
    widget = {key: dimension.get(key) for key in ("name", "question", "help", "type", "min", "max", "step", "required")}
    widget["points"] = _points(dimension)
    widget["short"] = str(dimension["name"]).replace("_", " ").capitalize()
    # a number box or slider shows the spec's labelled points as text ("-1 Negative · 0 Neutral · 1 Positive")
    labelled = sorted((dimension.get("labels") or {}).items(), key=lambda pair: float(pair[0]))
    widget["scale_labels"] = ([{"value": value, "label": label} for value, label in labelled]
                              if dimension["type"] in {"number", "slider"} else [])
    widget["min_label"] = (dimension.get("labels") or {}).get(_fmt(dimension["min"])) if dimension.get("min") is not None else ""
    widget["max_label"] = (dimension.get("labels") or {}).get(_fmt(dimension["max"])) if dimension.get("max") is not None else ""
    return widget


def ordered_dimensions(dimensions: list[dict], seed: int) -> list[dict]:
    """Dimensions sharing a `randomize_order` group swap places among themselves, in an order fixed by `seed`
    (the assignment), so a reload shows the same order."""
    rng = random.Random(seed)
    result = list(dimensions)
    groups: dict[str, list[int]] = {}
    for index, dimension in enumerate(dimensions):
        if dimension.get("randomize_order"):
            groups.setdefault(dimension["randomize_order"], []).append(index)
    for positions in groups.values():
        shuffled = [dimensions[i] for i in positions]
        rng.shuffle(shuffled)
        for position, dimension in zip(positions, shuffled, strict=True):
            result[position] = dimension
    return result


def item_view(*, dimensions: list[dict], item_data: dict, seed: int) -> dict:
    """Widgets for item-level dimensions, and for dialogues each turn with its per-turn widgets."""
    ordered = ordered_dimensions(dimensions, seed)
    item_level = [_widget(d) for d in ordered if not d.get("per_turn")]
    per_turn = [_widget(d) for d in ordered if d.get("per_turn")]
    speakers: list[str] = []
    turns = []
    for index, turn in enumerate(item_data.get("turns", [])):
        speaker = str(turn.get("speaker", ""))
        if speaker not in speakers:
            speakers.append(speaker)
        turns.append({"index": index, "speaker": speaker, "text": turn.get("text", ""),
                      "side": "right" if speakers.index(speaker) % 2 else "left",
                      "widgets": [{**widget, "field": f"d__{widget['name']}__{index}", "compact": True,
                                   "turn_label": gettext("turn %(number)d (%(speaker)s)") % {"number": index + 1,
                                                                                            "speaker": speaker}} for widget in per_turn]})
    for widget in item_level:
        widget["field"] = f"d__{widget['name']}"
    return {"widgets": item_level, "turns": turns, "per_turn": per_turn}
