"""An annotator flags an item and leaves a comment beside their answer (pointer on a desktop; keys alone on a
phone: `n` opens the box), and the researcher finds the item among those with notes and reads the note."""

import io
import json

import pytest
from playwright.sync_api import expect

from annotations.models import ItemNote, Label
from annotations.services.importing import items_import, project_load_spec
from tests.browser.conftest import DESKTOP, PHONE, log_in
from tests.browser.journeys import check_page, walk_to_first_item
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SPEC = """
slug: noted
title: Noted
kind: narrative
overlap: 2
instructions: Rate.
dimensions:
  - {name: empathy, question: "How much would you empathize?", type: likert, min: 1, max: 4}
"""


@pytest.mark.parametrize("viewport,hands", [(DESKTOP, "pointer"), (PHONE, "keyboard")], ids=["desktop", "phone"])
def test_an_annotator_flags_an_item_and_the_researcher_reads_it(new_page, viewport, hands):
    owner = UserFactory(username="reader", role="researcher")
    project = project_load_spec(spec_text=SPEC, owner=owner)
    items = "".join(json.dumps({"id": f"n{i}", "text": f"Story number {i}."}) + "\n" for i in range(4))
    items_import(project=project, path_or_file=io.StringIO(items), fmt="jsonl")

    page = new_page(viewport=viewport)
    walk_to_first_item(page, slug=project.slug, worker=f"noter-{hands}")
    box = page.locator("#q-note")
    expect(box).not_to_have_attribute("open", "")
    if hands == "pointer":
        page.locator('[data-dimension="d__empathy"] label', has_text="3").first.click()
        box.locator("summary").click()
        page.select_option("#note-flag", "unclear")
        page.fill("#note-comment", "Who is speaking in the second sentence?")
        check_page(page, "item-note-open-desktop")
        page.get_by_role("button", name="Submit").click()
    else:
        page.keyboard.press("3")
        page.keyboard.press("n")  # opens the box, focus on the flag
        expect(page.locator("#note-flag")).to_be_focused()
        page.keyboard.press("ArrowDown")  # No problem -> Unclear or ambiguous
        page.keyboard.press("Tab")
        expect(page.locator("#note-comment")).to_be_focused()
        page.keyboard.type("Who is speaking in the second sentence?")
        check_page(page, "item-note-open-phone")
        page.keyboard.press("Enter")  # Enter in the comment submits, as in every text box of the item
    expect(page.locator("#progress-text")).to_contain_text("1 done")
    expect(page.locator("#q-note")).not_to_have_attribute("open", "")  # the next item starts with a closed box

    note = ItemNote.objects.get()
    assert (note.flag, note.comment) == ("unclear", "Who is speaking in the second sentence?")
    assert Label.objects.get(assignment=note.assignment).values == {"empathy": 3}

    researcher = new_page(viewport=viewport)
    log_in(researcher, username="reader", password="pw-12345678")
    researcher.goto(f"/projects/{project.slug}/items/")
    expect(researcher.get_by_test_id("notes-summary")).to_contain_text("1 note from annotators")
    researcher.get_by_label("only items with annotators' notes").check()
    researcher.get_by_role("button", name="Find").click()
    rows = researcher.get_by_test_id("item-table").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(note.item.external_id)
    check_page(researcher, f"item-browser-notes-{hands}")
    rows.first.get_by_role("link", name="See what annotators see").click()
    notes = researcher.get_by_test_id("item-notes")
    expect(notes).to_contain_text("Unclear or ambiguous")
    expect(notes).to_contain_text("Who is speaking in the second sentence?")
    check_page(researcher, f"item-preview-notes-{hands}")
