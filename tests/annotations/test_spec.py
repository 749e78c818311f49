"""Spec parsing, validation and normalisation (plain Python)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from annotations.spec import (
    DEMOGRAPHIC_FIELDS,
    SpecError,
    dimension_value_clean,
    spec_hash,
    spec_load,
    spec_normalize,
)

PRESETS = sorted((Path(__file__).resolve().parents[2] / "annotations" / "presets").glob("*.yaml"))

MINIMAL = {
    "slug": "demo",
    "title": "Demo",
    "kind": "narrative",
    "dimensions": [
        {"name": "empathy", "question": "How empathic?", "type": "likert", "min": 1, "max": 4},
        {"name": "feeling", "question": "Which feeling?", "type": "choice", "choices": ["sad", "happy"]},
        {"name": "why", "question": "Why?", "type": "text"},
    ],
}


def load(**changes) -> dict:
    raw = copy.deepcopy(MINIMAL)
    raw.update(changes)
    return spec_normalize(raw)


def error_of(raw: dict) -> SpecError:
    with pytest.raises(SpecError) as caught:
        spec_normalize(raw)
    return caught.value


def test_every_preset_loads_and_has_dimensions():
    assert len(PRESETS) == 5
    for path in PRESETS:
        spec = spec_load(path.read_text())
        assert spec["dimensions"], path.name


def test_defaults_are_filled():
    spec = load()
    assert spec["overlap"] == 3
    assert spec["consent"] == {"text": "", "required": False}
    assert spec["surveys"]["before"] == {"demographic": [], "questions": []}
    assert spec["export"] == {"allow_attributes": False}
    assert spec["limits"]["items_per_annotator"] is None
    assert spec["attention_checks"]["policy"] == {"warn_after": 1, "end_after": 3}
    likert, choice, text = spec["dimensions"]
    assert (likert["min"], likert["max"], likert["step"], likert["level"], likert["required"]) == (1, 4, 1, "ordinal", True)
    assert choice["choices"] == [{"value": "sad", "label": "sad"}, {"value": "happy", "label": "happy"}]
    assert choice["level"] == "nominal"
    assert text["level"] is None and text["required"] is False


def test_misspelled_dimension_type_names_the_key_and_the_options():
    raw = copy.deepcopy(MINIMAL)
    raw["dimensions"][2]["type"] = "lickert"
    err = error_of(raw)
    assert err.path == "dimensions[2].type"
    assert str(err) == "dimensions[2].type: 'lickert' is not one of likert, slider, choice, levels, number, text"


def test_unknown_top_level_key_is_rejected():
    err = error_of({**MINIMAL, "dimension": []})
    assert err.path == "dimension"


def test_unknown_dimension_key_is_rejected():
    raw = copy.deepcopy(MINIMAL)
    raw["dimensions"][0]["maximum"] = 7
    assert error_of(raw).path == "dimensions[0].maximum"


@pytest.mark.parametrize(
    "change, path",
    [
        ({"kind": "video"}, "kind"),
        ({"slug": "Has Spaces"}, "slug"),
        ({"overlap": 0}, "overlap"),
        ({"title": ""}, "title"),
        ({"dimensions": []}, "dimensions"),
        ({"crowd": {"redirect_url": "javascript:alert(1)"}}, "crowd.redirect_url"),
        ({"surveys": {"before": {"demographic": ["shoe_size"]}}}, "surveys.before.demographic[0]"),
        ({"attention_checks": {"rate": 0.1}}, "attention_checks.items"),
        ({"attention_checks": {"policy": {"warn_after": 3, "end_after": 2}}}, "attention_checks.policy.end_after"),
        ({"limits": {"session_items": -1}}, "limits.session_items"),
        ({"export": {"allow_attributes": "yes"}}, "export.allow_attributes"),
    ],
)
def test_bad_values_name_their_key(change, path):
    assert error_of({**copy.deepcopy(MINIMAL), **change}).path == path


@pytest.mark.parametrize(
    "dimension, path",
    [
        ({"name": "a", "question": "q", "type": "likert", "min": 5, "max": 1}, "dimensions[0].max"),
        ({"name": "a", "question": "q", "type": "likert", "max": 4.5}, "dimensions[0].max"),
        ({"name": "a", "question": "q", "type": "choice"}, "dimensions[0].choices"),
        ({"name": "a", "question": "q", "type": "choice", "choices": [1, "x"]}, "dimensions[0].choices"),
        ({"name": "a", "question": "q", "type": "slider", "choices": [1]}, "dimensions[0].choices"),
        ({"name": "a", "question": "q", "type": "text", "level": "ordinal"}, "dimensions[0].level"),
        ({"name": "a", "question": "q", "type": "choice", "choices": ["x"], "level": "interval"}, "dimensions[0].level"),
        ({"name": "a", "question": "q", "type": "likert", "labels": {9: "too high"}}, "dimensions[0].labels.9"),
        ({"name": "a", "question": "q", "type": "likert", "per_turn": True}, "dimensions[0].per_turn"),
        ({"name": "Bad Name", "question": "q", "type": "text"}, "dimensions[0].name"),
        ({"name": "text", "question": "q", "type": "text"}, "dimensions[0].name"),
        ({"name": "a", "question": "q", "type": "slider", "level": "ratio", "randomize_order": 3},
         "dimensions[0].randomize_order"),
    ],
)
def test_bad_dimensions_name_their_key(dimension, path):
    assert error_of({**MINIMAL, "dimensions": [dimension]}).path == path


def test_duplicate_dimension_names_are_rejected():
    dims = [MINIMAL["dimensions"][0], MINIMAL["dimensions"][0]]
    err = error_of({**MINIMAL, "dimensions": dims})
    assert err.path == "dimensions[1].name"


def test_per_turn_is_allowed_for_dialogues():
    spec = load(kind="dialogue", dimensions=[{"name": "e", "question": "q", "type": "number", "per_turn": True}])
    assert spec["dimensions"][0]["per_turn"] is True


def test_labels_listed_in_order_are_keyed_by_scale_point():
    spec = load(dimensions=[{"name": "a", "question": "q", "type": "likert", "min": 1, "max": 3,
                             "labels": ["low", "mid", "high"]}])
    assert spec["dimensions"][0]["labels"] == {"1": "low", "2": "mid", "3": "high"}


def test_demographic_true_expands_to_every_field():
    spec = load(surveys={"before": {"demographic": True}})
    assert spec["surveys"]["before"]["demographic"] == list(DEMOGRAPHIC_FIELDS)


def test_attention_check_items_are_checked_against_kind_and_scale():
    good = {"rate": 0.1, "items": [{"id": "c1", "text": "Pick 1.", "expect": {"empathy": 1}}]}
    spec = load(attention_checks=good)
    assert spec["attention_checks"]["items"] == [{"id": "c1", "data": {"text": "Pick 1."}, "expect": {"empathy": 1}}]
    wrong_scale = {"items": [{"id": "c1", "text": "Pick 9.", "expect": {"empathy": 9}}]}
    assert error_of({**MINIMAL, "attention_checks": wrong_scale}).path == "attention_checks.items[0].expect.empathy"
    wrong_kind = {"items": [{"id": "c1", "text_a": "x", "text_b": "y", "expect": {"empathy": 1}}]}
    assert error_of({**MINIMAL, "attention_checks": wrong_kind}).path.startswith("attention_checks.items[0].text")


def test_gold_answers_are_checked_against_dimensions():
    assert load(gold={"answers": {"n1": {"feeling": "sad"}}})["gold"]["answers"] == {"n1": {"feeling": "sad"}}
    err = error_of({**MINIMAL, "gold": {"answers": {"n1": {"feelings": "sad"}}}})
    assert err.path == "gold.answers.n1.feelings"


def test_hash_is_stable_across_key_order_and_format():
    spec = load()
    reordered = json.loads(json.dumps(spec, sort_keys=True))
    assert spec_hash(spec) == spec_hash(reordered)
    as_json = spec_load(json.dumps(MINIMAL))
    as_yaml = spec_load("slug: demo\ntitle: Demo\nkind: narrative\ndimensions:\n"
                        "  - {name: empathy, question: 'How empathic?', type: likert, min: 1, max: 4}\n"
                        "  - {name: feeling, question: 'Which feeling?', type: choice, choices: [sad, happy]}\n"
                        "  - {name: why, question: 'Why?', type: text}\n")
    assert spec_hash(as_json) == spec_hash(as_yaml) == spec_hash(spec)
    assert spec_hash(load(overlap=4)) != spec_hash(spec)


def test_invalid_yaml_reports_its_line():
    with pytest.raises(SpecError) as caught:
        spec_load("slug: demo\ntitle: [unclosed\nkind: pair\n")
    assert "line" in caught.value.path


@pytest.mark.parametrize(
    "dimension, value, expected",
    [
        ({"type": "likert", "min": 1, "max": 5, "step": 1}, "3", 3),
        ({"type": "slider", "min": 0, "max": 100, "step": 1}, 42, 42.0),
        ({"type": "number", "min": 1, "max": 7, "step": 0.5}, "5.5", 5.5),
        ({"type": "number", "min": None, "max": None, "step": None}, -3.25, -3.25),
        ({"type": "choice", "choices": [{"value": 1, "label": "Yes"}, {"value": 0, "label": "No"}]}, "0", 0),
        ({"type": "text"}, "because", "because"),
    ],
)
def test_values_on_the_scale_are_cleaned_to_their_type(dimension, value, expected):
    cleaned = dimension_value_clean(dimension, value)
    assert cleaned == expected and type(cleaned) is type(expected)


@pytest.mark.parametrize(
    "dimension, value",
    [
        ({"type": "likert", "min": 1, "max": 5, "step": 1}, 6),
        ({"type": "likert", "min": 1, "max": 5, "step": 1}, 2.5),
        ({"type": "levels", "min": 0, "max": 2, "step": 1}, "strong"),
        ({"type": "slider", "min": 0, "max": 100, "step": 1}, True),
        ({"type": "number", "min": None, "max": None, "step": None}, "nan"),
        ({"type": "choice", "choices": [{"value": "a", "label": "a"}]}, "b"),
        ({"type": "text"}, 3),
    ],
)
def test_values_off_the_scale_are_refused(dimension, value):
    with pytest.raises(ValueError):
        dimension_value_clean(dimension, value)
