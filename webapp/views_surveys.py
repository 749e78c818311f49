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
        shown.append({**question, "current": (raw or "").strip(), "error": errors.get(question["name"], ""),
                      "autofocus": question["name"] == first})
    return shown
