import pytest

from webapp.people.crowd import crowd_identity_from_params, crowd_user_get_or_create
from webapp.people.surveys import DEMOGRAPHIC_QUESTIONS, attributes_from_answers, survey_validate


def test_prolific_parameters_make_a_prolific_identity():
    identity = crowd_identity_from_params({"PROLIFIC_PID": "abc", "STUDY_ID": "s1", "SESSION_ID": "x9"})
    assert (identity.platform, identity.worker_id, identity.study_id, identity.session_id) == ("prolific", "abc", "s1", "x9")


def test_mturk_preview_without_accepted_assignment_is_no_identity():
    assert crowd_identity_from_params({"workerId": "W", "assignmentId": "ASSIGNMENT_ID_NOT_AVAILABLE"}) is None
    identity = crowd_identity_from_params({"workerId": "W", "assignmentId": "A", "hitId": "H"})
    assert (identity.platform, identity.worker_id, identity.study_id, identity.session_id) == ("mturk", "W", "H", "A")


def test_a_link_without_parameters_is_an_open_link():
    assert crowd_identity_from_params({}) is None


@pytest.mark.django_db
def test_same_worker_is_one_annotator_and_a_separate_participant():
    identity = crowd_identity_from_params({"PROLIFIC_PID": "same"})
    first = crowd_user_get_or_create(identity=identity, role="annotator")
    again = crowd_user_get_or_create(identity=identity, role="annotator")
    participant = crowd_user_get_or_create(identity=identity, role="participant")
    assert first.id == again.id and participant.id != first.id and participant.role == "participant"
    assert first.pseudonym != participant.pseudonym and "same" not in first.pseudonym


def test_survey_answers_are_checked_and_prefer_not_to_say_is_not_an_attribute():
    answers, errors = survey_validate(DEMOGRAPHIC_QUESTIONS, {"age_band": "25-34", "gender": "Prefer not to say",
                                                              "country": "Chile", "native_language": "Spanish"})
    assert errors == {}
    assert attributes_from_answers(answers) == {"age_band": "25-34", "country": "Chile", "native_language": "Spanish"}
    _, errors = survey_validate(DEMOGRAPHIC_QUESTIONS, {"age_band": "12", "country": ""})
    assert set(errors) >= {"age_band", "country", "gender", "native_language"}
