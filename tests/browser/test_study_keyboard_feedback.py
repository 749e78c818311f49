"""Ctrl+Enter on a pair with a question still open says which question and moves the focus there."""

import pytest
from playwright.sync_api import expect

from studies.models import Judgment
from tests.browser.conftest import DESKTOP
from tests.browser.test_participant_journey import _arrive, journey_study  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_ctrl_enter_with_an_unanswered_question_names_it_and_moves_there(journey_study, new_page):  # noqa: F811
    page = new_page(DESKTOP)
    _arrive(page, journey_study, "hurried")
    page.wait_for_load_state("domcontentloaded")
    page.keyboard.press("1")  # overall answered, reception not
    page.evaluate("document.activeElement.blur()")  # the focus leaves the form
    page.keyboard.press("Control+Enter")
    expect(page.locator(".judge-feedback")).to_have_text(
        "Please answer first: If you had written the message, which reply would you rather receive?")
    expect(page.locator("fieldset[data-criterion=reception] input[type=radio]").first).to_be_focused()
    assert not Judgment.objects.exists()
