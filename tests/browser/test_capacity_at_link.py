"""A newcomer to a project with no work left is told so at the link, before consent, with the Prolific return
instruction and the spec's "no work left" code; someone already enrolled still resumes. The completion code can be
copied with one button."""

import pytest
import yaml
from playwright.sync_api import expect

from annotations.models import Enrollment, Item
from annotations.services.importing import items_import, project_load_spec
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.journeys import check_page
from tests.factories import UserFactory
from webapp.demo.loading import DEMO_DIR, demo_spec_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def project(db):
    spec = yaml.safe_load(demo_spec_text(DEMO_DIR / "narrative-feelings.yaml"))
    spec["crowd"]["no_work_code"] = "NOWORK-7"
    project = project_load_spec(spec_text=yaml.safe_dump(spec), owner=UserFactory(role="researcher"))
    items_import(project=project, path_or_file=DEMO_DIR / "narratives.jsonl")
    return project


def test_newcomer_to_a_full_project_is_told_at_the_link_with_return_instruction_and_code(project, new_page):
    page = new_page(DESKTOP)
    page.goto(f"/p/{project.slug}/?PROLIFIC_PID=early&STUDY_ID=s&SESSION_ID=x")
    expect(page.get_by_role("heading", name="Consent")).to_be_visible()
    Item.objects.filter(project=project).update(is_full=True)

    late = new_page(PHONE)
    late.goto(f"/p/{project.slug}/?PROLIFIC_PID=late&STUDY_ID=s&SESSION_ID=y")
    expect(late.get_by_role("heading", name="Sorry — there is no work left in this project")).to_be_visible()
    expect(late.locator("#no-work")).to_contain_text("Return submission")
    expect(late.locator("#no-work-code")).to_have_text("NOWORK-7")
    check_page(late, "no-work-left-phone")
    assert not Enrollment.objects.filter(annotator__crowd_id="late").exists()

    page.goto(f"/p/{project.slug}/?PROLIFIC_PID=early&STUDY_ID=s&SESSION_ID=x")  # the early one resumes
    expect(page.get_by_role("heading", name="Consent")).to_be_visible()


def test_completion_code_has_a_copy_button(project, new_page):
    Item.objects.filter(project=project).exclude(external_id=Item.objects.filter(project=project)
                                                 .values_list("external_id", flat=True).first()).update(is_full=True)
    page = new_page(DESKTOP)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"/p/{project.slug}/?PROLIFIC_PID=copier&STUDY_ID=s&SESSION_ID=x")
    page.get_by_role("button", name="I agree").click()
    page.select_option("#q_age_band", "25-34")
    page.select_option("#q_gender", "Man")
    page.fill("#q_country", "Kenya")
    page.fill("#q_native_language", "Swahili")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Start").click()
    for index in range(3):
        page.locator("fieldset.dimension").nth(index).locator("label").first.click()
    page.get_by_role("button", name="Submit").click()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    page.get_by_role("button", name="Copy code").click()
    expect(page.locator(".copy-done")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == project.spec["crowd"]["completion_code"]
