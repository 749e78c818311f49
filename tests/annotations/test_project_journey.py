"""A project's enrollment walks the one crowd journey: for every combination of consent, before-survey and
instructions in the spec, exactly the stages with content are shown, in order, then the items, the final
questions and done."""

from itertools import product

import pytest

from annotations.models import Enrollment
from annotations.services import flow
from tests.factories import ItemFactory, ProjectFactory, UserFactory, spec_for

QUESTION = {"name": "mood", "question": "How do you feel?", "type": "text", "required": False}


def _project(*, consent: bool, survey: bool, instructions: bool):
    spec = spec_for(slug="journey", consent="Do you agree?" if consent else None,
                    surveys={"before": {"questions": [QUESTION]}} if survey else None,
                    instructions="Read each text." if instructions else "")
    project = ProjectFactory(slug="journey", spec=spec)
    ItemFactory(project=project)
    return project


def _walk(enrollment: Enrollment) -> list[str]:
    stages = [enrollment.stage]
    for _ in range(8):
        stage = enrollment.stage
        if stage == Enrollment.Stage.CONSENT:
            flow.enrollment_consent(enrollment=enrollment, agreed=True)
        elif stage in {Enrollment.Stage.SURVEY, Enrollment.Stage.FINAL}:
            flow.enrollment_survey_submit(enrollment=enrollment, answers={"mood": "calm"})
        elif stage == Enrollment.Stage.INSTRUCTIONS:
            flow.enrollment_instructions_done(enrollment=enrollment)
        elif stage == Enrollment.Stage.WORK:
            flow.enrollment_items_finished(enrollment=enrollment)
        else:
            break
        enrollment.refresh_from_db()
        stages.append(enrollment.stage)
    return stages


@pytest.mark.django_db
@pytest.mark.parametrize(("consent", "survey", "instructions"), list(product([False, True], repeat=3)))
def test_every_stage_without_content_is_passed_over(consent, survey, instructions):
    project = _project(consent=consent, survey=survey, instructions=instructions)
    enrollment = flow.enrollment_open(project=project, user=UserFactory(role="annotator"))
    expected = [stage for stage, present in (("consent", consent), ("survey", survey),
                                             ("instructions", instructions)) if present]
    assert _walk(enrollment) == [*expected, "work", "final", "done"]
    enrollment.refresh_from_db()
    assert enrollment.completed_at is not None
    assert (enrollment.consented_at is not None) == consent
    assert enrollment.survey_before == ({"mood": "calm"} if survey else {})


@pytest.mark.django_db
def test_refusing_consent_ends_the_enrollment_with_the_reason_said():
    enrollment = flow.enrollment_open(project=_project(consent=True, survey=True, instructions=True),
                                      user=UserFactory(role="annotator"))
    flow.enrollment_consent(enrollment=enrollment, agreed=False)
    enrollment.refresh_from_db()
    assert enrollment.stage == "ended" and enrollment.ended_reason == "declined consent"
