"""A study's participant walks the one crowd journey: for every combination of consent and survey in the spec,
exactly the stages with content are shown, then the instructions (their page starts the judging), the
work (the judging) and done; a study has no final survey."""

from itertools import product

import pytest

from studies import services
from studies.models import Participant
from tests.factories import UserFactory
from tests.studies.conftest import answer

QUESTION = {"name": "mood", "question": "How do you feel?", "type": "text", "required": False}


def _walk(participant: Participant) -> list[str]:
    stages = [participant.stage]
    for _ in range(12):
        stage = participant.stage
        if stage == Participant.Stage.CONSENT:
            services.participant_consent(participant=participant, agreed=True)
        elif stage == Participant.Stage.SURVEY:
            services.participant_survey_submit(participant=participant, answers={"mood": "calm"}, attributes={})
        elif stage == Participant.Stage.INSTRUCTIONS:
            services.participant_start(participant=participant)
        elif stage == Participant.Stage.WORK:
            slot = services.slot_for_display(participant=participant)
            services.judgment_submit(participant=participant, token=slot.token,
                                     answers=answer(participant.study.spec["criteria"]))
        else:
            break
        participant.refresh_from_db()
        if participant.stage != stages[-1]:
            stages.append(participant.stage)
    return stages


@pytest.mark.django_db
@pytest.mark.parametrize(("consent", "survey"), list(product([False, True], repeat=2)))
def test_every_stage_without_content_is_passed_over(make_study, consent, survey):
    study = make_study(consent={"text": "Do you agree?" if consent else ""}, survey=[QUESTION] if survey else [],
                       pairs_per_participant=2)
    participant = services.participant_enroll(study=study, user=UserFactory(role="participant"))
    expected = [stage for stage, present in (("consent", consent), ("survey", survey)) if present]
    assert _walk(participant) == [*expected, "instructions", "work", "done"]
    participant.refresh_from_db()
    assert (participant.consented_at is not None) == consent
    assert participant.survey == ({"mood": "calm"} if survey else {})


@pytest.mark.django_db
def test_a_survey_naming_no_known_field_nor_question_is_passed_over(make_study):
    study = make_study(consent={"text": ""}, survey=["not-a-field"])
    participant = services.participant_enroll(study=study, user=UserFactory(role="participant"))
    assert participant.stage == "instructions"


@pytest.mark.django_db
def test_refusing_consent_declines_and_reserves_nothing(make_study):
    study = make_study(consent={"text": "Do you agree?"}, survey=[QUESTION])
    participant = services.participant_enroll(study=study, user=UserFactory(role="participant"))
    services.participant_consent(participant=participant, agreed=False)
    participant.refresh_from_db()
    assert participant.stage == "declined" and participant.assignments.count() == 0
