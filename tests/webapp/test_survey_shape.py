"""One survey shape for projects and studies: {demographic: [field names], questions: [...]}."""

from webapp.people.surveys import (
    ATTRIBUTE_NAMES,
    DEMOGRAPHIC_QUESTIONS,
    survey_has_questions,
    survey_section,
    survey_section_questions,
)

OWN = {"name": "mood", "question": "Your mood", "type": "choice", "choices": ["Good", "Bad"]}


def test_a_studys_list_of_names_and_questions_becomes_the_one_shape():
    assert survey_section(["native_language", OWN, "age_band", "not-a-field"]) == {
        "demographic": ["native_language", "age_band"], "questions": [OWN]}
    assert survey_section(["demographic", "age_band"]) == {"demographic": list(ATTRIBUTE_NAMES), "questions": []}
    assert survey_section([{"preset": "demographic"}])["demographic"] == list(ATTRIBUTE_NAMES)
    assert survey_section(None) == {"demographic": [], "questions": []}


def test_a_section_already_in_the_shape_is_kept():
    section = {"demographic": ["gender"], "questions": [OWN]}
    assert survey_section(section) == section


def test_questions_come_demographic_first_in_their_fixed_order_then_the_researchers_own():
    questions = survey_section_questions(survey_section([OWN, "native_language", "age_band"]))
    assert [q["name"] for q in questions] == ["age_band", "native_language", "mood"]
    assert questions[0] == DEMOGRAPHIC_QUESTIONS[0]
    labelled = {**OWN, "choices": [{"value": "Good", "label": "Feeling good"}, "Bad"]}
    assert survey_section_questions({"questions": [labelled]})[0]["choices"] == ["Good", "Bad"]


def test_a_section_has_questions_when_it_names_a_field_or_asks_its_own():
    assert not survey_has_questions(None)
    assert not survey_has_questions(survey_section(["not-a-field"]))
    assert survey_has_questions({"demographic": ["gender"], "questions": []})
    assert survey_has_questions({"demographic": [], "questions": [OWN]})
