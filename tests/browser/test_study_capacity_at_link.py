"""A newcomer to a study whose pairs all have their judgments is told so at the link, before consent or survey,
with the Prolific return instruction; nobody is enrolled."""

import pytest
from playwright.sync_api import expect

from studies.models import Pair, Participant
from tests.browser.conftest import PHONE
from tests.browser.journeys import check_page
from tests.browser.test_participant_journey import journey_study  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_newcomer_to_a_fully_judged_study_is_turned_away_at_the_link(journey_study, new_page):  # noqa: F811
    Pair.objects.filter(study=journey_study).update(taken=journey_study.spec["judgments_per_pair"])
    page = new_page(PHONE)
    page.goto(f"/s/{journey_study.slug}/?PROLIFIC_PID=late-one&STUDY_ID=s&SESSION_ID=x")
    expect(page.get_by_role("heading", name="Sorry — this study needs no more participants")).to_be_visible()
    expect(page.locator(".study-participate")).to_contain_text("Return submission")
    expect(page.get_by_role("heading", name="Consent")).to_have_count(0)
    check_page(page, "study-full-phone")
    assert not Participant.objects.filter(study=journey_study).exists()
