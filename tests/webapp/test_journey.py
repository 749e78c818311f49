"""The crowd journey machine (webapp.people.journey) on its own: every combination of stages with and without
content, the stored names each app gives the steps, and the rules at its edges."""

from itertools import product

import pytest

from webapp.people.journey import (
    CHECKIN_QUESTION,
    Journey,
    Step,
    final_questions,
    link_admits,
    wants_support,
)
from webapp.people.surveys import SUPPORT_CHOICE

NAMES = {Step.WORK: "items", Step.DECLINED: "ended"}
COMBINATIONS = list(product([False, True], repeat=4))


def _walk(journey: Journey) -> list[str]:
    stages = [journey.first()]
    while stages[-1] != journey.name(Step.DONE):
        stages.append(journey.after(stages[-1]))
        assert len(stages) <= len(Step), stages
    return stages


@pytest.mark.parametrize(("consent", "survey", "instructions", "final"), COMBINATIONS)
def test_a_stage_without_content_is_passed_over_and_work_and_done_always_come(consent, survey, instructions, final):
    journey = Journey(consent=consent, survey=survey, instructions=instructions, final=final, names=NAMES)
    expected = [name for name, present in (("consent", consent), ("survey", survey),
                                           ("instructions", instructions)) if present]
    expected += ["items"] + (["final"] if final else []) + ["done"]
    assert _walk(journey) == expected


@pytest.mark.parametrize(("consent", "survey", "instructions", "final"), COMBINATIONS)
def test_consent_leads_on_when_given_and_to_the_declined_step_when_refused(consent, survey, instructions, final):
    journey = Journey(consent=consent, survey=survey, instructions=instructions, final=final,
                      names={Step.WORK: "judging", Step.DONE: "completed"})
    assert journey.after_consent(True) == journey.after("consent")
    assert journey.after_consent(False) == "declined"


def test_each_app_stores_its_own_names_for_the_steps():
    study = Journey(consent=True, survey=False, instructions=True, final=False,
                    names={Step.WORK: "judging", Step.DONE: "completed"})
    assert _walk(study) == ["consent", "instructions", "judging", "completed"]
    assert study.step("judging") is Step.WORK and study.is_at("completed", Step.DONE)
    with pytest.raises(ValueError, match="no stage"):
        study.step("items")


@pytest.mark.parametrize("stored", ["done", "ended"])
def test_a_stage_off_the_way_on_is_its_own_follower(stored):
    journey = Journey(consent=True, survey=True, instructions=True, final=True, names=NAMES)
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
