"""Back after submitting an item never shows the old item as if it could be changed: the page is fetched again,
shows the item the annotator is really on, and says plainly that submitted answers are final."""

import pytest
import yaml
from playwright.sync_api import expect

from annotations.models import Label
from annotations.services.importing import items_import, project_load_spec
from tests.browser.conftest import DESKTOP
from tests.browser.journeys import walk_to_first_item
from tests.factories import UserFactory
from webapp.demo.loading import DEMO_DIR, demo_spec_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_back_after_a_submit_shows_the_current_item_and_says_answers_are_final(new_page):
    spec = yaml.safe_load(demo_spec_text(DEMO_DIR / "narrative-feelings.yaml"))
    project = project_load_spec(spec_text=yaml.safe_dump(spec), owner=UserFactory(role="researcher"))
    items_import(project=project, path_or_file=DEMO_DIR / "narratives.jsonl")
    page = new_page(DESKTOP)
    walk_to_first_item(page, slug=project.slug, worker="backer")
    first = page.locator("input[name=assignment]").get_attribute("value")
    expect(page.locator(".key-hint")).to_contain_text("Answers are final once submitted.")
    for key in ("3", "2", "4"):
        page.keyboard.press(key)
    page.keyboard.press("Enter")
    expect(page.locator("#progress-text")).to_contain_text("1 done")
    second = page.locator("input[name=assignment]").get_attribute("value")

    page.go_back()
    expect(page.locator("#progress-text")).to_contain_text("1 done")
    expect(page.locator("input[name=assignment]")).to_have_value(second)
    assert first != second
    assert Label.objects.get(assignment_id=int(first)).values == {"intensity": 3, "valence": "mixed", "empathy": 4}
