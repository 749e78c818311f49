"""``manage.py study_report SLUG --json`` on a study stored in the database."""

import io
import json

import pytest
from django.core.management import call_command

from studies.analysis.load import participants_frame, study_group_attributes
from studies.models import Participant
from tests.studies.test_export_preferences import ALPHA, BETA, import_judgments, prompt


@pytest.fixture
def study_with_judgments(make_study):
    study = make_study()
    rows = [
        (f"w{k}", prompt(i), ALPHA, BETA, "a" if k < 2 else "b", "ab"[(i + k) % 2], "overall")
        for i in range(4)
        for k in range(3)
    ]
    rows.append(("w0", prompt(5), BETA, ALPHA, "tie", "a", "overall"))
    import_judgments(study, rows)
    return study


def run_report(*args):
    out = io.StringIO()
    call_command("study_report", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_json_report_counts_wins_ties_and_keeps_the_documented_keys(study_with_judgments):
    report = json.loads(run_report(study_with_judgments.slug, "--json", "--bootstrap", "50"))
    [comparison] = report["comparisons"]
    # 4 prompts x (w0, w1 chose alpha; w2 beta) = 8 : 4, plus one tie.
    assert (comparison["system_a"], comparison["system_b"]) == (ALPHA, BETA)
    assert (comparison["wins_a"], comparison["wins_b"], comparison["ties"]) == (8, 4, 1)
    assert comparison["win_rate_a"] == pytest.approx(8 / 12)
    # Sign test, 8 of 12: P(X >= 8) = (495 + 220 + 66 + 12 + 1) / 4096 = 794/4096; two-sided x2.
    assert comparison["p_value"] == pytest.approx(2 * 794 / 4096)
    assert set(report["bradley_terry"]) == {ALPHA, BETA}
    assert report["bradley_terry"][ALPHA]["strength"] > report["bradley_terry"][BETA]["strength"]
    assert {"left_share", "p_value"} <= set(report["position_bias"])
    assert report["study"]["spec_hash"] == study_with_judgments.spec_hash


@pytest.mark.django_db
def test_participants_attended_by_pseudonym_never_by_crowd_id(study_with_judgments):
    report = json.loads(run_report(study_with_judgments.slug, "--json", "--bootstrap", "0"))
    named = {p["participant"] for p in report["position_bias"]["by_participant"]}
    pseudonyms = set(
        Participant.objects.filter(study=study_with_judgments).values_list("user__pseudonym", flat=True)
    )
    assert named == pseudonyms


@pytest.mark.django_db
def test_survey_answers_override_account_attributes_in_the_groups_frame(study_with_judgments):
    participant = Participant.objects.filter(study=study_with_judgments).first()
    participant.user.attributes = {"country": "UK", "age_band": "25-34"}
    participant.user.save(update_fields=["attributes"])
    participant.survey = {"country": "IE"}
    participant.save(update_fields=["survey"])
    frame = participants_frame(study_with_judgments).set_index("participant")
    assert frame.loc[participant.user.pseudonym, "country"] == "IE"
    assert frame.loc[participant.user.pseudonym, "age_band"] == "25-34"
    assert "country" in study_group_attributes(study_with_judgments)


@pytest.mark.django_db
def test_text_report_prints_the_pair_and_the_position_line(study_with_judgments):
    text = run_report(study_with_judgments.slug, "--bootstrap", "0")
    assert f"{ALPHA} vs {BETA}  8 4 1" in text
    assert "left chosen" in text
