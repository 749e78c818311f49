"""The crowd journey, described once for annotation projects and studies alike:

    consent → survey → instructions → work → final survey → done        (or ended, or declined at consent)

A stage without content in the spec is passed over (work and done always happen). Each app says which stages its
spec gives content (a `Journey`) and the values its model stores for each step; the journey says where a person
goes next. The link admits a newcomer only while there is work left (someone already on the journey always
resumes); the final stage of a journey that has one asks a short wellbeing check-in of anyone who read at least
one item, and the done page offers support resources to whoever asked for them.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.db import models

from webapp.people.surveys import CHECKIN_QUESTION, SUPPORT_CHOICE, survey_section_questions


class Step(models.TextChoices):
    CONSENT = "consent", "Consent"
    SURVEY = "survey", "Survey"
    INSTRUCTIONS = "instructions", "Instructions"
    WORK = "work", "Work"
    FINAL = "final", "Final survey"
    DONE = "done", "Done"
    ENDED = "ended", "Ended early"
    DECLINED = "declined", "Declined consent"


ORDER = (Step.CONSENT, Step.SURVEY, Step.INSTRUCTIONS, Step.WORK, Step.FINAL, Step.DONE)


@dataclass(frozen=True)
class Journey:
    """One spec's journey. `consent`, `survey`, `instructions`, `final`: whether the spec gives that stage content
    (without, it is passed over). `names`: the value the model stores for each step (a step left out is stored
    under its own value)."""

    consent: bool
    survey: bool
    instructions: bool
    final: bool
    names: Mapping[Step, str]

    def name(self, step: Step) -> str:
        return self.names.get(step, step.value)

    def step(self, stored: str) -> Step:
        """The step a stored stage value stands for; ValueError for a value that is no step of this journey."""
        for step in Step:
            if self.name(step) == stored:
                return step
        raise ValueError(f"{stored!r} is no stage of this journey")

    def has_content(self, step: Step) -> bool:
        return {Step.CONSENT: self.consent, Step.SURVEY: self.survey, Step.INSTRUCTIONS: self.instructions,
                Step.FINAL: self.final}.get(step, True)

    def first(self) -> str:
        """The stored stage a newcomer starts at."""
        return self.name(next(step for step in ORDER if self.has_content(step)))

    def after(self, stored: str) -> str:
        """The stored stage that follows `stored`: the next one with content. A stage off the way on (done, ended,
        declined) is its own follower."""
        step = self.step(stored)
        if step not in ORDER:
            return stored
        following = next((later for later in ORDER[ORDER.index(step) + 1:] if self.has_content(later)), Step.DONE)
        return self.name(following)

    def after_consent(self, agreed: bool) -> str:
        """Where the consent form leads: on, or (refused) to the declined step."""
        return self.after(self.name(Step.CONSENT)) if agreed else self.name(Step.DECLINED)

    def is_at(self, stored: str, step: Step) -> bool:
        return stored == self.name(step)


def link_admits(*, returning: bool, work_left: Callable[[], bool]) -> bool:
    """The capacity check at the recruitment link, said before consent: someone already on the journey always
    resumes; a newcomer comes in only while there is work left (nobody reads, answers or waits for work that is
    not there). `work_left` is asked only for a newcomer."""
    return returning or work_left()


def final_questions(section: dict, *, read_any: bool) -> list[dict]:
    """The final stage's questions: the after-survey `section`, and the wellbeing check-in for someone who read at
    least one item."""
    questions = survey_section_questions(section)
    return questions + [CHECKIN_QUESTION] if read_any else questions


def wants_support(answers: dict | None) -> bool:
    """Whether the final answers asked for support resources (the done page then shows them first)."""
    return (answers or {}).get(CHECKIN_QUESTION["name"]) == SUPPORT_CHOICE
