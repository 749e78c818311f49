"""The owner deletes an empty project from its page by typing its slug (keyboard on a phone, pointer on a
desktop); the confirmation box refuses to send until it is filled."""

import pytest
from playwright.sync_api import expect

from annotations.models import Project
from tests.browser.conftest import DESKTOP, PHONE, log_in
from tests.browser.journeys import check_page
from tests.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport,hands", [(DESKTOP, "pointer"), (PHONE, "keyboard")], ids=["desktop", "phone"])
def test_the_owner_deletes_an_empty_project_from_its_page(new_page, viewport, hands):
    owner = UserFactory(username="tidy", role="researcher")
    ItemFactory(project=ProjectFactory(owner=owner, slug="pilot-run", title="Pilot run"))
    page = new_page(viewport=viewport)
    log_in(page, username="tidy", password="pw-12345678")
    page.goto("/projects/pilot-run/")
    form = page.get_by_test_id("delete-form")
    check_page(page, f"project-delete-form-{hands}")
    button = form.get_by_role("button", name="Delete the project")
    if hands == "pointer":
        button.click()  # empty: the browser keeps the form and says the box is required
        assert page.locator("#delete-confirm").evaluate("box => box.validity.valueMissing")
        assert page.url.endswith("/projects/pilot-run/") and Project.objects.filter(slug="pilot-run").exists()
        page.get_by_label("Type pilot-run to confirm").fill("pilot-run")
        button.click()
    else:
        page.get_by_label("Type pilot-run to confirm").focus()
        page.keyboard.type("pilot-run")
        page.keyboard.press("Enter")
    page.wait_for_url("**/dashboard/")
    expect(page.get_by_text("Project pilot-run deleted.")).to_be_visible()
    assert not Project.objects.filter(slug="pilot-run").exists()
