"""Surveys shared by annotation projects and studies: the demographic preset, validation of answers.

A question is a dict: {name, question, type: choice|text|number|likert, choices?: [str], min?, max?, required?}.
The string "demographic" inside a survey list expands to DEMOGRAPHIC_QUESTIONS.
"""

import math

PREFER_NOT = "Prefer not to say"

DEMOGRAPHIC_QUESTIONS: list[dict] = [
    {"name": "age_band", "question": "Your age", "type": "choice", "required": True,
     "choices": ["18-24", "25-34", "35-44", "45-54", "55-64", "65+", PREFER_NOT]},
    {"name": "gender", "question": "Your gender", "type": "choice", "required": True,
     "choices": ["Woman", "Man", "Non-binary", "Self-described", PREFER_NOT]},
    {"name": "country", "question": "Country you live in", "type": "text", "required": True},
    {"name": "culture", "question": "Culture or ethnicity you identify with", "type": "text", "required": False},
    {"name": "native_language", "question": "Your first language", "type": "text", "required": True},
    {"name": "education", "question": "Highest education completed", "type": "choice", "required": False,
     "choices": ["Secondary school", "Vocational", "Bachelor's", "Master's", "Doctorate", PREFER_NOT]},
]

ATTRIBUTE_NAMES = tuple(question["name"] for question in DEMOGRAPHIC_QUESTIONS)


def survey_questions(entries: list) -> list[dict]:
    """Expands the "demographic" shorthand; returns plain question dicts."""
    questions: list[dict] = []
    for entry in entries or []:
        if entry == "demographic" or (isinstance(entry, dict) and entry.get("preset") == "demographic"):
            questions.extend(DEMOGRAPHIC_QUESTIONS)
        else:
            questions.append(entry)
    return questions


def survey_section_questions(section: dict) -> list[dict]:
    """Questions of a normalised project survey section {demographic: [field names], questions: [...]}:
    the chosen demographic questions first, then the researcher's own (choices as plain values)."""
    wanted = set(section.get("demographic") or [])
    questions = [question for question in DEMOGRAPHIC_QUESTIONS if question["name"] in wanted]
    for question in section.get("questions") or []:
        choices = [choice["value"] if isinstance(choice, dict) else choice for choice in question.get("choices") or []]
        questions.append({**question, "choices": choices})
    return questions


def survey_validate(questions: list[dict], data) -> tuple[dict, dict]:
    """Checks submitted answers (a QueryDict or dict) against the questions.

    Returns (answers, errors): answers keyed by question name, errors keyed by question name with a sentence."""
    answers: dict = {}
    errors: dict = {}
    for question in questions:
        name = question["name"]
        raw = (data.get(name) or "").strip() if hasattr(data, "get") else ""
        if raw == "":
            if question.get("required", False):
                errors[name] = "Please answer this question."
            continue
        kind = question.get("type", "text")
        if kind == "choice" and raw not in question.get("choices", []):
            errors[name] = "Please pick one of the options."
        elif kind in {"number", "likert"}:
            try:
                value = float(raw)
            except ValueError:
                value = math.nan
            if not math.isfinite(value):  # "nan" and "inf" parse as floats but are no answer (nor valid JSON)
                errors[name] = "Please enter a number."
                continue
            low, high = question.get("min"), question.get("max")
            if (low is not None and value < low) or (high is not None and value > high):
                errors[name] = f"Please enter a number between {low} and {high}."
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
