"""The crowd journey machine (webapp.people.journey) on its own: every combination of stages with and without
content, the one vocabulary both apps' models store, and the rules at its edges."""

from itertools import product

import pytest

from annotations.models import Enrollment
from studies.models import Participant
from webapp.people.journey import (
    CHECKIN_QUESTION,
    Journey,
    Step,
    final_questions,
    link_admits,
    wants_support,
)
from webapp.people.surveys import SUPPORT_CHOICE

COMBINATIONS = list(product([False, True], repeat=4))


def _walk(journey: Journey) -> list[str]:
    stages = [journey.first()]
    while stages[-1] != Step.DONE:
        stages.append(journey.after(stages[-1]))
        assert len(stages) <= len(Step), stages
    return stages


@pytest.mark.parametrize(("consent", "survey", "instructions", "final"), COMBINATIONS)
def test_a_stage_without_content_is_passed_over_and_work_and_done_always_come(consent, survey, instructions, final):
    journey = Journey(consent=consent, survey=survey, instructions=instructions, final=final)
    expected = [name for name, present in (("consent", consent), ("survey", survey),
                                           ("instructions", instructions)) if present]
    expected += ["work"] + (["final"] if final else []) + ["done"]
    assert _walk(journey) == expected


@pytest.mark.parametrize(("consent", "survey", "instructions", "final"), COMBINATIONS)
def test_consent_leads_on_when_given_and_to_the_declined_step_when_refused(consent, survey, instructions, final):
    journey = Journey(consent=consent, survey=survey, instructions=instructions, final=final)
    assert journey.after_consent(True) == journey.after("consent")
    assert journey.after_consent(False) == "declined"


def test_a_study_walks_the_same_steps_and_a_value_that_is_no_step_is_refused():
    study = Journey(consent=True, survey=False, instructions=True, final=False)
    assert _walk(study) == ["consent", "instructions", "work", "done"]
    for old_name in ("items", "judging", "completed", "imported"):
        with pytest.raises(ValueError, match="not a valid Step"):
            study.after(old_name)


def test_both_models_store_the_journeys_steps_and_a_participant_alone_may_be_imported():
    def values(model) -> list[str]:
        return [value for value, _label in model._meta.get_field("stage").choices]

    def steps_but(left_out: Step) -> list[str]:
        return [step.value for step in Step if step != left_out]

    # a study has no final survey; a refused consent ends an enrollment (its reason said), never declines it
    assert values(Participant) == [*steps_but(Step.FINAL), "imported"]
    assert values(Enrollment) == steps_but(Step.DECLINED)
    assert Enrollment.Stage.WORK == Participant.Stage.WORK == Step.WORK == "work"
    # each app shows the work in its own word
    assert (Enrollment.Stage.WORK.label, Participant.Stage.WORK.label, Participant.Stage.DONE.label) == (
        "Items", "Judging", "Completed")


@pytest.mark.parametrize("stored", ["done", "ended"])
def test_a_stage_off_the_way_on_is_its_own_follower(stored):
    journey = Journey(consent=True, survey=True, instructions=True, final=True)
    assert journey.after(stored) == stored


def test_the_link_admits_whoever_returns_and_a_newcomer_only_while_work_is_left():
    asked = []

    def work_left(answer):
        def ask():
            asked.append(answer)
            return answer
        return ask

    assert link_admits(returning=True, work_left=work_left(False)) is True
    assert asked == []  # a returning person never waits on the count
    assert link_admits(returning=False, work_left=work_left(True)) is True
    assert link_admits(returning=False, work_left=work_left(False)) is False


def test_the_final_check_in_is_asked_of_whoever_read_an_item_after_the_researchers_questions():
    section = {"demographic": [], "questions": [{"name": "fun", "question": "Fun?", "type": "text"}]}
    assert [q["name"] for q in final_questions(section, read_any=True)] == ["fun", CHECKIN_QUESTION["name"]]
    assert [q["name"] for q in final_questions(section, read_any=False)] == ["fun"]
    assert SUPPORT_CHOICE in CHECKIN_QUESTION["choices"]


def test_support_is_offered_only_to_whoever_asked_for_it():
    assert wants_support({"wellbeing": SUPPORT_CHOICE}) is True
    assert wants_support({"wellbeing": "Fine"}) is False
    assert wants_support(None) is False and wants_support({}) is False
