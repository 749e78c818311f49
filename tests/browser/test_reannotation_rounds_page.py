"""A researcher reads the re-annotation rounds on the agreement page, reached from the project page, by pointer on a
desktop and by keyboard on a phone: the round's agreement before beside now, in a table that scrolls in its box."""

import pytest
from playwright.sync_api import expect

from tests.annotations.test_reannotation_rounds import sent_back  # noqa: F401  (fixture)
from tests.browser.conftest import DESKTOP, PHONE, log_in
from tests.browser.journeys import check_page
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def researcher(db):
    return UserFactory(username="rounds-researcher", role="researcher")


@pytest.mark.parametrize("viewport,hands", [(DESKTOP, "pointer"), (PHONE, "keyboard")], ids=["desktop", "phone"])
def test_the_rounds_table_says_agreement_before_and_now(new_page, sent_back, viewport, hands):  # noqa: F811
    page = new_page(viewport=viewport)
    log_in(page, username="rounds-researcher", password="pw-12345678")
    page.goto(f"/projects/{sent_back.slug}/")
    link = page.get_by_role("link", name="Agreement", exact=False).first
    if hands == "pointer":
        link.click()
    else:
        link.focus()
        page.keyboard.press("Enter")
    rounds = page.get_by_test_id("reannotation-rounds")
    expect(rounds).to_contain_text("rm-1")
    expect(rounds).to_contain_text("6 before, 4 since")
    region = page.get_by_role("region", name="Re-annotation rounds (scrolls sideways)")
    if hands == "keyboard":
        region.focus()
        expect(region).to_be_focused()
        page.keyboard.press("ArrowRight")  # a focused scroll box scrolls by keys
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    check_page(page, f"agreement-rounds-{hands}")
