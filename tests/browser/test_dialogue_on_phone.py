"""A dialogue rated per turn fits a phone: each per-turn question is named once above the conversation with its
scale and the spec's point labels, each turn carries short, labelled boxes, and nothing is wider than the screen."""

import pytest
import yaml
from playwright.sync_api import expect

from annotations.services.importing import items_import, project_load_spec
from tests.browser.conftest import PHONE
from tests.browser.journeys import check_page, walk_to_first_item
from tests.factories import UserFactory
from webapp.demo.loading import DEMO_DIR, PRESETS_DIR, demo_spec_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dialogue_item_on_a_phone_is_compact_and_shows_the_point_labels(new_page):
    spec = yaml.safe_load(demo_spec_text(PRESETS_DIR / "turn_level_conversation.yaml"))
    project = project_load_spec(spec_text=yaml.safe_dump(spec), owner=UserFactory(role="researcher"))
    items_import(project=project, path_or_file=DEMO_DIR / "dialogues.jsonl")
    page = new_page(PHONE)
    walk_to_first_item(page, slug=project.slug, worker="phone-dialogue")
    if page.locator("details.content-note").count():
        page.keyboard.press("o")

    key = page.locator(".turn-key")
    expect(key).to_contain_text("Emotional polarity")
    expect(key).to_contain_text("-1 Negative · 0 Neutral · 1 Positive")
    first_turn = page.locator(".turn").first
    expect(first_turn.locator("legend")).to_have_count(4)
    expect(first_turn.locator(".scale-labels")).to_contain_text("0 Neutral")
    expect(first_turn.locator("input[type=number]").first).to_have_attribute(
        "aria-label", "How much does the speaker reveal about their own life or feelings?, turn 1 (seeker)")
    # the controls, not the turns' own text (whose length depends on which dialogue is served first)
    controls = page.evaluate("Math.max(...[...document.querySelectorAll('.turn-widgets')]"
                             ".map((box) => box.getBoundingClientRect().height))")
    assert controls < 300, f"{controls}px of controls under one turn"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    check_page(page, "item-dialogue-phone")
