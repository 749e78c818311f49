"""Study imports keep every column or refuse it by name: participant attributes of imported
judgments reach the group analysis; prompt metadata survives load_study and the export."""

import io

import pytest
from django.core.management import CommandError, call_command

from studies.analysis.load import participants_frame, study_report_for
from studies.models import Participant
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
