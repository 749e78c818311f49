"""Study imports keep every column or refuse it by name: participant attributes of imported
judgments reach the group analysis; prompt metadata survives load_study and the export."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from studies import services
from studies.analysis.load import participants_frame, study_report_for
from studies.export import export_filters, export_lines
from studies.models import Participant, Study
from tests.studies.test_export_preferences import ALPHA, BETA, prompt

pytestmark = pytest.mark.django_db


def _write(tmp_path, text: str):
    path = tmp_path / "judgments.csv"
    path.write_text(text)
    return path


def test_imported_participant_attributes_are_kept_and_split_the_results_by_group(make_study, tmp_path):
    study = make_study()
    lines = ["participant_id,prompt_id,system_a,system_b,choice,country,age_band"]
    for k in range(6):
        country = "US" if k < 3 else "BR"
        for i in range(3):
            choice = "a" if country == "US" else "b"
            lines.append(f"w{k},{prompt(i)},{ALPHA},{BETA},{choice},{country if i == 0 else ''},25-34")
    out = io.StringIO()
    call_command("import_judgments", study.slug, str(_write(tmp_path, "\n".join(lines) + "\n")), stdout=out)
    assert "18 judgments imported" in out.getvalue() and "6 new participants" in out.getvalue()
    assert "participant attributes kept: country, age_band" in out.getvalue()

    frame = participants_frame(study)
    assert sorted(frame["country"]) == ["BR", "BR", "BR", "US", "US", "US"]
    groups = study_report_for(study, n_bootstrap=0)["by_group"]["country"]["groups"]
    us = groups["US"]["comparisons"][0]
    br = groups["BR"]["comparisons"][0]
    assert groups["US"]["participants"] == groups["BR"]["participants"] == 3
    wins = {name: {c["system_a"]: c["wins_a"], c["system_b"]: c["wins_b"]} for name, c in (("US", us), ("BR", br))}
    assert wins == {"US": {ALPHA: 9, BETA: 0}, "BR": {ALPHA: 0, BETA: 9}}
    assert Participant.objects.filter(study=study, survey__country="US").count() == 3


def test_an_unknown_column_in_imported_judgments_is_refused_by_name(make_study, tmp_path):
    study = make_study()
    path = _write(tmp_path, "participant_id,prompt_id,system_a,system_b,choice,shoe_size\n"
                            f"w1,{prompt(0)},{ALPHA},{BETA},a,42\n")
    with pytest.raises(CommandError, match=r"judgments.csv:1: shoe_size: unknown column; .*country"):
        call_command("import_judgments", study.slug, str(path))
    assert not Participant.objects.filter(study=study).exists()


def test_a_participant_with_two_countries_is_refused_naming_the_line(make_study, tmp_path):
    study = make_study()
    path = _write(tmp_path, "participant_id,prompt_id,system_a,system_b,choice,country\n"
                            f"w1,{prompt(0)},{ALPHA},{BETA},a,US\n"
                            f"w1,{prompt(1)},{ALPHA},{BETA},a,BR\n")
    with pytest.raises(CommandError, match=r"judgments.csv:3: country: 'BR' but line 2 gives participant 'w1' 'US'"):
        call_command("import_judgments", study.slug, str(path))


def test_load_study_keeps_prompt_metadata_through_the_store_and_both_exports(researcher, tmp_path):
    (tmp_path / "prompts.jsonl").write_text(
        '{"id": "p0", "context": [{"speaker": "seeker", "text": "My dog died."}], "emotion": "sad"}\n'
        '{"id": "p1", "context": [{"speaker": "seeker", "text": "I got the job!"}], '
        '"metadata": {"emotion": "joyful", "source": "empo"}}\n'
    )
    (tmp_path / "study.yaml").write_text(
        "slug: empo\ntitle: EmPO\nprompts_file: prompts.jsonl\npairs_per_participant: 2\n"
        f"systems: [{{name: {ALPHA}}}, {{name: {BETA}}}]\n"
    )
    out = io.StringIO()
    call_command("load_study", str(tmp_path / "study.yaml"), "--owner", researcher.username, stdout=out)
    assert "prompt metadata kept: emotion, source" in out.getvalue()
    study = Study.objects.get(slug="empo")
    assert dict(study.prompts.values_list("external_id", "metadata")) == {
        "p0": {"emotion": "sad"}, "p1": {"emotion": "joyful", "source": "empo"}}
    responses = [json.dumps({"prompt_id": p, "system": s, "response": f"{s} on {p}"}) for p in ("p0", "p1")
                 for s in (ALPHA, BETA)]
    services.responses_import(study=study, lines=responses, source="r.jsonl")
    services.study_open(study=study)
    services.judgments_import(study=study, source="j.csv", lines=[
        "participant_id,prompt_id,system_a,system_b,choice", f"w1,p0,{ALPHA},{BETA},a", f"w2,p0,{ALPHA},{BETA},a"])
    for fmt in ("raw", "dpo"):
        lines = [json.loads(line) for line in export_lines(study, format=fmt, filters=export_filters(study))]
        assert lines and all(line["prompt_metadata"] == {"emotion": "sad"} for line in lines)


def test_load_study_refuses_prompt_metadata_that_is_not_a_mapping(researcher, tmp_path):
    (tmp_path / "prompts.jsonl").write_text(
        '{"id": "p0", "context": [{"speaker": "seeker", "text": "Hi."}], "metadata": "sad"}\n')
    (tmp_path / "study.yaml").write_text(
        f"slug: empo\ntitle: EmPO\nprompts_file: prompts.jsonl\npairs_per_participant: 1\n"
        f"systems: [{{name: {ALPHA}}}, {{name: {BETA}}}]\n")
    with pytest.raises(CommandError, match=r"prompts.jsonl:1.metadata: must be a mapping"):
        call_command("load_study", str(tmp_path / "study.yaml"), "--owner", researcher.username)
