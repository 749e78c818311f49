"""Before starting, the annotator sees how long it takes; while labelling, the instructions reopen, the key list
opens in view, and right-to-left texts (Arabic, Hebrew, Urdu) are laid out right to left."""

import io
import json

import pytest
from playwright.sync_api import expect

from annotations.services.importing import items_import, project_load_spec
from tests.browser.conftest import DESKTOP
from tests.browser.journeys import check_page, walk_to_first_item
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SPEC = """
slug: help
title: Feelings
kind: narrative
overlap: 1
instructions: Rate how the narrator feels, from 1 to 4.
consent: {text: "You agree to take part.", required: true}
dimensions:
  - {name: empathy, question: "How much would you empathize?", type: likert, min: 1, max: 4}
  - {name: intensity, question: "How intense?", type: likert, min: 1, max: 5}
"""
TEXTS = ["فقدت عملي اليوم ولا أعرف كيف أخبر عائلتي.", "איבדתי את הכלב שלי הבוקר.", "I passed my exam."]


def test_time_estimate_instructions_again_keys_in_view_and_right_to_left_items(new_page):
    project = project_load_spec(spec_text=SPEC, owner=UserFactory(role="researcher"))
    lines = "".join(json.dumps({"id": f"t{i}", "text": text}) + "\n" for i, text in enumerate(TEXTS))
    items_import(project=project, path_or_file=io.StringIO(lines), fmt="jsonl")
    page = new_page(DESKTOP)
    page.goto(f"/p/{project.slug}/?PROLIFIC_PID=helped&STUDY_ID=s&SESSION_ID=x")
    expect(page.locator("#time-estimate")).to_have_text(
        "This takes about 1 minute for 3 items (you may stop at any time).")
    walk_to_first_item(page, slug=project.slug, worker="helped")

    again = page.locator("details.instructions-again")
    again.locator("summary").click()
    expect(again).to_contain_text("Rate how the narrator feels, from 1 to 4.")
    page.keyboard.press("?")
    keys = page.locator("#keys")
    expect(keys).to_be_visible()
    assert keys.bounding_box()["y"] < DESKTOP["height"]
    page.keyboard.press("?")

    directions = []
    for done in range(len(TEXTS)):
        expect(page.locator("#progress-text")).to_contain_text(f"{done} done")
        text = page.locator(".item-text")
        directions.append((text.inner_text(), text.evaluate("e => getComputedStyle(e).direction")))
        if done == 0:
            check_page(page, "item-rtl-desktop")
        page.keyboard.press("2")
        page.keyboard.press("3")
        page.keyboard.press("Enter")
    expect(page.locator("#item-form")).to_have_count(0)  # the last answer's request has finished: on to the end
    by_text = dict(directions)
    assert by_text[TEXTS[0]] == "rtl" and by_text[TEXTS[1]] == "rtl" and by_text[TEXTS[2]] == "ltr"
