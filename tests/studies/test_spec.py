"""Study spec parsing: normalisation, defaults, and errors that name the key."""

import json
from pathlib import Path

import pytest

from studies.spec import SpecError, spec_hash, spec_load_file, spec_parse

PRESET = Path(__file__).resolve().parents[2] / "studies" / "presets" / "perm-multi-perspective.yaml"


def minimal(**overrides):
    spec = {
        "slug": "ab-test",
        "title": "A vs B",
        "prompts": [{"id": "p1", "context": [{"speaker": "seeker", "text": "hello"}]},
                    {"id": "p2", "context": [{"speaker": "seeker", "text": "again"}]}],
        "systems": [{"name": "a", "kind": "imported"}, {"name": "b", "kind": "model", "model_version": 3}],
        "pairs_per_participant": 2,
    }
    spec.update(overrides)
    return spec


def test_minimal_spec_fills_defaults():
    spec = spec_parse(minimal())
    assert spec["judgments_per_pair"] == 1
    assert spec["criteria"][0]["name"] == "overall"
    assert spec["criteria"][0]["ties"] is True
    assert spec["attention_checks"]["every"] == 0
    assert spec["recruitment"]["platform"] == "open"
    assert spec["systems"][1]["model_version"] == 3


def test_yaml_and_json_text_parse_to_the_same_spec_and_hash():
    from_json = spec_parse(json.dumps(minimal()))
    import yaml

    from_yaml = spec_parse(yaml.safe_dump(minimal()))
    assert from_json == from_yaml
    assert spec_hash(from_json) == spec_hash(from_yaml)


def test_preset_loads():
    spec = spec_load_file(PRESET)
    assert [c["name"] for c in spec["criteria"]] == ["overall", "resonation", "expression", "reception", "bystander"]
    assert spec["attention_checks"]["items"][0]["bad"]


@pytest.mark.parametrize(
    ("overrides", "path"),
    [
        ({"slug": "Bad Slug"}, "slug"),
        ({"systems": [{"name": "only"}]}, "systems"),
        ({"systems": [{"name": "a"}, {"name": "a"}]}, "systems[1].name"),
        ({"systems": [{"name": "a"}, {"name": "b", "kind": "model"}]}, "systems[1].model_version"),
        ({"systems": [{"name": "a"}, {"name": "b", "kind": "robot"}]}, "systems[1].kind"),
        ({"criteria": [{"name": "overall", "question": "?", "ties": "yes"}]}, "criteria[0].ties"),
        ({"criteria": [{"name": "overall", "question": "?", "rationale": "maybe"}]}, "criteria[0].rationale"),
        ({"criteria": [{"name": "overall", "question": "?", "strength": ["one"]}]}, "criteria[0].strength"),
        ({"criteria": [{"name": "overall"}]}, "criteria[0].question"),
        ({"pairs_per_participant": 3}, "pairs_per_participant"),
        ({"pairs_per_participant": 0}, "pairs_per_participant"),
        ({"judgments_per_pair": "3"}, "judgments_per_pair"),
        ({"prompts": [{"id": "p1", "context": [{"speaker": "supporter", "text": "hi"}]}]}, "prompts[0].context[0].speaker"),
        ({"prompts": [{"id": "p1", "context": []}]}, "prompts[0].context"),
        ({"prompts": [{"id": "p1", "context": [{"speaker": "seeker", "text": "x"}]},
                      {"id": "p1", "context": [{"speaker": "seeker", "text": "y"}]}]}, "prompts[1].id"),
        ({"attention_checks": {"every": 2}}, "attention_checks.items"),
        ({"attention_checks": {"warn_after": 2, "end_after": 2}}, "attention_checks.warn_after"),
        ({"recruitment": {"platform": "facebook"}}, "recruitment.platform"),
        ({"recruitment": {"redirect_url": "javascript:alert(1)"}}, "recruitment.redirect_url"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_invalid_spec_error_names_the_key(overrides, path):
    with pytest.raises(SpecError) as info:
        spec_parse(minimal(**overrides))
    assert info.value.path == path
    assert str(info.value).startswith(f"{path}:")


def test_repeat_prompts_allows_more_pairs_than_prompts():
    spec = spec_parse(minimal(pairs_per_participant=3, repeat_prompts=True))
    assert spec["pairs_per_participant"] == 3


def test_prompts_file_errors_name_file_line_and_field(tmp_path):
    (tmp_path / "prompts.jsonl").write_text(
        '{"id": "p1", "context": [{"speaker": "seeker", "text": "x"}]}\n{"id": "p2", "context": [{"speaker": "seeker"}]}\n'
    )
    spec = minimal(prompts_file="prompts.jsonl")
    del spec["prompts"]
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    with pytest.raises(SpecError) as info:
        spec_load_file(tmp_path / "spec.json")
    assert info.value.path == "prompts.jsonl:2.context[0].text"


def test_prompts_file_resolves_beside_the_spec(tmp_path):
    lines = [json.dumps({"id": f"p{i}", "context": [{"speaker": "seeker", "text": f"t{i}"}]}) for i in range(3)]
    (tmp_path / "prompts.jsonl").write_text("\n".join(lines) + "\n")
    spec = minimal(prompts_file="prompts.jsonl")
    del spec["prompts"]
    (tmp_path / "spec.yaml").write_text(json.dumps(spec))
    assert [p["id"] for p in spec_load_file(tmp_path / "spec.yaml")["prompts"]] == ["p0", "p1", "p2"]


def test_not_a_mapping_is_rejected():
    with pytest.raises(SpecError):
        spec_parse("- just\n- a list\n")


def test_a_normalised_spec_parses_to_itself():
    once = spec_parse(spec_load_file(PRESET))
    assert spec_parse(once) == once
    assert spec_hash(spec_parse(once)) == spec_hash(once)
