"""A German project and a German study, each reached from a Prolific link and walked to the completion code as a
person would: by touch-sized pointer clicks on a phone and by the keyboard alone on a desktop. Every page is German
(its headings and buttons are how the walk finds its way, and ``<html lang="de">``), passes axe, and what is
stored is what was entered, in the same words an English page would store."""

import io
import json

import pytest
from playwright.sync_api import expect

from annotations.models import Enrollment, Label
from annotations.services.importing import items_import, project_load_spec
from studies import services
from studies.models import Judgment, Participant
from studies.spec import spec_parse
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.journeys import GERMAN, annotator_walk, check_page
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PROJECT = """
slug: deutsch-reise
title: Wie fühlt sich die erzählende Person?
language: de
kind: narrative
overlap: 2
instructions: Lesen Sie jede Geschichte und beantworten Sie beide Fragen.
consent: {text: "Sie nehmen an einem kurzen Test teil.", required: true}
surveys:
  before: {demographic: [age_band, gender]}
dimensions:
  - {name: intensity, question: "Wie stark sind die Gefühle?", type: likert, min: 1, max: 4,
     labels: {1: kaum, 4: überwältigend}}
  - name: valence
    question: "Sind die Gefühle negativ, gemischt oder positiv?"
    type: choice
    choices: [{value: negative, label: negativ}, {value: mixed, label: gemischt}, {value: positive, label: positiv}]
crowd: {completion_code: DE-FERTIG}
"""
STORIES = ["Ich habe den Zug verpasst und über mich selbst gelacht.",
           "Mit fünfunddreißig habe ich schwimmen gelernt.",
           "Meine Nachbarin hat mir Suppe gebracht, als ich krank war."]
VIEWPORTS = {"phone": (PHONE, False), "desktop": (DESKTOP, True)}  # phone by pointer, desktop by keyboard alone


@pytest.fixture
def german_project(db):
    project = project_load_spec(spec_text=PROJECT, owner=UserFactory(role="researcher"))
    lines = "".join(json.dumps({"id": f"g{i}", "text": text}) + "\n" for i, text in enumerate(STORIES))
    items_import(project=project, path_or_file=io.StringIO(lines), fmt="jsonl")
    return project


def _stored_as(dimension: dict, shown: str):
    return int(shown) if dimension["type"] == "likert" else shown


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_a_german_project_is_walked_in_german_to_its_code_and_stores_what_was_entered(german_project, new_page, size):
    viewport, keyboard = VIEWPORTS[size]
    page = new_page(viewport)
    walk = annotator_walk(page, slug=german_project.slug, worker=f"de-{size}", keyboard=keyboard,
                          name=f"german-annotator-{size}", words=GERMAN)

    assert walk.pages[:4] == ["Einwilligung", "Über Sie", "Anleitung", "item"]
    assert walk.pages[-1] == "Vielen Dank!" and walk.code == "DE-FERTIG"
    expect(page.locator("#completion-code")).to_have_text("DE-FERTIG")
    expect(page.locator("main")).to_contain_text("Ihr Abschlusscode")
    enrollment = Enrollment.objects.get(project=german_project)
    assert enrollment.stage == Enrollment.Stage.DONE and enrollment.labels_done == len(STORIES)
    assert enrollment.annotator.attributes["gender"] == "Woman"  # chosen as "Frau", stored in the survey's words
    assert enrollment.survey_after == {"wellbeing": "Fine"}  # "Gut"
    dimensions = {d["name"]: d for d in german_project.dimensions}
    assert len(walk.entered) == len(STORIES)
    for assignment_id, shown in walk.entered.items():
        label = Label.objects.get(assignment_id=assignment_id)
        assert label.values == {field.removeprefix("d__"): _stored_as(dimensions[field.removeprefix("d__")], value)
                                for field, value in shown.items()}


def _german_study():
    spec = spec_parse({
        "slug": "deutsch-studie", "title": "warm gegen schlicht", "language": "de",
        "prompts": [{"id": f"p{i}", "context": [{"speaker": "seeker", "text": text}]} for i, text in enumerate(
            ["Ich bin heute durch die Prüfung gefallen.", "Mein Hund ist sehr alt geworden."])],
        "systems": [{"name": "warm"}, {"name": "schlicht"}],
        "criteria": [{"name": "overall", "question": "Welche Antwort ist einfühlsamer?", "ties": True}],
        "pairs_per_participant": 2, "judgments_per_pair": 2,
        "consent": {"text": "Sie vergleichen zwei Antworten.", "required": True},
        "survey": ["gender"],
        "instructions": "Lesen Sie die Nachricht und beide Antworten.",
        "recruitment": {"platform": "prolific", "completion_code": "STUDIE-DE"},
    })
    study = services.study_load(spec=spec, owner=UserFactory(role="researcher"))
    services.responses_import(study=study, source="r.jsonl", lines=[
        json.dumps({"prompt_id": p["id"], "system": s["name"], "response": f"Antwort {i}{'ab'[j]}: Das klingt schwer."})
        for i, p in enumerate(spec["prompts"]) for j, s in enumerate(spec["systems"])])
    return services.study_open(study=study)


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_a_german_study_participant_judges_in_german_to_the_code(new_page, size):
    study = _german_study()
    viewport, keyboard = VIEWPORTS[size]
    page = new_page(viewport)
    page.goto(f"/s/{study.slug}/?PROLIFIC_PID=de-{size}&STUDY_ID=s&SESSION_ID=x")
    expect(page.locator("html")).to_have_attribute("lang", "de")

    expect(page.get_by_role("heading", name="Einwilligung")).to_be_visible()
    check_page(page, f"german-participant-{size}-consent")
    page.keyboard.press("Enter") if keyboard else page.get_by_role("button", name="Ich stimme zu").click()

    expect(page.get_by_role("heading", name="Über Sie")).to_be_visible()
    check_page(page, f"german-participant-{size}-survey")
    if keyboard:
        page.keyboard.press("ArrowDown")  # the gender list has the focus: its first answer, "Frau"
        page.keyboard.press("Tab")  # past the optional box for a self-description
        expect(page.locator("#q_gender_self")).to_be_focused()
        page.keyboard.press("Tab")
        expect(page.get_by_role("button", name="Weiter")).to_be_focused()
        page.keyboard.press("Enter")
    else:
        page.select_option("#q_gender", label="Frau")
        page.get_by_role("button", name="Weiter").click()

    expect(page.get_by_role("heading", name="Anleitung")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Tasten: 1 linke Antwort, 2 rechte Antwort, 0 etwa gleich.")
    check_page(page, f"german-participant-{size}-instructions")
    page.keyboard.press("Enter") if keyboard else page.get_by_role("button", name="Starten").click()

    chosen = []
    for number, key in enumerate(("1", "0"), start=1):
        expect(page.locator(".slot-count")).to_have_text(f"{number} von 2")
        expect(page.get_by_role("button", name="Weiter")).to_be_visible()
        expect(page.locator("fieldset.criterion")).to_contain_text("Etwa gleich")
        if number == 1:
            check_page(page, f"german-participant-{size}-pair")
        slot = page.locator("input[name=slot]").get_attribute("value")
        page.wait_for_load_state("domcontentloaded")  # judge.js (deferred) listens for the keys from then on
        if keyboard:
            page.keyboard.press(key)  # the only question answered: the form goes on by itself
        else:
            page.locator("fieldset[data-criterion=overall] label").nth({"1": 0, "0": 2}[key]).click()
            page.get_by_role("button", name="Weiter").click()
        chosen.append((slot, key))
        if number == 1:
            expect(page.locator("input[name=slot]")).not_to_have_attribute("value", slot)

    expect(page.get_by_role("heading", name="Vielen Dank!")).to_be_visible()
    expect(page.locator("#completion-code")).to_have_text("STUDIE-DE")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    check_page(page, f"german-participant-{size}-done")

    participant = Participant.objects.get(user__crowd_id=f"de-{size}")
    assert participant.stage == "done" and participant.survey["gender"] == "Woman"
    for slot, key in chosen:
        judgment = Judgment.objects.get(assignment__token=slot, criterion="overall")
        assert judgment.choice == ("tie" if key == "0" else judgment.left)
