"""The ``language:`` key of project and study specs: English by default, German accepted, anything else refused
naming the key and its line; it round-trips through the editor, the API and the hash like every other key."""

import pytest
import yaml
from rest_framework.test import APIClient

from annotations.services.importing import project_load_spec
from annotations.spec import spec_load
from annotations.views_spec_text import spec_editable_text
from studies.spec import SpecError, spec_hash, spec_parse
from webapp.people.language import crowd_language

PROJECT = """\
slug: sprache
title: Wie fühlt sich die Person?
kind: narrative
language: {language}
dimensions:
  - {{name: empathy, question: "Wie einfühlsam?", type: likert, min: 1, max: 4}}
"""

STUDY = """\
slug: sprach-studie
title: A vs B
language: {language}
prompts:
  - {{id: p1, context: [{{speaker: seeker, text: hallo}}]}}
systems: [a, b]
pairs_per_participant: 1
"""


@pytest.mark.parametrize("read", [spec_load, spec_parse], ids=["project", "study"])
def test_language_is_english_when_left_out_or_null(read):
    text = (PROJECT if read is spec_load else STUDY).format(language="null")
    assert read(text)["language"] == "en"
    without = "".join(line + "\n" for line in text.splitlines() if not line.startswith("language"))
    assert read(without)["language"] == "en"


@pytest.mark.parametrize("read", [spec_load, spec_parse], ids=["project", "study"])
def test_german_is_accepted_and_hashes_apart_from_english(read):
    template = PROJECT if read is spec_load else STUDY
    german, english = read(template.format(language="de")), read(template.format(language="en"))
    assert german["language"] == "de"
    assert {**german, "language": "en"} == english
    assert spec_hash(german) != spec_hash(english)


@pytest.mark.parametrize("read", [spec_load, spec_parse], ids=["project", "study"])
@pytest.mark.parametrize("value", ["fr", "DE", "german", "1", "[de]"])
def test_a_language_not_shipped_is_refused_naming_the_key_and_its_line(read, value):
    with pytest.raises(SpecError) as caught:
        read((PROJECT if read is spec_load else STUDY).format(language=value))
    assert caught.value.path == "language"
    assert caught.value.line == (4 if read is spec_load else 3)
    assert "en (English), de (Deutsch)" in caught.value.message
    assert str(caught.value).startswith("language: ")


def test_the_project_editor_shows_the_language_and_saving_it_changes_nothing():
    spec = spec_load(PROJECT.format(language="de"))
    text = spec_editable_text(spec)
    assert yaml.safe_load(text)["language"] == "de"
    assert spec_load(text) == spec


def test_a_project_stored_before_specs_named_a_language_reads_and_edits_as_english():
    spec = spec_load(PROJECT.format(language="en"))
    older = {key: value for key, value in spec.items() if key != "language"}
    assert crowd_language(older) == "en"
    assert spec_load(spec_editable_text(older)) == spec


def test_the_study_editor_text_reads_back_to_the_same_spec():
    spec = spec_parse(STUDY.format(language="de"))
    assert spec_parse(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)) == spec


@pytest.mark.django_db
def test_the_api_stores_and_returns_the_language_with_the_hash_of_the_spec(researcher):
    client = APIClient()
    client.force_authenticate(researcher)
    created = client.post("/api/projects/", {"spec": PROJECT.format(language="de")}, format="json")
    assert created.status_code == 201, created.content
    shown = client.get("/api/projects/sprache/").json()
    assert shown["spec"]["language"] == "de" and shown["spec_hash"] == spec_hash(shown["spec"])
    refused = client.post("/api/projects/", {"spec": PROJECT.format(language="fr").replace("sprache", "other")},
                          format="json")
    assert refused.status_code == 400 and "language" in refused.content.decode()


@pytest.mark.django_db
def test_a_project_loaded_in_german_keeps_its_language_on_the_row(researcher):
    project = project_load_spec(spec_text=PROJECT.format(language="de"), owner=researcher)
    project.refresh_from_db()
    assert project.spec["language"] == "de" and project.spec_hash == spec_hash(project.spec)
