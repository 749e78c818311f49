"""A study participant from a Prolific link goes consent → survey → instructions → every pair, by keyboard only
(1 left, 2 right, 0 about the same; the required reason typed) → completion code. The judgments are stored with
the side each reply was shown on, and no page the participant received names a system."""

import json
import re

import pytest
from playwright.sync_api import expect

from studies import services
from studies.models import Judgment, Participant, Prompt
from studies.spec import spec_parse
from tests.browser.conftest import DESKTOP, PHONE, screenshot
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SYSTEMS = ("sysname-warmth-8841", "sysname-plain-2207")
SEEKERS = [
    "I failed my driving test for the third time today and I feel like an idiot.",
    "My dog is old and the vet says it is time. I do not know how to say goodbye.",
    "I moved to a new city for work and I have not talked to anyone in days.",
]
# Keys per pair: overall, then reception. Every pair also gets a typed reason for "overall" (required).
KEYS = [("1", "2"), ("2", "0"), ("0", "1")]
SIDE_OF_KEY = {"1": "left", "2": "right", "0": "tie"}


@pytest.fixture
def journey_study(db):
    owner = UserFactory(username="owner", role="researcher")
    spec = spec_parse({
        "slug": "browser-study",
        "title": f"{SYSTEMS[0]} against {SYSTEMS[1]}",  # researchers' title names the systems
        "participant_title": "Which reply supports the person better?",
        "prompts": [{"id": f"prompt-ext-{i}", "context": [{"speaker": "seeker", "text": text}]}
                    for i, text in enumerate(SEEKERS)],
        "systems": [{"name": name} for name in SYSTEMS],
        "criteria": [
            {"name": "overall", "question": "Overall, which reply is the more empathetic response?", "ties": True,
             "rationale": "required"},
            {"name": "reception", "question": "If you had written the message, which reply would you rather receive?",
             "ties": True},
        ],
        "pairs_per_participant": 3, "judgments_per_pair": 2,
        "consent": {"text": "Some messages describe loss. You may stop at any time.", "required": True},
        "survey": ["native_language"],
        "instructions": "Read the message and both replies, then choose with the keys 1, 2 or 0.",
        "recruitment": {"platform": "prolific", "completion_code": "STUDY-DONE-77"},
    })
    study = services.study_load(spec=spec, owner=owner)
    # reply texts say nothing of their system, so the pages can be searched for system names
    lines = [json.dumps({"prompt_id": p["id"], "system": s["name"],
                         "response": f"{'That sounds really hard, and it makes sense to feel this way' if j == 0 else 'Try again next time'}"
                                     f" (reply {i}{'ab'[j]})."})
             for i, p in enumerate(spec["prompts"]) for j, s in enumerate(spec["systems"])]
    services.responses_import(study=study, lines=lines, source="responses.jsonl")
    return services.study_open(study=study)


def _collect_pages(page) -> list[str]:
    """Every HTML document and fragment the browser receives, with its headers."""
    seen: list[str] = []

    def keep(response):
        if "text/html" in (response.headers.get("content-type") or ""):
            seen.append(response.text())
        seen.append(json.dumps(response.headers))

    page.on("response", keep)
    return seen


def _arrive(page, study, pid: str) -> None:
    page.goto(f"/s/{study.slug}/?PROLIFIC_PID={pid}&STUDY_ID=prolific-study-1&SESSION_ID=session-{pid}")
    expect(page.get_by_role("heading", name="Consent")).to_be_visible()
    page.keyboard.press("Enter")  # "I agree" has the focus
    expect(page.get_by_role("heading", name="About you")).to_be_visible()
    page.fill("#q_native_language", "Portuguese")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Instructions")).to_be_visible()
    page.keyboard.press("Enter")  # "Start" has the focus
    expect(page.locator("form.judge")).to_be_visible()


def test_prolific_participant_judges_every_pair_by_keyboard_and_nothing_names_a_system(journey_study, new_page):
    page = new_page(DESKTOP)
    seen = _collect_pages(page)
    _arrive(page, journey_study, "worker-77")
    screenshot(page, "study-pair-desktop")

    shown_sides = []
    for number, (overall, reception) in enumerate(KEYS, start=1):
        expect(page.locator(".slot-count")).to_have_text(f"{number} of 3")
        page.wait_for_load_state("domcontentloaded")  # judge.js (deferred) listens for the keys from then on
        slot_token = page.locator("input[name=slot]").get_attribute("value")
        page.keyboard.press(overall)
        page.keyboard.press(reception)
        reason = page.locator("textarea[name=rationale_overall]")
        expect(reason).to_be_focused()  # every choice made: the required reason is what is left
        page.keyboard.type(f"reason for pair {number}")
        page.keyboard.press("Control+Enter")
        shown_sides.append((slot_token, overall, reception))
        if number < len(KEYS):
            expect(page.locator("input[name=slot]")).not_to_have_attribute("value", slot_token)

    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    expect(page.locator("#completion-code")).to_have_text("STUDY-DONE-77")

    participant = Participant.objects.get(user__crowd_id="worker-77")
    assert participant.stage == "done" and participant.crowd["session_id"] == "session-worker-77"
    assert participant.survey["native_language"] == "Portuguese"
    for slot_token, overall, reception in shown_sides:
        judgments = {j.criterion: j for j in Judgment.objects.filter(assignment__token=slot_token)}
        assert set(judgments) == {"overall", "reception"}
        for criterion, key in (("overall", overall), ("reception", reception)):
            judgment = judgments[criterion]
            assert judgment.left in ("a", "b")
            side = SIDE_OF_KEY[key]
            expected = "tie" if side == "tie" else judgment.left if side == "left" else "ab".replace(judgment.left, "")
            assert judgment.choice == expected, (criterion, key, judgment.left, judgment.choice)
        assert judgments["overall"].rationale.startswith("reason for pair")
    # both sides were used (counterbalancing) and every judgment carries the side shown
    assert {j.left for j in Judgment.objects.filter(participant=participant)} <= {"a", "b"}

    seen.append(page.content())
    blob = "\n".join(seen)
    assert "That sounds really hard" in blob  # the replies were shown ...
    for name in SYSTEMS:  # ... but nothing says which system wrote them
        assert name not in blob
    assert journey_study.title not in blob
    for prompt in Prompt.objects.filter(study=journey_study):
        assert prompt.external_id not in blob
    assert not re.search(r"data-(system|pair|prompt|response|model)", blob)


def test_pair_page_fits_a_phone_and_can_be_answered_by_touch(journey_study, new_page):
    page = new_page(PHONE)
    _arrive(page, journey_study, "phone-worker")
    screenshot(page, "study-pair-phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the pair page scrolls sideways on a phone ({width}px)"
    for fieldset in page.locator("fieldset.criterion").all():
        box = fieldset.locator("label").first.bounding_box()
        assert box["height"] >= 44  # a finger-sized target
    page.locator("fieldset[data-criterion=overall] label").nth(1).click()
    page.locator("fieldset[data-criterion=reception] label").nth(2).click()
    page.fill("textarea[name=rationale_overall]", "tapped")
    page.get_by_role("button", name="Next").click()
    expect(page.locator(".slot-count")).to_have_text("2 of 3")
    judgments = {j.criterion: j for j in Judgment.objects.filter(participant__user__crowd_id="phone-worker")}
    assert judgments["overall"].choice == "ab".replace(judgments["overall"].left, "")  # Reply 2 = the right side
    assert judgments["reception"].choice == "tie"
