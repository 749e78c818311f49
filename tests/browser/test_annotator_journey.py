"""An annotator from a Prolific link goes consent → survey → instructions → items (keyboard only) → final survey
→ completion code; the researcher then sees the labels on the project page."""

import io
import json
import re

import pytest
from playwright.sync_api import expect

from annotations.models import Enrollment, Item, Label
from annotations.services.importing import items_import, project_load_spec
from tests.browser.conftest import DESKTOP, PHONE, log_in, screenshot
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SPEC = """
slug: browser-journey
title: How does the narrator feel?
kind: narrative
overlap: 1
instructions: Read each story and answer the three questions.
content_note: Some stories mention loss.
consent: {text: "You agree to take part in a test.", required: true}
surveys:
  before: {demographic: [age_band, gender, country, native_language]}
  after:
    questions:
      - {name: clarity, question: "How clear were the instructions?", type: likert, min: 1, max: 5, required: false}
dimensions:
  - name: intensity
    question: "How intense are the narrator's feelings?"
    type: likert
    min: 1
    max: 5
    labels: {1: Barely there, 5: Overwhelming}
  - name: valence
    question: "Are the feelings negative, mixed or positive?"
    type: choice
    choices: [{value: negative, label: Negative}, {value: mixed, label: Mixed}, {value: positive, label: Positive}]
  - {name: empathy, question: "How much would you empathize with the narrator?", type: likert, min: 1, max: 4}
crowd: {completion_code: JOURNEY-OK}
"""
STORIES = [
    {"id": "s1", "text": "I missed my train and sat on the platform laughing at myself."},
    {"id": "s2", "text": "My grandfather died in the spring; I still set out two cups by habit.",
     "distressing": True, "content_note": "A grandparent's death."},
    {"id": "s3", "text": "I learned to swim at thirty-five and cried in the shallow end from pride."},
]
# Digits pressed per item: intensity 3, valence 2nd choice (mixed), empathy 4.
KEYS = ["3", "2", "4"]
EXPECTED = {"intensity": 3, "valence": "mixed", "empathy": 4}


@pytest.fixture
def journey_project(db):
    owner = UserFactory(username="owner", role="researcher")
    project = project_load_spec(spec_text=SPEC, owner=owner)
    lines = "".join(json.dumps(story) + "\n" for story in STORIES)
    items_import(project=project, path_or_file=io.StringIO(lines), fmt="jsonl")
    return project


def _press(page, key: str) -> None:
    page.keyboard.press(key)


def test_prolific_annotator_finishes_by_keyboard_and_researcher_sees_the_labels(journey_project, new_page):
    page = new_page(DESKTOP)
    page.goto(f"/p/{journey_project.slug}/?PROLIFIC_PID=worker42&STUDY_ID=st1&SESSION_ID=se1")

    expect(page.get_by_role("heading", name="Consent")).to_be_visible()
    _press(page, "Enter")  # "I agree" has the focus

    expect(page.get_by_role("heading", name="About you")).to_be_visible()
    page.select_option("#q_age_band", "25-34")
    page.select_option("#q_gender", "Woman")
    page.fill("#q_country", "Portugal")
    page.fill("#q_native_language", "Portuguese")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Instructions")).to_be_visible()
    _press(page, "Enter")  # "Start" has the focus

    for done in range(len(STORIES)):
        expect(page.locator("#progress-text")).to_contain_text(f"{done} done of {len(STORIES)}")
        # The keys work once annotate.js has set this item up (the first item arrives with a page load).
        expect(page.locator("#item-form")).not_to_have_attribute("data-started", "")
        note = page.locator("details.content-note")
        if note.count() and note.get_attribute("open") is None:
            _press(page, "o")  # a distressing item stays folded until the annotator chooses to read it
            expect(note).to_have_attribute("open", "")
        for key in KEYS:
            _press(page, key)
        expect(page.locator("fieldset.dimension input:checked")).to_have_count(len(KEYS))
        _press(page, "Enter")

    expect(page.get_by_role("heading", name="Before you go")).to_be_visible()
    page.select_option("#q_wellbeing", "Fine")
    page.fill("#q_clarity", "4")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    expect(page.locator("#completion-code")).to_have_text("JOURNEY-OK")

    labels = list(Label.objects.filter(project=journey_project))
    assert len(labels) == len(STORIES)
    assert all(label.values == EXPECTED for label in labels)
    assert all(label.seconds is not None and label.seconds > 0 for label in labels)
    enrollment = Enrollment.objects.get(project=journey_project)
    assert enrollment.stage == Enrollment.Stage.DONE
    assert enrollment.crowd["worker_id"] == "worker42"
    assert enrollment.annotator.attributes["country"] == "Portugal"
    assert enrollment.survey_after == {"wellbeing": "Fine", "clarity": 4}

    researcher_page = new_page(DESKTOP)
    log_in(researcher_page, username="owner", password="pw-12345678")
    researcher_page.goto(f"/projects/{journey_project.slug}/")
    expect(researcher_page.get_by_test_id("labels")).to_have_text(str(len(STORIES)))
    expect(researcher_page.get_by_test_id("items-complete")).to_have_text(re.compile(rf"{len(STORIES)}\s*/\s*{len(STORIES)}"))


def test_item_page_fits_a_phone_and_a_desktop(journey_project, new_page):
    """Screenshots for a person to look at, plus the layout facts a machine can check: nothing wider than the
    phone, and every answer target at least 44 px high (WCAG 2.5.5)."""
    # Only the distressing story is open, for two annotators (phone and desktop).
    Item.objects.filter(project=journey_project).exclude(external_id="s2").update(is_full=True)
    Item.objects.filter(project=journey_project, external_id="s2").update(needed=2)
    for name, viewport in (("item-phone", PHONE), ("item-desktop", DESKTOP)):
        page = new_page(viewport)
        page.goto(f"/p/{journey_project.slug}/?PROLIFIC_PID=shot-{name}&STUDY_ID=s&SESSION_ID=x")
        _press(page, "Enter")
        page.select_option("#q_age_band", "25-34")
        page.select_option("#q_gender", "Man")
        page.fill("#q_country", "Kenya")
        page.fill("#q_native_language", "Swahili")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Instructions")).to_be_visible()
        _press(page, "Enter")
        expect(page.locator("#item-form")).to_be_visible()
        _press(page, "o")
        _press(page, "3")
        screenshot(page, name)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= viewport["width"], f"{name}: page is {scroll_width}px wide"
        heights = page.eval_on_selector_all(".scale label", "els => els.map(e => e.getBoundingClientRect().height)")
        assert heights and min(heights) >= 44
