"""load_study, import_responses, import_judgments: the happy path and errors that name file, line and field."""

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from studies import services
from studies.models import Judgment, Participant, Response, Study
from tests.studies.conftest import responses_jsonl, study_spec

pytestmark = pytest.mark.django_db
PRESET = Path(__file__).resolve().parents[2] / "studies" / "presets" / "perm-multi-perspective.yaml"


def test_load_study_creates_the_preset_and_loading_again_changes_nothing(researcher):
    call_command("load_study", str(PRESET), owner="researcher")
    study = Study.objects.get(slug="perm-multi-perspective-example")
    first_hash = study.spec_hash
    call_command("load_study", str(PRESET), owner="researcher")
    assert Study.objects.get(pk=study.pk).spec_hash == first_hash
    assert list(study.systems.values_list("name", flat=True)) == ["candidate", "baseline"]
    assert study.prompts.count() == 3 and study.attention_checks.count() == 1


def test_load_study_error_names_the_key(researcher, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(PRESET.read_text().replace("judgments_per_pair: 5", "judgments_per_pair: none"))
    with pytest.raises(CommandError, match="judgments_per_pair: must be a whole number"):
        call_command("load_study", str(bad), owner="researcher")


def _loaded(researcher, tmp_path):
    spec = study_spec(slug="cmd-study")
    services.study_load(spec=spec, owner=researcher)
    return spec


def test_import_responses_reports_file_line_and_field(researcher, tmp_path):
    spec = _loaded(researcher, tmp_path)
    lines = responses_jsonl(spec)
    path = tmp_path / "responses.jsonl"
    path.write_text("\n".join([lines[0], json.dumps({"prompt_id": "prompt-ext-0", "system": "nope", "response": "x"})]))
    with pytest.raises(CommandError, match=r"responses.jsonl:2: system: 'nope' is not a system"):
        call_command("import_responses", "cmd-study", str(path))
    path.write_text("\n".join([lines[0], json.dumps({"prompt_id": "prompt-ext-0", "system": spec["systems"][0]["name"]})]))
    with pytest.raises(CommandError, match=r"responses.jsonl:2: response: is missing"):
        call_command("import_responses", "cmd-study", str(path))
    path.write_text("\n".join([lines[0], lines[0]]))
    with pytest.raises(CommandError, match=r"responses.jsonl:2: prompt_id: duplicate response .* line 1"):
        call_command("import_responses", "cmd-study", str(path))
    assert not Response.objects.exists()  # all or nothing


def test_study_cannot_open_with_a_missing_response(researcher, tmp_path):
    spec = _loaded(researcher, tmp_path)
    path = tmp_path / "responses.jsonl"
    path.write_text("\n".join(responses_jsonl(spec)[:-1]))
    call_command("import_responses", "cmd-study", str(path))
    with pytest.raises(services.StudyError, match="has no response from system"):
        services.study_open(study=Study.objects.get(slug="cmd-study"))
    path.write_text("\n".join(responses_jsonl(spec)))
    call_command("import_responses", "cmd-study", str(path))  # idempotent upsert fills the gap
    assert services.study_open(study=Study.objects.get(slug="cmd-study")).is_open


def test_responses_store_is_an_idempotent_upsert(researcher, tmp_path):
    spec = _loaded(researcher, tmp_path)
    study = Study.objects.get(slug="cmd-study")
    rows = [{"prompt_id": p["id"], "text": "v1", "model_version_id": 7} for p in spec["prompts"]]
    services.responses_store(study=study, system_name=spec["systems"][0]["name"], rows=rows)
    rows = [{**row, "text": "v2"} for row in rows]
    services.responses_store(study=study, system_name=spec["systems"][0]["name"], rows=rows)
    assert Response.objects.count() == len(rows)
    assert set(Response.objects.values_list("text", "model_version_id")) == {("v2", 7)}


def test_import_judgments_canonicalises_order_and_reports_errors(researcher, tmp_path):
    spec = _loaded(researcher, tmp_path)
    first, second = spec["systems"][0]["name"], spec["systems"][1]["name"]
    path = tmp_path / "judgments.csv"
    path.write_text(
        "participant_id,prompt_id,system_a,system_b,choice,left,criterion\n"
        f"w1,prompt-ext-0,{second},{first},a,a,overall\n"
        f"w1,prompt-ext-1,{first},{second},tie,,\n"
        f"w2,prompt-ext-0,{first},{second},b,b,overall\n"
    )
    call_command("import_judgments", "cmd-study", str(path))
    rows = list(Judgment.objects.order_by("id").values_list("system_a__name", "choice", "left", "source"))
    # the first row named the second system as "a": stored the other way round, choice and side flipped
    assert rows == [(first, "b", "b", "import"), (first, "tie", "", "import"), (first, "b", "b", "import")]
    assert Participant.objects.filter(stage="imported").count() == 2
    path.write_text("participant_id,prompt_id,system_a,system_b,choice\nw1,prompt-ext-0,x,y,a\n")
    with pytest.raises(CommandError, match=r"judgments.csv:2: system_a: 'x' is not a system"):
        call_command("import_judgments", "cmd-study", str(path))
    path.write_text(f"participant_id,prompt_id,system_a,system_b,choice\nw1,prompt-ext-0,{first},{second},left\n")
    with pytest.raises(CommandError, match=r"judgments.csv:2: choice: must be a, b or tie"):
        call_command("import_judgments", "cmd-study", str(path))
    with pytest.raises(CommandError, match="no study"):
        call_command("import_judgments", "missing-study", str(path))
