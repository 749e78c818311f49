"""A researcher launches a job from the form: only generation and scoring are offered, each model version says its
kind, and a refusal is said once, beside the form, by pointer on a desktop and by keyboard on a phone."""

import pytest
from playwright.sync_api import expect

from ml.models import ModelVersion
from tests.browser.conftest import DESKTOP, PHONE, log_in
from tests.browser.journeys import check_page
from tests.factories import UserFactory
from tests.ml.test_jobs_support import make_study

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport,hands", [(DESKTOP, "pointer"), (PHONE, "keyboard")], ids=["desktop", "phone"])
def test_job_form_offers_the_two_jobs_and_says_a_refusal_once(new_page, viewport, hands):
    owner = UserFactory(username="launcher", role="researcher")
    study = make_study(owner=owner, slug="job-form")
    version = ModelVersion.objects.create(name="tiny-gen", kind="generator", path="/nowhere")
    page = new_page(viewport=viewport)
    log_in(page, username="launcher", password="pw-12345678")
    page.goto(f"/jobs/new/?study={study.slug}")
    kinds = page.locator("select[name=kind] option").all_inner_texts()
    assert kinds == ["Generation", "Scoring"]
    expect(page.locator("select[name=model_version]")).to_contain_text("tiny-gen (generator)")
    if hands == "pointer":
        page.select_option("select[name=kind]", "scoring")
        page.select_option("select[name=model_version]", str(version.pk))
        page.get_by_role("button", name="Launch").click()
    else:
        page.focus("select[name=kind]")
        page.keyboard.press("ArrowDown")  # Generation -> Scoring
        page.focus("select[name=model_version]")
        page.keyboard.press("ArrowDown")  # the first version
        page.focus("button[type=submit]")
        page.keyboard.press("Enter")
    refusal = page.get_by_text("tiny-gen is a generator; a scoring job needs a")
    expect(refusal).to_have_count(1)
    expect(page.locator("select[name=kind]")).to_have_value("scoring")
    check_page(page, f"job-form-refused-{hands}")
