"""Every demo project's item page, at phone and desktop width: it renders, fits the screen, and answer targets
are large enough to tap. Screenshots go to /tmp/resonance-<project>-<width>.png for a person to look at."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, screenshot
from tests.factories import UserFactory
from webapp.demo.loading import demo_projects_load

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _through_stages_to_items(page) -> None:
    """Consents, answers any survey with the first real option, and starts, until the item form shows."""
    for _ in range(4):
        page.locator("#item-form, main h2").first.wait_for()
        if page.locator("#item-form").count():
            return
        heading = page.locator("main h2").first.inner_text()
        with page.expect_navigation():
            if heading in {"Consent", "Instructions"}:
                page.keyboard.press("Enter")  # the primary button has the focus
            elif heading == "About you":
                for select in page.locator("form select").all():
                    select.select_option(index=1)
                for field in page.locator("form input[type=text]").all():
                    field.fill("Testland")
                page.locator("form button[type=submit]").click()
            else:
                raise AssertionError(f"unexpected stage {heading!r}")
    expect(page.locator("#item-form")).to_be_visible()


@pytest.fixture
def demo_slugs(db):
    owner = UserFactory(username="demo-owner", role="researcher")
    return [project.slug for project in demo_projects_load(owner=owner)]


def test_every_demo_item_page_fits_a_phone_and_a_desktop(demo_slugs, new_page):
    assert len(demo_slugs) >= 6
    for slug in demo_slugs:
        for width_name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
            page = new_page(viewport)
            page.goto(f"/p/{slug}/?PROLIFIC_PID=look-{slug}-{width_name}&STUDY_ID=s&SESSION_ID=x")  # one person each
            _through_stages_to_items(page)
            if page.locator("details.content-note:not([open])").count():
                page.keyboard.press("o")
            screenshot(page, f"{slug}-{width_name}")
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            assert scroll_width <= viewport["width"], f"{slug} at {width_name}: {scroll_width}px wide"
            heights = page.eval_on_selector_all(
                ".scale label, .actions button", "els => els.map(e => e.getBoundingClientRect().height)")
            assert min(heights) >= 44, f"{slug} at {width_name}: a target is {min(heights):.0f}px high"
            page.context.close()
