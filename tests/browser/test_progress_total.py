"""The progress line's total is one the annotator can reach: items other people filled meanwhile drop out of it,
so the count ends at its total."""

import io
import json

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from annotations.models import Item
from annotations.services.importing import items_import, project_load_spec
from tests.browser.conftest import DESKTOP
from tests.browser.journeys import walk_to_first_item
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SPEC = """
slug: reach
title: Reach
kind: narrative
overlap: 1
instructions: Rate.
dimensions:
  - {name: empathy, question: "How much would you empathize?", type: likert, min: 1, max: 4}
"""


def test_progress_total_drops_items_filled_by_others_and_is_reached(new_page):
    project = project_load_spec(spec_text=SPEC, owner=UserFactory(role="researcher"))
    lines = "".join(json.dumps({"id": f"n{i}", "text": f"Story {i}."}) + "\n" for i in range(5))
    items_import(project=project, path_or_file=io.StringIO(lines), fmt="jsonl")
    page = new_page(DESKTOP)
    walk_to_first_item(page, slug=project.slug, worker="reacher")
    expect(page.locator("#progress-text")).to_have_text("0 done of 5")
    current = page.locator(".item-text").inner_text()
    # meanwhile other annotators fill two items this one has not seen
    others = [i.id for i in Item.objects.filter(project=project) if i.data["text"] != current][:2]
    Item.objects.filter(id__in=others).update(is_full=True)
    cache.clear()
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    expect(page.locator("#progress-text")).to_have_text("1 done of 3")
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    expect(page.locator("#progress-text")).to_have_text("2 done of 3")
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Before you go")).to_be_visible()
