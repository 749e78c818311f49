"""Surveys shared by annotation projects and studies: the demographic questions, the one survey shape, validation
of answers, and the page-side help for survey forms.

A question is a dict: {name, question, type: choice|text|number|likert, choices?: [str], min?, max?, required?}.
A survey section, in a project's spec and a study's alike, is {demographic: [field names], questions: [...]}
(`survey_section` brings a study's list of names and questions to it).
"""

import math

from django.utils.translation import gettext, gettext_noop

# The platform's own questions are stored and exported in these English words; a page shows them in its language
# (`survey_questions_for_form`). Researchers' questions are shown as written.
PREFER_NOT = gettext_noop("Prefer not to say")
SELF_DESCRIBED = gettext_noop("Self-described")

DEMOGRAPHIC_QUESTIONS: list[dict] = [
    {"name": "age_band", "question": gettext_noop("Your age"), "type": "choice", "required": True,
     "choices": ["18-24", "25-34", "35-44", "45-54", "55-64", "65+", PREFER_NOT]},
    {"name": "gender", "question": gettext_noop("Your gender"), "type": "choice", "required": True,
     "choices": [gettext_noop("Woman"), gettext_noop("Man"), gettext_noop("Non-binary"), SELF_DESCRIBED, PREFER_NOT]},
    {"name": "country", "question": gettext_noop("Country you live in"), "type": "text", "required": True},
    {"name": "culture", "question": gettext_noop("Culture or ethnicity you identify with"), "type": "text",
     "required": False},
    {"name": "native_language", "question": gettext_noop("Your first language"), "type": "text", "required": True},
    {"name": "education", "question": gettext_noop("Highest education completed"), "type": "choice", "required": False,
     "choices": [gettext_noop("Secondary school"), gettext_noop("Vocational"), gettext_noop("Bachelor's"),
                 gettext_noop("Master's"), gettext_noop("Doctorate"), PREFER_NOT]},
]

ATTRIBUTE_NAMES = tuple(question["name"] for question in DEMOGRAPHIC_QUESTIONS)


def survey_section(entries: list | dict | None) -> dict:
    """The one survey shape {demographic: [field names], questions: [...]}, from a section already in it or from a
    list of entries: a demographic field name ("age_band"), "demographic" (or {preset: demographic}) for all of
    them, or a question mapping."""
    if isinstance(entries, dict):
        return {"demographic": list(entries.get("demographic") or []), "questions": list(entries.get("questions") or [])}
    demographic: list[str] = []
    questions: list[dict] = []
    for entry in entries or []:
        if entry == "demographic" or (isinstance(entry, dict) and entry.get("preset") == "demographic"):
            demographic.extend(name for name in ATTRIBUTE_NAMES if name not in demographic)
        elif isinstance(entry, str):
            if entry in ATTRIBUTE_NAMES and entry not in demographic:
                demographic.append(entry)
        elif isinstance(entry, dict):
            questions.append(entry)
    return {"demographic": demographic, "questions": questions}


def survey_section_questions(section: dict) -> list[dict]:
    """Questions of a survey section (see `survey_section`): the chosen demographic questions first, in their
    fixed order, then the researcher's own (choices as plain values)."""
    wanted = set(section.get("demographic") or [])
    questions = [question for question in DEMOGRAPHIC_QUESTIONS if question["name"] in wanted]
    for question in section.get("questions") or []:
        choices = [choice["value"] if isinstance(choice, dict) else choice for choice in question.get("choices") or []]
        questions.append({**question, "choices": choices})
    return questions


def survey_has_questions(section: dict | None) -> bool:
    return bool(section and (section.get("demographic") or section.get("questions")))


def survey_validate(questions: list[dict], data) -> tuple[dict, dict]:
    """Checks submitted answers (a QueryDict or dict) against the questions.

    Returns (answers, errors): answers keyed by question name, errors keyed by question name with a sentence in the
    active language."""
    answers: dict = {}
    errors: dict = {}
    for question in questions:
        name = question["name"]
        raw = (data.get(name) or "").strip() if hasattr(data, "get") else ""
        if raw == "":
            if question.get("required", False):
                errors[name] = gettext("Please answer this question.")
            continue
        kind = question.get("type", "text")
        if kind == "choice" and raw not in question.get("choices", []):
            errors[name] = gettext("Please pick one of the options.")
        elif kind in {"number", "likert"}:
            try:
                value = float(raw)
            except ValueError:
                value = math.nan
            if not math.isfinite(value):  # "nan" and "inf" parse as floats but are no answer (nor valid JSON)
                errors[name] = gettext("Please enter a number.")
                continue
            low, high = question.get("min"), question.get("max")
            if (low is not None and value < low) or (high is not None and value > high):
                errors[name] = gettext("Please enter a number between %(low)s and %(high)s.") % {"low": low,
                                                                                                  "high": high}
                continue
            answers[name] = int(value) if value.is_integer() else value
        else:
            answers[name] = raw[:2000]
        if name not in errors and name not in answers:
            answers[name] = raw
    return answers, errors


def attributes_from_answers(answers: dict) -> dict:
    """The subset of survey answers that describe the person (used for group breakdowns)."""
    return {key: value for key, value in answers.items() if value != PREFER_NOT}


# ---------------------------------------------------------------------------------------------
# survey forms on pages

SUPPORT_CHOICE = gettext_noop("I would like support resources")

# asked at the end of a journey of anyone who read at least one item (webapp.people.journey.final_questions)
CHECKIN_QUESTION = {"name": "wellbeing", "question": gettext_noop("How are you feeling after reading these texts?"),
                    "type": "choice", "required": False,
                    "choices": [gettext_noop("Fine"), gettext_noop("A little affected"), gettext_noop("Quite affected"),
                                SUPPORT_CHOICE]}

_PLATFORM_QUESTIONS = {question["name"]: question for question in [*DEMOGRAPHIC_QUESTIONS, CHECKIN_QUESTION]}


def _in_page_language(question: dict) -> tuple[str, list[dict]]:
    """The question's words and its options ({value, label}) as a page shows them: the platform's own questions
    in the active language, a researcher's as written. The value sent back is always the stored word."""
    platform = _PLATFORM_QUESTIONS.get(question["name"])
    ours = platform is not None and all(question.get(key) == value for key, value in platform.items())

    def shown(text):
        return gettext(text) if ours and isinstance(text, str) else text

    return shown(question["question"]), [{"value": choice, "label": shown(choice)}
                                         for choice in question.get("choices") or []]


def survey_questions_for_form(questions: list[dict], *, posted=None, errors: dict | None = None) -> list[dict]:
    """Copies of `questions`, each with `current` (the answer given, as text), `error` (a sentence or ""), and
    `question` and `options` ({value, label}) in the page's language (see `_in_page_language`)."""
    errors = errors or {}
    first = next((q["name"] for q in questions if q["name"] in errors), questions[0]["name"] if questions else None)
    shown = []
    for question in questions:
        raw = posted.get(question["name"], "") if posted is not None else ""
        own_words = posted.get(f"{question['name']}_self_described", "") if posted is not None else ""
        words, options = _in_page_language(question)
        shown.append({**question, "question": words, "options": options,
                      "current": (raw or "").strip(), "error": errors.get(question["name"], ""),
                      "autofocus": question["name"] == first,
                      "self_described": SELF_DESCRIBED in (question.get("choices") or []),
                      "own_words": (own_words or "").strip()})
    return shown


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
