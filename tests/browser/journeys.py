"""A crowd annotator walked through the real pages, with the keyboard alone or with the pointer alone, for any
project: Prolific link → consent → survey → instructions → items → final survey → completion code.

Every answer is given as a person would (keys, or clicks on the widget) and the value the page then shows is
what the walk records as entered, so the test compares the stored labels with what the screen said."""

import os
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import expect

AXE = Path(os.environ.get("RESONANCE_AXE", Path(__file__).resolve().parents[2] / ".cache/npm/node_modules/axe-core/axe.min.js"))
SCREENSHOTS = Path(os.environ.get("RESONANCE_SCREENSHOT_DIR", Path(__file__).resolve().parents[2] / "var/screenshots"))
BLOCKING = {"serious", "critical"}

STAGE_HEADINGS = ("Consent", "About you", "Instructions", "Before you go", "Thank you!", "This session has ended",
                  "Time for a break")


@dataclass(frozen=True)
class PageWords:
    """The words a walk finds its way by (stage headings and buttons), in the language of the project's pages:
    a walk of a German project that reaches its end has read each of them in German."""

    lang: str = "en"  # <html lang> of every page
    consent: str = "Consent"
    about_you: str = "About you"
    instructions: str = "Instructions"
    before_you_go: str = "Before you go"
    thank_you: str = "Thank you!"
    agree: str = "I agree"
    go_on: str = "Continue"
    start: str = "Start"
    submit: str = "Submit"


ENGLISH = PageWords()
GERMAN = PageWords(lang="de", consent="Einwilligung", about_you="Über Sie", instructions="Anleitung",
                   before_you_go="Bevor Sie gehen", thank_you="Vielen Dank!", agree="Ich stimme zu", go_on="Weiter",
                   start="Starten", submit="Absenden")


def axe_violations(page) -> list[str]:
    """Serious and critical axe-core violations on the page as it is now, one line each (empty when none)."""
    if not AXE.is_file():
        raise AssertionError(f"{AXE} is missing: run `make axe` (npm install into .cache/npm)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # evaluated through the DevTools protocol: the pages' Content-Security-Policy forbids inline scripts
        page.evaluate(AXE.read_text() + "\n;true")
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                           ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))")
    return [f"{v['id']} ({v['impact']}): {', '.join(v['nodes'][:3])}" for v in result if v["impact"] in BLOCKING]


def check_page(page, name: str) -> None:
    """Fails on serious or critical accessibility violations and saves a screenshot named after the page."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    problems = axe_violations(page)
    assert not problems, f"{name}: axe found\n" + "\n".join(problems)


@dataclass
class Walk:
    """What a walk entered: {assignment id: {form field: value shown}}, and the completion code it ended with."""
    entered: dict[int, dict[str, str]] = field(default_factory=dict)
    code: str = ""
    pages: list[str] = field(default_factory=list)


def _stage(page) -> str:
    heading = page.locator("h2").first
    if page.locator("#item-form").count():
        return "item"
    return heading.inner_text().strip() if heading.count() else ""


def _survey(page, keyboard: bool, words: PageWords = ENGLISH) -> None:
    """Answers every survey question: first real option of each list, a word or a small number in each box."""
    fields = page.locator("form .card select, form .card input")
    for index in range(fields.count()):
        box = fields.nth(index)
        tag = box.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
        if keyboard:
            if index:
                page.keyboard.press("Tab")
            expect(box).to_be_focused()
            if tag.startswith("select"):
                page.keyboard.press("ArrowDown")  # the first option after the blank one
            else:
                page.keyboard.type("3" if tag.endswith("number") else "Portugal")
        else:
            if tag.startswith("select"):
                values = box.evaluate("e => Array.from(e.options).map(o => o.value).filter(Boolean)")
                box.select_option(values[0])
            else:
                box.click()
                box.fill("3" if tag.endswith("number") else "Portugal")
    if keyboard:
        page.keyboard.press("Tab")
        expect(page.get_by_role("button", name=words.go_on)).to_be_focused()
        page.keyboard.press("Enter")
    else:
        page.get_by_role("button", name=words.go_on).click()


def _questions(page) -> list[dict]:
    return page.eval_on_selector_all("#item-form fieldset.dimension", """els => els.map(f => ({
        field: f.dataset.dimension, type: f.dataset.type,
        keys: Array.from(f.querySelectorAll('.scale label')).map(l => l.dataset.key || ''),
        min: (f.querySelector('input[type=range], input[type=number]') || {}).min,
        max: (f.querySelector('input[type=range], input[type=number]') || {}).max}))""")


def _shown(page, question: dict) -> str:
    """The answer the page now shows for one question."""
    selector = f'[data-dimension="{question["field"]}"]'
    return page.eval_on_selector(selector, """f => {
        const checked = f.querySelector('input:checked'); if (checked) return checked.value;
        const range = f.querySelector('input[type=range]'); if (range) return range.name ? range.value : '';
        const box = f.querySelector('input[type=number], textarea'); return box ? box.value : ''; }""")


def _number_for(question: dict, turn: int) -> str:
    low, high = float(question["min"] or 0), float(question["max"] or 10)
    value = low + ((turn % 3) + 1) * 0.5
    value = min(value, high)
    return str(int(value)) if value.is_integer() else str(value)


def _answer(page, question: dict, index: int, item_no: int, keyboard: bool) -> None:
    fieldset = page.locator(f'[data-dimension="{question["field"]}"]')
    kind = question["type"]
    if question["keys"]:
        choice = (index + item_no) % len(question["keys"])
        if keyboard:
            page.keyboard.press(question["keys"][choice])
        else:
            fieldset.locator(".scale label").nth(choice).click()
    elif kind == "slider":
        if keyboard:
            page.keyboard.press(str((index + item_no) % 9 + 1))
            page.keyboard.press("ArrowRight")  # fine-tuning by one step
            page.keyboard.press("Tab")
        else:
            slider = fieldset.locator("input[type=range]")
            box = slider.bounding_box()
            fraction = 0.2 + 0.1 * ((index + item_no) % 7)
            slider.click(position={"x": box["width"] * fraction, "y": box["height"] / 2})
    elif kind == "number":
        text = _number_for(question, index + item_no)
        if keyboard:
            page.keyboard.type(text)  # the first digit brings the box into focus (annotate.js)
            page.keyboard.press("Tab")
        else:
            fieldset.locator("input[type=number]").click()
            page.keyboard.type(text)
    else:
        text = f"Reason {item_no}: they both felt alone."
        if not keyboard:
            fieldset.locator("textarea").click()
        page.keyboard.type(text)


def open_content_note(page, *, keyboard: bool = False) -> None:
    """Opens a distressing item's fold (its text, and a dialogue's per-turn boxes, are inside), as a person
    who chooses to read on would: `o` on the keyboard, or the summary by pointer."""
    note = page.locator("details.content-note")
    if note.count() and note.get_attribute("open") is None:
        if keyboard:
            page.keyboard.press("o")
        else:
            note.locator("summary").click()


def _item(page, item_no: int, keyboard: bool, walk: Walk, words: PageWords = ENGLISH) -> None:
    form = page.locator("#item-form")
    expect(form).not_to_have_attribute("data-started", "")
    assignment = int(form.locator("input[name=assignment]").get_attribute("value"))
    expect(page.get_by_role("button", name=words.submit)).to_be_visible()
    open_content_note(page, keyboard=keyboard)
    questions = _questions(page)
    for index, question in enumerate(questions):
        if keyboard and question["type"] == "text" and index:
            expect(page.locator(f'[data-dimension="{question["field"]}"] textarea')).to_be_focused()
        _answer(page, question, index, item_no, keyboard)
    walk.entered[assignment] = {q["field"]: _shown(page, q) for q in questions}
    assert all(value != "" for name, value in walk.entered[assignment].items()
               if not name.startswith("d__rationale") and not name.startswith("d__reasons")), walk.entered[assignment]
    if keyboard:
        page.keyboard.press("Enter")
    else:
        page.get_by_role("button", name=words.submit).click()
    expect(page.locator(f'#item-form input[name=assignment][value="{assignment}"]')).to_have_count(0)


def annotator_walk(page, *, slug: str, worker: str, keyboard: bool, name: str, max_pages: int = 40,
                   words: PageWords = ENGLISH) -> Walk:
    """Walks the project from its Prolific link to the end, finding each stage and button by ``words``; checks axe
    and saves a screenshot on each new page."""
    walk = Walk()
    page.goto(f"/p/{slug}/?PROLIFIC_PID={worker}&STUDY_ID=study1&SESSION_ID=session1")
    item_no = 0
    for _ in range(max_pages):
        expect(page.locator("#item-form, h2").first).to_be_visible()
        stage = _stage(page)
        if stage not in walk.pages:
            walk.pages.append(stage)
            expect(page.locator("html")).to_have_attribute("lang", words.lang)
            key = next((field for field, said in vars(words).items() if said == stage), stage)
            check_page(page, f"{name}-{key.lower().replace(' ', '-').replace('_', '-').strip('!')}")
        if stage == words.consent:
            page.keyboard.press("Enter") if keyboard else page.get_by_role("button", name=words.agree).click()
        elif stage in {words.about_you, words.before_you_go}:
            _survey(page, keyboard, words)
        elif stage == words.instructions:
            page.keyboard.press("Enter") if keyboard else page.get_by_role("button", name=words.start).click()
        elif stage == "item":
            _item(page, item_no, keyboard, walk, words)
            item_no += 1
        elif stage == words.thank_you:
            code = page.locator("#completion-code")
            walk.code = code.inner_text() if code.count() else ""
            return walk
        else:
            raise AssertionError(f"{name}: the walk stopped at {stage!r}")
    raise AssertionError(f"{name}: no end after {max_pages} pages")


def walk_to_first_item(page, *, slug: str, worker: str) -> None:
    """Consent, survey and instructions with the pointer, stopping at the first item (for tests of the item)."""
    page.goto(f"/p/{slug}/?PROLIFIC_PID={worker}&STUDY_ID=study1&SESSION_ID=session1")
    for _ in range(6):
        expect(page.locator("#item-form, h2").first).to_be_visible()
        stage = _stage(page)
        if stage == "item":
            expect(page.locator("#item-form")).not_to_have_attribute("data-started", "")
            return
        if stage == "Consent":
            page.get_by_role("button", name="I agree").click()
        elif stage == "About you":
            _survey(page, keyboard=False)
        elif stage == "Instructions":
            page.get_by_role("button", name="Start").click()
        else:
            raise AssertionError(f"stopped at {stage!r} before any item")
    raise AssertionError("no item reached")
