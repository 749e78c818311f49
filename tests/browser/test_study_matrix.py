"""The demo study walked by a participant from its Prolific link to the completion code × phone and desktop ×
keyboard-only and pointer-only; every judgment is read back with the side each reply was shown on and must say
what was chosen on the screen. axe-core runs on every page; screenshots go to var/screenshots."""

import pytest
from playwright.sync_api import expect

from studies.models import Judgment, Participant
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.journeys import check_page
from tests.factories import UserFactory
from webapp.demo.loading import demo_study_load

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}
KEYS = ("1", "2", "0")  # left, right, about the same
SIDE = {"1": "left", "2": "right", "0": "tie"}


def _survey(page, keyboard: bool) -> None:
    if keyboard:
        expect(page.locator("#q_age_band")).to_be_focused()
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Tab")
        page.keyboard.type("Portuguese")
        page.keyboard.press("Enter")
    else:
        page.select_option("#q_age_band", "25-34")
        page.locator("#q_native_language").click()
        page.keyboard.type("Portuguese")
        page.get_by_role("button", name="Continue").click()


def _expected_choice(judgment: Judgment, key: str) -> str:
    side = SIDE[key]
    if side == "tie":
        return "tie"
    return judgment.left if side == "left" else "ab".replace(judgment.left, "")


@pytest.mark.parametrize("mode", ["keyboard", "pointer"])
@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_participant_completes_demo_study_and_judgments_are_stored_as_chosen(size, mode, new_page):
    study = demo_study_load(owner=UserFactory(role="researcher"))
    keyboard = mode == "keyboard"
    name = f"participant-{size}-{mode}"
    page = new_page(VIEWPORTS[size])
    page.goto(f"/s/{study.slug}/?PROLIFIC_PID={name}&STUDY_ID=st&SESSION_ID=se")

    expect(page.get_by_role("heading", name="Consent")).to_be_visible()
    check_page(page, f"{name}-consent")
    page.keyboard.press("Enter") if keyboard else page.get_by_role("button", name="I agree").click()
    expect(page.get_by_role("heading", name="About you")).to_be_visible()
    check_page(page, f"{name}-survey")
    _survey(page, keyboard)
    expect(page.get_by_role("heading", name="Instructions")).to_be_visible()
    check_page(page, f"{name}-instructions")
    page.keyboard.press("Enter") if keyboard else page.get_by_role("button", name="Start").click()

    chosen: dict[str, dict[str, str]] = {}
    for number in range(1, 40):
        expect(page.locator("form.judge, h1:has-text('Thank you')").first).to_be_visible()
        if not page.locator("form.judge").count():
            break
        page.wait_for_load_state("domcontentloaded")
        if number == 1:
            check_page(page, f"{name}-pair")
        slot = page.locator("input[name=slot]").get_attribute("value")
        criteria = page.eval_on_selector_all("fieldset.criterion", "els => els.map(f => f.dataset.criterion)")
        keys = {}
        for index, criterion in enumerate(criteria):
            key = KEYS[(number + index) % 3]
            fieldset = page.locator(f"fieldset[data-criterion={criterion}]")
            if keyboard:
                page.keyboard.press(key)
            else:
                fieldset.locator("label").nth(KEYS.index(key)).click()
            keys[criterion] = key
        chosen[slot] = keys
        if keyboard:
            page.keyboard.press("Control+Enter")
        else:
            page.get_by_role("button", name="Next").click()
        expect(page.locator(f"input[name=slot][value='{slot}']")).to_have_count(0)

    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    check_page(page, f"{name}-done")
    expect(page.locator("#completion-code")).to_have_text(study.spec["recruitment"]["completion_code"])
    participant = Participant.objects.get(user__crowd_id=name)
    assert participant.stage == "done"
    assert participant.survey["native_language"] == "Portuguese"
    assert len(chosen) >= 3
    for slot, keys in chosen.items():
        judgments = {j.criterion: j for j in Judgment.objects.filter(assignment__token=slot)}
        assert set(judgments) == set(keys)
        for criterion, key in keys.items():
            assert judgments[criterion].choice == _expected_choice(judgments[criterion], key), (slot, criterion)
