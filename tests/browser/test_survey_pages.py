"""Surveys keep every answer after a mistake, name the mistake beside its question with the focus on it; a
"Self-described" gender keeps the words typed beside it; a
request for support at the check-in is stored and answered with support resources on the last page."""

import pytest
import yaml
from playwright.sync_api import expect

from annotations.models import Enrollment
from annotations.services.importing import items_import, project_load_spec
from tests.browser.conftest import PHONE
from tests.browser.journeys import check_page
from tests.factories import UserFactory
from webapp.demo.loading import DEMO_DIR, demo_spec_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def project(db):
    spec = yaml.safe_load(demo_spec_text(DEMO_DIR / "narrative-feelings.yaml"))
    spec["limits"] = {"items_per_annotator": 1}
    project = project_load_spec(spec_text=yaml.safe_dump(spec), owner=UserFactory(role="researcher"))
    items_import(project=project, path_or_file=DEMO_DIR / "narratives.jsonl")
    return project


def test_survey_keeps_answers_after_a_mistake_and_support_request_is_stored_and_honoured(project, new_page):
    page = new_page(PHONE)
    page.goto(f"/p/{project.slug}/?PROLIFIC_PID=survey1&STUDY_ID=s&SESSION_ID=x")
    page.get_by_role("button", name="I agree").click()
    page.select_option("#q_age_band", "25-34")
    page.fill("#q_country", "Portugal")
    page.fill("#q_native_language", "Portuguese")
    page.get_by_role("button", name="Continue").click()  # gender left out

    expect(page.get_by_role("alert")).to_contain_text("please check 1 answer")
    expect(page.locator("#q_gender")).to_be_focused()
    expect(page.locator("#q_gender")).to_have_attribute("aria-describedby", "e_gender")
    expect(page.locator("#e_gender")).to_have_text("Please answer this question.")
    expect(page.locator("#q_age_band")).to_have_value("25-34")
    expect(page.locator("#q_country")).to_have_value("Portugal")
    expect(page.locator("#q_native_language")).to_have_value("Portuguese")
    check_page(page, "survey-error-phone")
    page.select_option("#q_gender", "Self-described")
    page.fill("#q_gender_self", "Genderfluid")
    page.get_by_role("button", name="Continue").click()

    page.get_by_role("button", name="Start").click()
    page.locator("fieldset.dimension").nth(0).locator("label").first.click()
    page.locator("fieldset.dimension").nth(1).locator("label").first.click()
    page.locator("fieldset.dimension").nth(2).locator("label").first.click()
    page.get_by_role("button", name="Submit").click()

    expect(page.get_by_role("heading", name="Before you go")).to_be_visible()
    page.fill("#q_clarity", "9")  # outside 1-5
    page.select_option("#q_wellbeing", "I would like support resources")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#e_clarity")).to_contain_text("between 1 and 5")
    expect(page.locator("#q_wellbeing")).to_have_value("I would like support resources")
    page.fill("#q_clarity", "4")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    expect(page.locator("#support-resources")).to_contain_text("findahelpline.com")
    check_page(page, "done-support-phone")
    enrollment = Enrollment.objects.get(project=project)
    assert enrollment.survey_after == {"clarity": 4, "wellbeing": "I would like support resources"}
    assert enrollment.annotator.attributes["gender"] == "Self-described"
    assert enrollment.survey_before["gender_self_described"] == "Genderfluid"
