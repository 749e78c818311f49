"""The crowd journey, described once for annotation projects and studies alike:

    consent → survey → instructions → work → final survey → done        (or ended, or declined at consent)

A stage without content in the spec is passed over (work and done always happen). Each app says which stages its
spec gives content (a `Journey`); both apps' models store the steps' own values, so a stage reads the same in either
(a participant imported from elsewhere is the one extra value). The journey says where a person goes next. The link
admits a newcomer only while there is work left (someone already on the journey always resumes); the final stage of
a journey that has one asks a short wellbeing check-in of anyone who read at least one item, and the done page
offers support resources to whoever asked for them.
"""

from collections.abc import Callable
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


def stage_choices(name: str, *, leave_out: tuple[Step, ...] = (), labels: dict[Step, str] | None = None,
                  extra: tuple[tuple[str, str, str], ...] = ()) -> type[models.TextChoices]:
    """A model's stage choices: the steps (less `leave_out`, steps that model never stores) under their own names
    and values, so `Stage.WORK == Step.WORK`, shown with the app's own word where `labels` gives one ("Judging"
    for a study's work), then `extra` (member, value, label): values of that model's own which no journey reaches.
    (A TextChoices with members cannot be subclassed, hence a class built here.)"""
    labels = labels or {}
    members = [(step.name, (step.value, labels.get(step, step.label))) for step in Step if step not in leave_out]
    return models.TextChoices(name, members + [(member, (value, label)) for member, value, label in extra])


@dataclass(frozen=True)
class Journey:
    """One spec's journey. `consent`, `survey`, `instructions`, `final`: whether the spec gives that stage content
    (without, it is passed over). Stages are the steps' own values, which both apps' models store."""

    consent: bool
    survey: bool
    instructions: bool
    final: bool

    def has_content(self, step: Step) -> bool:
        return {Step.CONSENT: self.consent, Step.SURVEY: self.survey, Step.INSTRUCTIONS: self.instructions,
                Step.FINAL: self.final}.get(step, True)

    def first(self) -> Step:
        """The stage a newcomer starts at."""
        return next(step for step in ORDER if self.has_content(step))

    def after(self, stage: str) -> Step:
        """The stage that follows `stage`: the next one with content. A stage off the way on (done, ended,
        declined) is its own follower; ValueError for a value that is no step (a participant's `imported`)."""
        step = Step(stage)
        if step not in ORDER:
            return step
        return next((later for later in ORDER[ORDER.index(step) + 1:] if self.has_content(later)), Step.DONE)

    def after_consent(self, agreed: bool) -> Step:
        """Where the consent form leads: on, or (refused) to the declined step."""
        return self.after(Step.CONSENT) if agreed else Step.DECLINED


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
