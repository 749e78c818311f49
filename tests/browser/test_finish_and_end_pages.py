"""An annotator can stop at any time with "Finish now" and still reach the final questions, a debrief and the
completion code; someone who declines consent is told how to return the study on Prolific."""

import pytest
import yaml
from playwright.sync_api import expect

from annotations.models import Enrollment, Label
from annotations.services.importing import items_import, project_load_spec
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.journeys import check_page, walk_to_first_item
from tests.factories import UserFactory
from webapp.demo.loading import DEMO_DIR, demo_spec_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def project(db):
    spec = yaml.safe_load(demo_spec_text(DEMO_DIR / "narrative-feelings.yaml"))
    project = project_load_spec(spec_text=yaml.safe_dump(spec), owner=UserFactory(role="researcher"))
    items_import(project=project, path_or_file=DEMO_DIR / "narratives.jsonl")
    return project


def test_finish_now_after_one_item_leads_to_final_questions_debrief_and_code(project, new_page):
    page = new_page(PHONE)
    walk_to_first_item(page, slug=project.slug, worker="stopper")
    for key in ("3", "2", "4"):
        page.keyboard.press(key)
    page.keyboard.press("Enter")
    expect(page.locator("#progress-text")).to_contain_text("1 done")
    page.get_by_role("button", name="Finish now").click()

    expect(page.get_by_role("heading", name="Before you go")).to_be_visible()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    expect(page.locator(".annotate")).to_contain_text("You labelled 1 item.")
    expect(page.locator(".annotate")).to_contain_text("What happens next")
    expect(page.locator("#completion-code")).to_have_text(project.spec["crowd"]["completion_code"])
    assert Label.objects.filter(project=project).count() == 1
    assert Enrollment.objects.get(project=project).stage == Enrollment.Stage.DONE


def test_declining_consent_says_how_to_return_the_study_on_prolific(project, new_page):
    page = new_page(DESKTOP)
    page.goto(f"/p/{project.slug}/?PROLIFIC_PID=decliner&STUDY_ID=s&SESSION_ID=x")
    page.get_by_role("button", name="I do not agree").click()
    expect(page.get_by_role("heading", name="This session has ended")).to_be_visible()
    expect(page.locator("#return-instruction")).to_contain_text("Return submission")
    check_page(page, "declined-desktop")
