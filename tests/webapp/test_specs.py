"""The spec kernel (webapp/specs): lines kept per key path, one error type, the pydantic plumbing, one slug rule,
one hash, and the bounded cache of decoded specs."""

from __future__ import annotations

import hashlib

import pytest
from pydantic import Field

from annotations import spec as project_spec
from studies import spec as study_spec
from webapp.specs import SpecError, slug_check, spec_hash, spec_text_read
from webapp.specs.models import SpecModel, spec_validate, spec_validate_each

PROJECT_TEXT = """slug: lines-demo
title: Lines
kind: narrative
consent:
  text: ''
dimensions:
  - name: empathy
    question: How empathic?
    type: likert
  - name: feeling
    question: Which?
    type: lickert
"""


def test_reading_keeps_the_line_of_every_key_path():
    data, lines = spec_text_read(PROJECT_TEXT)
    assert data["dimensions"][1]["type"] == "lickert"
    assert lines["slug"] == 1 and lines["consent.text"] == 5
    assert lines["dimensions[1]"] == 10 and lines["dimensions[1].type"] == 12


def test_a_project_error_names_its_key_and_line():
    with pytest.raises(SpecError) as caught:
        project_spec.spec_load(PROJECT_TEXT)
    assert caught.value.path == "consent.text" and caught.value.line == 5
    assert [(p.path, p.line) for p in caught.value.problems] == [("consent.text", 5), ("dimensions[1].type", 12)]
    assert str(caught.value).startswith("consent.text: must be non-empty text, got '' (line 5); "
                                        "dimensions[1].type: 'lickert' is not one of likert")
    assert str(caught.value).endswith("(line 12)")


def test_a_study_error_names_its_key_and_line():
    text = open("studies/presets/overall-preference.yaml", encoding="utf-8").read()
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row.startswith("judgments_per_pair:"))
    broken = text.replace("judgments_per_pair: ", "judgments_per_pair: 0 #", 1)
    with pytest.raises(SpecError) as caught:
        study_spec.spec_parse(broken)
    assert str(caught.value) == f"judgments_per_pair: must be at least 1 (line {line})"


@pytest.mark.parametrize("text, line, words", [
    ("slug: x\ntitle: [unclosed\nkind: pair\n", 3, "not valid YAML"),
    ("slug: x\na: &a [1, 2]\nb: *a\n", 3, "aliases (*a) are not allowed"),
    ("slug: x\nwhen: 2020-13-45\n", 2, "month must be in 1..12"),
    ("slug: x\nn: !!int abc\n", 2, "invalid literal"),
])
def test_text_that_does_not_read_is_refused_at_its_line_by_both_apps(text, line, words):
    for parse in (project_spec.spec_load, study_spec.spec_parse):
        with pytest.raises(SpecError) as caught:
            parse(text)
        assert caught.value.line == line and caught.value.path == f"line {line}" and words in str(caught.value)


def test_a_document_that_is_not_a_mapping_is_refused():
    with pytest.raises(SpecError, match="a spec must be a mapping"):
        spec_text_read("- a\n- b\n")


def test_located_fills_the_nearest_enclosing_line_and_keeps_given_ones():
    error = SpecError(problems=[*SpecError("a.b[2].c", "bad").problems, *SpecError("x", "worse", line=9).problems])
    located = error.located({"a": 1, "a.b": 2, "a.b[2]": 4, "x": 3})
    assert [(p.path, p.line) for p in located.problems] == [("a.b[2].c", 4), ("x", 9)]
    assert error.located(None) is error


@pytest.mark.parametrize("slug", ["abc", "my-study-2", "a" * 60])
def test_one_slug_rule_accepts(slug):
    assert slug_check(slug) == slug
    assert project_spec.spec_normalize({**_minimal_project(), "slug": slug})["slug"] == slug


@pytest.mark.parametrize("slug, words", [
    ("ab", "3-60"), ("a" * 61, "3-60"), ("Has Caps", "lower-case"), ("-lead", "3-60"), ("trail-", "3-60"),
    ("new", "reserved"), (5, "3-60"), (None, "is required"),
])
def test_one_slug_rule_refuses_for_projects_and_studies_alike(slug, words):
    for check in (lambda: project_spec.spec_normalize({**_minimal_project(), "slug": slug}),
                  lambda: study_spec.spec_parse({**_minimal_study(), "slug": slug})):
        with pytest.raises(SpecError) as caught:
            check()
        assert caught.value.path == "slug" and words in caught.value.message


def test_one_hash_for_both_apps_ignores_key_order_and_reads_text_as_written():
    assert project_spec.spec_hash is study_spec.spec_hash is spec_hash
    assert spec_hash({"a": 1, "b": "é"}) == spec_hash({"b": "é", "a": 1})
    assert spec_hash({"a": "é", "b": [1]}) == hashlib.sha256('{"a":"é","b":[1]}'.encode()).hexdigest()
    assert spec_hash({"a": 1}) != spec_hash({"a": 2})


class _Inner(SpecModel):
    size: int
    note: str = ""


class _Outer(SpecModel):
    name: str
    inner: _Inner = Field(default_factory=lambda: _Inner(size=1))


def test_the_pydantic_plumbing_speaks_plainly_with_full_paths():
    with pytest.raises(SpecError) as caught:
        spec_validate(_Outer, {"name": 5, "inner": {"size": "big", "colour": "red"}}, path="top")
    assert [(p.path, p.message) for p in caught.value.problems] == [
        ("top.name", "must be text, got 5"),
        ("top.inner.colour", "unknown key (expected one of size, note)"),
    ]
    with pytest.raises(SpecError) as caught:
        spec_validate(_Outer, {"inner": {"size": True}})
    assert [(p.path, p.message) for p in caught.value.problems] == [
        ("name", "is required"), ("inner.size", "must be a whole number, got True")]
    assert spec_validate(_Outer, {"name": "x", "inner": None}).inner.size == 1  # null reads as left out


def test_validating_each_row_reports_every_rows_problems():
    with pytest.raises(SpecError) as caught:
        spec_validate_each(_Inner, [{"size": 1}, {"size": "x"}, "no"], path="rows")
    assert [p.path for p in caught.value.problems] == ["rows[1].size", "rows[2]"]


def _minimal_project() -> dict:
    return {"slug": "demo", "title": "Demo", "kind": "narrative",
            "dimensions": [{"name": "empathy", "question": "How empathic?", "type": "likert"}]}


def _minimal_study() -> dict:
    return {"slug": "ab-test", "title": "A vs B",
            "prompts": [{"id": "p1", "context": [{"speaker": "seeker", "text": "hello"}]}],
            "systems": ["a", "b"], "pairs_per_participant": 1}
