"""Page-side help for survey forms shared by projects and studies: put the answers already given back into the
questions, and each error beside its question, so a mistake never wipes what was typed."""

SUPPORT_CHOICE = "I would like support resources"


def survey_questions_for_form(questions: list[dict], *, posted=None, errors: dict | None = None) -> list[dict]:
    """Copies of `questions`, each with `current` (the answer given, as text) and `error` (a sentence or "")."""
    errors = errors or {}
    first = next((q["name"] for q in questions if q["name"] in errors), questions[0]["name"] if questions else None)
    shown = []
    for question in questions:
        raw = posted.get(question["name"], "") if posted is not None else ""
        own_words = posted.get(f"{question['name']}_self_described", "") if posted is not None else ""
        shown.append({**question, "current": (raw or "").strip(), "error": errors.get(question["name"], ""),
                      "autofocus": question["name"] == first,
                      "self_described": SELF_DESCRIBED in (question.get("choices") or []),
                      "own_words": (own_words or "").strip()})
    return shown


SELF_DESCRIBED = "Self-described"
SELF_DESCRIBED_MAX = 200


def survey_self_described(questions: list[dict], *, posted, answers: dict) -> dict:
    """Adds `<question>_self_described` (the words typed in the box beside a "Self-described" choice) to the
    validated `answers`, when that choice was made; returns `answers`."""
    for question in questions:
        name = question["name"]
        if SELF_DESCRIBED in (question.get("choices") or []) and answers.get(name) == SELF_DESCRIBED:
            words = (posted.get(f"{name}_self_described") or "").strip()[:SELF_DESCRIBED_MAX]
            if words:
                answers[f"{name}_self_described"] = words
    return answers
