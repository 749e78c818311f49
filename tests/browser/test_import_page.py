"""A researcher imports items on the page: a broken file is refused whole with the file, line and field named, as
the command does; a good one lands on the project page with the count."""

import pytest
from playwright.sync_api import expect

from annotations.models import Item
from annotations.services.importing import project_load_spec
from tests.browser.conftest import DESKTOP, log_in
from tests.browser.journeys import check_page
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SPEC = """
slug: imp
title: Import me
kind: narrative
overlap: 2
instructions: Rate.
dimensions:
  - {name: empathy, question: "How much would you empathize?", type: likert, min: 1, max: 4}
"""
GOOD = b'{"id": "a", "text": "One."}\n{"id": "b", "text": "Two."}\n{"id": "c", "text": "Three."}\n'
BAD = b'{"id": "a", "text": "One."}\n{"id": "b"}\n'


def test_import_page_refuses_a_broken_file_with_its_line_and_imports_a_good_one(new_page):
    owner = UserFactory(username="importer", role="researcher")
    project = project_load_spec(spec_text=SPEC, owner=owner)
    page = new_page(DESKTOP)
    log_in(page, username="importer", password="pw-12345678")
    page.goto(f"/projects/{project.slug}/")
    page.get_by_role("link", name="Import items").click()
    check_page(page, "researcher-import-desktop")

    page.set_input_files("#import-file", {"name": "stories.jsonl", "mimeType": "application/json", "buffer": BAD})
    page.get_by_role("button", name="Import").click()
    error = page.locator("#import-result")
    expect(error).to_contain_text("Nothing was imported.")
    expect(error).to_contain_text("stories.jsonl")
    expect(error).to_contain_text("2")
    assert not Item.objects.filter(project=project).exists()

    page.set_input_files("#import-file", {"name": "stories.jsonl", "mimeType": "application/json", "buffer": GOOD})
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("status")).to_contain_text("Imported 3 items from stories.jsonl.")
    assert sorted(Item.objects.filter(project=project).values_list("external_id", flat=True)) == ["a", "b", "c"]
