"""The crowd pages speak the language of their project or study, and nothing else does: researcher pages stay
English whatever the browser asks, the language ends with the request, and what is stored is the same words in
every language (a German "Frau" is stored as the survey's "Woman")."""

import io
import json
import re

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation

from annotations.models import Enrollment
from annotations.services.importing import items_import, project_load_spec
from studies import services
from studies.models import Participant
from studies.spec import spec_parse
from webapp.people.language import crowd_language_use, crowd_page

pytestmark = pytest.mark.django_db

PROJECT = """
slug: {slug}
title: Wie fühlt sich die Person?
language: {language}
kind: narrative
overlap: 1
consent: {{text: "Sie nehmen an einem Test teil.", required: true}}
surveys:
  before: {{demographic: [gender]}}
dimensions:
  - {{name: empathy, question: "Wie einfühlsam ist der Text?", type: likert, min: 1, max: 4}}
crowd: {{completion_code: FERTIG}}
"""


def _project(researcher, *, slug="deutsch", language="de"):
    project = project_load_spec(spec_text=PROJECT.format(slug=slug, language=language), owner=researcher)
    items_import(project=project, path_or_file=io.StringIO(json.dumps({"id": "t1", "text": "Ein Text."}) + "\n"),
                 fmt="jsonl")
    return project


def _arrive(client, slug: str) -> str:
    return client.get(f"/p/{slug}/?PROLIFIC_PID=pid-{slug}&STUDY_ID=s&SESSION_ID=x", follow=True).content.decode()


def test_a_german_project_shows_its_pages_in_german_and_its_own_words_as_written(client, researcher):
    _project(researcher)
    page = _arrive(client, "deutsch")
    assert '<html lang="de"' in page
    assert "Einwilligung" in page and "Ich stimme zu" in page and "I agree" not in page
    assert "Sie nehmen an einem Test teil." in page  # the researcher's consent text, as written
    client.post(reverse("annotations:annotate_consent", args=["deutsch"]), {"agree": "yes"})
    survey = client.get(reverse("annotations:annotate", args=["deutsch"])).content.decode()
    assert "Über Sie" in survey and "Ihr Geschlecht" in survey and '<option value="Woman">Frau</option>' in survey


def test_a_german_survey_refusal_is_german_and_the_answer_is_stored_in_the_surveys_own_words(client, researcher):
    _project(researcher)
    _arrive(client, "deutsch")
    client.post(reverse("annotations:annotate_consent", args=["deutsch"]), {"agree": "yes"})
    refused = client.post(reverse("annotations:annotate_survey", args=["deutsch"]), {"gender": ""})
    assert refused.status_code == 422
    assert "Bitte beantworten Sie diese Frage." in refused.content.decode()
    client.post(reverse("annotations:annotate_survey", args=["deutsch"]), {"gender": "Woman"})
    enrollment = Enrollment.objects.get()
    assert enrollment.annotator.attributes["gender"] == "Woman"
    item = client.get(reverse("annotations:annotate", args=["deutsch"])).content.decode()
    assert "Absenden" in item and "0 von 1 erledigt" in item and "Wie einfühlsam ist der Text?" in item


def test_an_english_project_beside_it_and_the_researcher_pages_stay_english(client, researcher):
    _project(researcher)
    _project(researcher, slug="english", language="en")
    assert "Ich stimme zu" in _arrive(client, "deutsch")
    english = _arrive(Client(), "english")  # another person: this browser is the German annotator's
    assert '<html lang="en"' in english and "I agree" in english and "Ich stimme zu" not in english
    client.force_login(researcher)
    dashboard = client.get(reverse("annotations:project_detail", args=["deutsch"]), HTTP_ACCEPT_LANGUAGE="de")
    assert '<html lang="en"' in dashboard.content.decode()
    assert translation.get_language() == "en"  # the German request left nothing behind in this thread


def test_a_german_study_shows_the_platforms_defaults_in_german_and_the_researchers_words_as_written(client, researcher):
    spec = spec_parse({
        "slug": "studie", "title": "a gegen b", "language": "de", "pairs_per_participant": 1,
        "prompts": [{"id": "p1", "context": [{"speaker": "seeker", "text": "Mir geht es schlecht."}]}],
        "systems": [{"name": "a"}, {"name": "b"}],
        "criteria": [{"name": "overall", "question": "Which response is better overall?"},
                     {"name": "warmth", "question": "Welche Antwort ist wärmer?"}],
        "consent": {"text": "Einwilligungstext.", "required": True},
    })
    study = services.study_load(spec=spec, owner=researcher)
    services.responses_import(study=study, source="r.jsonl", lines=[
        json.dumps({"prompt_id": "p1", "system": name, "response": f"Antwort {name}."}) for name in ("a", "b")])
    services.study_open(study=study)
    consent = client.get("/s/studie/?PROLIFIC_PID=w1&STUDY_ID=s&SESSION_ID=x", follow=True).content.decode()
    assert '<html lang="de"' in consent and "Zwei Antworten vergleichen" in consent and "Ich stimme zu" in consent
    token = Participant.objects.get().token
    client.post(reverse("studies:participate_consent", args=[token]), {"agree": "yes"})
    client.post(reverse("studies:participate_start", args=[token]))
    pair = client.get(reverse("studies:participate", args=[token])).content.decode()
    assert "Welche Antwort ist insgesamt besser?" in pair  # the spec's default question, in German
    assert "Welche Antwort ist wärmer?" in pair and "1 von 1" in pair and "Etwa gleich" in pair
    slot = re.search(r'name="slot" value="([^"]+)"', pair).group(1)
    refused = client.post(reverse("studies:participate_judge", args=[token]), {"slot": slot}, HTTP_HX_REQUEST="true")
    assert "Bitte wählen Sie die linke Antwort" in refused.content.decode()


def test_the_crowd_language_is_refused_outside_a_crowd_view_and_undone_after_one():
    with pytest.raises(RuntimeError):
        crowd_language_use({"language": "de"})

    @crowd_page
    def view(request):
        crowd_language_use({"language": "de"})
        assert translation.get_language() == "de"
        raise ValueError("a view that fails")

    with pytest.raises(ValueError):
        view(RequestFactory().get("/"))
    assert translation.get_language() == "en"
