"""A rejected item says what is wrong in plain words beside the question, moves the focus there, announces it,
and keeps every answer already given; a slider project goes on past its first item."""

import pytest
import yaml
from playwright.sync_api import expect

from annotations.models import Label
from annotations.services.importing import items_import, project_load_spec
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.journeys import check_page, open_content_note, walk_to_first_item
from tests.factories import UserFactory
from webapp.demo.loading import DEMO_DIR, ITEMS_BY_KIND, PRESETS_DIR, demo_spec_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _preset_project(name: str):
    spec = yaml.safe_load(demo_spec_text(PRESETS_DIR / f"{name}.yaml"))
    spec.pop("attention_checks", None)  # these tests look at one item at a time
    project = project_load_spec(spec_text=yaml.safe_dump(spec), owner=UserFactory(role="researcher"))
    items_import(project=project, path_or_file=DEMO_DIR / ITEMS_BY_KIND[project.kind])
    return project


def _set_slider(page, field: str, value: int) -> None:
    page.locator(f'[data-dimension="{field}"] input[type=range]').fill(str(value))


def _fill_turns_with_one_off_the_step(page):
    """Answers every per-turn box in range, then types 3.7 (off the 0.5 step) for turn 2; submits. Returns the
    question in error."""
    boxes = page.locator("#item-form input[type=number]")
    for index in range(boxes.count()):
        box = boxes.nth(index)
        box.fill("4" if box.get_attribute("max") == "7" else "0.5")
    wrong = page.locator('[data-dimension="d__empathy__1"]')
    wrong.locator("input").fill("3.7")
    page.get_by_role("button", name="Submit").click()
    return wrong


def test_untouched_slider_is_named_beside_its_question_focused_and_other_answers_kept(new_page):
    project = _preset_project("response_quality")
    page = new_page(PHONE)
    walk_to_first_item(page, slug=project.slug, worker="err-slider")
    _set_slider(page, "d__appropriate", 70)
    _set_slider(page, "d__natural", 40)
    _set_slider(page, "d__would_continue", 10)
    page.locator('[data-dimension="d__understandable"] label').first.click()
    untouched = page.locator('[data-dimension="d__addresses_emotion"]')
    expect(untouched.locator("input[type=range]")).to_have_attribute("aria-valuetext", "not set")
    page.get_by_role("button", name="Submit").click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Not saved yet")
    expect(summary).to_contain_text("The reply responds to how the other person feels.")
    expect(summary).not_to_contain_text("addresses_emotion")
    expect(untouched.locator(".field-error")).to_have_text("Please move the slider to give an answer (it is not set yet).")
    expect(untouched.locator("input[type=range]")).to_be_focused()
    expect(page.locator('[data-dimension="d__appropriate"] output')).to_have_text("70")
    expect(page.locator('[data-dimension="d__understandable"] input:checked')).to_have_value("1")
    check_page(page, "item-error-slider-phone")

    _set_slider(page, "d__addresses_emotion", 55)
    page.get_by_role("button", name="Submit").click()
    expect(page.locator("#progress-text")).to_contain_text("1 done")
    assert Label.objects.get(project=project).values == {
        "appropriate": 70.0, "addresses_emotion": 55.0, "natural": 40.0, "would_continue": 10.0, "understandable": 1}
    # the second item has no leftover no-JavaScript box that would answer the sliders with nothing
    expect(page.locator(".slider-fallback")).to_have_count(0)
    for field, value in (("d__appropriate", 20), ("d__addresses_emotion", 30), ("d__natural", 40),
                         ("d__would_continue", 50)):
        _set_slider(page, field, value)
    page.locator('[data-dimension="d__understandable"] label').nth(1).click()
    page.get_by_role("button", name="Submit").click()
    expect(page.locator("#progress-text")).to_contain_text("2 done")


def test_number_off_the_step_is_explained_in_plain_words_and_answers_kept(new_page):
    project = _preset_project("turn_level_conversation")
    page = new_page(DESKTOP)
    walk_to_first_item(page, slug=project.slug, worker="err-number")
    open_content_note(page)  # the first item served may be a distressing one, its turns folded
    wrong = _fill_turns_with_one_off_the_step(page)

    expect(wrong.locator(".field-error")).to_have_text(
        "“3.7” is not allowed here: please enter a number from 1 to 7 in steps of 0.5.")
    expect(wrong.locator("input")).to_be_focused()
    expect(page.get_by_role("alert")).to_contain_text("turn 2")
    expect(page.locator('[data-dimension="d__empathy__0"] input')).to_have_value("4")
    wrong.locator("input").fill("3.5")
    page.keyboard.press("Enter")
    expect(page.locator("#progress-text")).to_contain_text("1 done")
    assert Label.objects.get(project=project).values["empathy"]["1"] == 3.5


def test_an_error_inside_a_distressing_items_fold_keeps_the_fold_open_and_focuses_the_question(new_page):
    project = _preset_project("turn_level_conversation")
    project.items.update(distressing=True)  # every item folded: the case the random first item only sometimes hit
    page = new_page(PHONE)
    walk_to_first_item(page, slug=project.slug, worker="err-fold")
    open_content_note(page, keyboard=True)
    wrong = _fill_turns_with_one_off_the_step(page)

    expect(page.locator("details.content-note")).to_have_attribute("open", "")
    expect(wrong.locator("input")).to_be_focused()
    expect(wrong.locator("input")).to_have_value("3.7")
