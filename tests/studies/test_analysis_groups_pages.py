"""Group results at the participant level through the real import, API and results page."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from scipy.stats import fisher_exact

from studies.models import Participant
from tests.studies.test_export_preferences import ALPHA, BETA, import_judgments, prompt

pytestmark = pytest.mark.django_db


@pytest.fixture
def heavy_study(make_study):
    """20 ordinary participants split 1–1; one UK participant judges 30 prompts, all for BETA."""
    study = make_study(slug="heavy-one", n_prompts=30)
    rows = [(f"p{k}", prompt(j), ALPHA, BETA, "ab"[j], "ab"[j], "overall") for k in range(20) for j in range(2)]
    rows += [("heavy", prompt(j), ALPHA, BETA, "b", "ab"[j % 2], "overall") for j in range(30)]
    import_judgments(study, rows)
    for participant in Participant.objects.filter(study=study).select_related("user"):
        name = participant.user.crowd_id.rsplit("/", 1)[1]
        participant.survey = {"country": "UK" if name == "heavy" or int(name[1:]) % 2 else "IN"}
        participant.save(update_fields=["survey"])
    return study


def test_api_report_tests_groups_with_participants_as_the_unit(client, heavy_study, researcher):
    client.force_login(researcher)
    report = client.get(f"/api/studies/{heavy_study.slug}/report/?bootstrap=200").json()
    [difference] = report["by_group"]["country"]["differences"]
    # IN: 10 wins of 20 for ALPHA; UK: 10 of 50 (the heavy participant's 30 losses).
    assert difference["judgment_level_p_value"] == pytest.approx(fisher_exact([[10, 10], [10, 40]]).pvalue)
    assert difference["judgment_level_p_value"] < 0.02
    assert difference["p_value"] > 0.3 and difference["p_value_adjusted"] == difference["p_value"]
    assert report["group_correction"] == "holm" and report["filters"]["correction"] == "holm"
    [overall] = report["comparisons"]
    assert overall["p_value"] < 1e-3 and overall["win_rate_a_ci_clustered"][1] > 0.5


def test_api_takes_benjamini_hochberg_and_names_a_bad_correction(client, heavy_study, researcher):
    client.force_login(researcher)
    report = client.get(f"/api/studies/{heavy_study.slug}/report/?bootstrap=0&correction=bh").json()
    assert report["by_group"]["country"]["differences"][0]["correction"] == "bh"
    response = client.get(f"/api/studies/{heavy_study.slug}/report/?correction=bonferroni")
    assert response.status_code == 400 and "correction" in response.json()


def test_results_page_shows_participant_level_tests_and_the_clustered_interval(client, heavy_study, researcher):
    client.force_login(researcher)
    html = client.get(f"/studies/{heavy_study.slug}/results/?bootstrap=50").content.decode()
    assert "p (participants as the unit)" in html and "p adjusted (holm)" in html
    assert "participant-clustered 95% CI" in html and "use Benjamini–Hochberg" in html
    html = client.get(f"/studies/{heavy_study.slug}/results/?bootstrap=0&correction=bh").content.decode()
    assert "p adjusted (bh)" in html
    response = client.get(f"/studies/{heavy_study.slug}/results/?correction=nope")
    assert response.status_code == 400 and b"correction" in response.content


def test_api_and_page_regroup_participant_ages_without_reimporting(client, heavy_study, researcher):
    bands = ["18-24", "35-44", "45-54", "65+"]
    for k, participant in enumerate(Participant.objects.filter(study=heavy_study).order_by("index")):
        participant.survey = {**participant.survey, "age_band": bands[k % 4]}
        participant.save(update_fields=["survey"])
    client.force_login(researcher)
    url = f"/api/studies/{heavy_study.slug}/report/"
    report = client.get(url, {"bootstrap": 0, "regroup": "age_band=45; country=UK|IN:everyone"}).json()
    assert set(report["by_group"]["age_band"]["groups"]) == {"under 45", "45 and over"}
    assert set(report["by_group"]["country"]["groups"]) == {"everyone"}
    assert report["filters"]["regroup"]["age_band"] == {"cuts": [45.0]}
    bad = client.get(url, {"regroup": "age_band=young"})
    assert bad.status_code == 400 and "regroup" in bad.json()
    html = client.get(f"/studies/{heavy_study.slug}/results/", {"bootstrap": 0, "regroup": "age_band=45"}).content
    assert b"45 and over" in html and b'value="age_band=45"' in html


def test_report_command_takes_a_correction_and_a_regroup_rule(heavy_study):
    out = io.StringIO()
    call_command("study_report", heavy_study.slug, "--json", "--bootstrap", "0", "--correction", "bh",
                 "--regroup", "country=UK|IN:everyone", stdout=out)
    report = json.loads(out.getvalue())
    assert report["group_correction"] == "bh" and set(report["by_group"]["country"]["groups"]) == {"everyone"}
    with pytest.raises(CommandError, match="--regroup"):
        call_command("study_report", heavy_study.slug, "--regroup", "country", stdout=io.StringIO())
