"""Page-side presentation of a rejected item: plain-words errors beside each question and the answers the
annotator already gave, put back into the widgets (no database; the sentences through gettext)."""

import re

from django.utils.translation import gettext

from annotations.values import MAX_TEXT

_TURN_KEY = re.compile(r"^(?P<name>[\w-]+)\[(?P<turn>\d+)\]$")


def _fmt(number) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


NOTE_ERROR = "note"  # the key of a refused note (annotations.services.notes), shown by the note's own box


def _field_of(error_key: str) -> str:
    """`empathy` -> `d__empathy`; a per-turn `empathy[3]` -> `d__empathy__3` (the form's field names)."""
    match = _TURN_KEY.match(error_key)
    if match:
        return f"d__{match['name']}__{match['turn']}"
    return f"d__{error_key}"


def plain_error(widget: dict, message: str, raw) -> str:
    """One sentence a participant understands, without the spec's internal names, in the page's language."""
    if message == "required":
        if widget["type"] == "slider":
            return gettext("Please move the slider to give an answer (it is not set yet).")
        if widget["type"] in {"number"}:
            return gettext("Please type a number here.")
        return gettext("Please choose an answer.")
    if widget["type"] in {"slider", "number"}:
        low, high, step = widget.get("min"), widget.get("max"), widget.get("step")
        stepped = bool(step) and widget["type"] == "number"
        words = {"raw": raw, "low": _fmt(low) if low is not None else "", "high": _fmt(high) if high is not None else "",
                 "step": _fmt(step) if stepped else ""}
        if low is not None and high is not None and stepped:
            return gettext("“%(raw)s” is not allowed here: please enter a number from %(low)s to %(high)s "
                           "in steps of %(step)s.") % words
        if low is not None and high is not None:
            return gettext("“%(raw)s” is not allowed here: please enter a number from %(low)s to %(high)s.") % words
        if stepped:
            return gettext("“%(raw)s” is not allowed here: please enter a number in steps of %(step)s.") % words
        return gettext("“%(raw)s” is not allowed here: please enter a number.") % words
    if widget["type"] == "text":
        return gettext("This answer is too long (at most %(limit)d characters).") % {"limit": MAX_TEXT}
    return gettext("Please choose one of the answers shown.")


def _all_widgets(view: dict) -> list[dict]:
    widgets = list(view["widgets"])
    for turn in view.get("turns", []):
        widgets.extend(turn["widgets"])
    return widgets


def item_view_with_answers(view: dict, *, posted, errors: dict) -> list[dict]:
    """Puts each posted answer back into its widget (`current`) and each error beside it (`error`); returns the
    summary rows [{field, question, message}] in page order. `posted` is the POSTed form."""
    by_field = {_field_of(key): message for key, message in errors.items() if key != NOTE_ERROR}
    summary = []
    for widget in _all_widgets(view):
        raw = posted.get(widget["field"], "") if posted is not None else ""
        widget["current"] = "" if raw is None else str(raw)
        message = by_field.pop(widget["field"], None)
        if message is not None:
            widget["error"] = plain_error(widget, message, raw)
            question = widget["question"] + (f" — {widget['turn_label']}" if widget.get("turn_label") else "")
            summary.append({"field": widget["field"], "question": question, "message": widget["error"]})
    for field, message in by_field.items():  # an error no widget shows (a stale form): still said, never lost
        summary.append({"field": "", "question": field.removeprefix("d__"), "message": message})
    if NOTE_ERROR in errors:
        summary.append({"field": NOTE_ERROR, "question": gettext("Your note on this item"),
                        "message": errors[NOTE_ERROR]})
    return summary
