"""A distressing item names its topic outside the fold, so the annotator decides before reading it; an ordinary
item is not folded and carries no note (the project-wide note was shown with the instructions)."""

import io
import json

import pytest
from playwright.sync_api import expect

from annotations.services.importing import items_import, project_load_spec
from tests.browser.conftest import DESKTOP
from tests.browser.journeys import walk_to_first_item
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SPEC = """
slug: notes
title: Notes
kind: narrative
overlap: 1
instructions: Read and rate.
content_note: Some stories mention loss.
dimensions:
  - {name: empathy, question: "How much would you empathize?", type: likert, min: 1, max: 4}
"""


def test_distressing_item_names_its_topic_outside_the_fold_and_ordinary_item_is_not_folded(new_page):
    project = project_load_spec(spec_text=SPEC, owner=UserFactory(role="researcher"))
    lines = [{"id": "a", "text": "My dog died in the night.", "distressing": True, "content_note": "The death of a pet."},
             {"id": "b", "text": "I found a coin on the pavement."}]
    items_import(project=project, path_or_file=io.StringIO("".join(json.dumps(x) + "\n" for x in lines)), fmt="jsonl")
    page = new_page(DESKTOP)
    page.goto(f"/p/{project.slug}/?PROLIFIC_PID=notes1&STUDY_ID=s&SESSION_ID=x")
    expect(page.get_by_role("heading", name="Instructions")).to_be_visible()
    expect(page.locator(".note")).to_contain_text("Some stories mention loss.")
    walk_to_first_item(page, slug=project.slug, worker="notes1")
    for done in range(2):
        expect(page.locator("#progress-text")).to_contain_text(f"{done} done")
        text = page.locator(".item-text")
        if page.locator("details.content-note").count():
            note = page.locator("details.content-note")
            expect(note.locator("summary")).to_contain_text("The death of a pet.")
            expect(note).not_to_have_attribute("open", "")
            expect(text).not_to_be_visible()
            page.keyboard.press("o")
            expect(text).to_have_text("My dog died in the night.")
        else:
            expect(text).to_have_text("I found a coin on the pavement.")
            expect(page.locator("#item-form")).not_to_contain_text("Some stories mention loss.")
        page.keyboard.press("2")
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Before you go")).to_be_visible()
