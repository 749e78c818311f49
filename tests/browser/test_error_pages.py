"""A mistyped link and a page the account may not open get friendly pages that say what to do next."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, log_in
from tests.browser.journeys import check_page
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_mistyped_link_gets_a_friendly_not_found_page(new_page):
    page = new_page(PHONE)
    response = page.goto("/p-typo/some-project/?PROLIFIC_PID=x")
    assert response.status == 404
    expect(page.get_by_role("heading", name="We could not find this page")).to_be_visible()
    expect(page.locator("#error-page")).to_contain_text("open the study link again")
    check_page(page, "not-found-phone")


def test_lab_annotator_on_a_researcher_page_is_sent_to_their_work(new_page):
    UserFactory(username="labber", role="annotator")
    page = new_page(DESKTOP)
    log_in(page, username="labber", password="pw-12345678")
    response = page.goto("/projects/new/")
    assert response.status == 403
    expect(page.get_by_role("heading", name="This page is not open to you")).to_be_visible()
    expect(page.locator("#error-page")).to_contain_text("signed in as labber (annotator)")
    check_page(page, "forbidden-desktop")
    page.get_by_role("link", name="your work page").click()
    expect(page).to_have_url(re.compile(r"/me/$"))
