"""The study report names the winner first ("beta vs alpha 0.700", never "alpha vs beta 0.300"),
in the command's text, the API's JSON and the results page's table."""

import io
import json

import pytest
from django.core.management import call_command

from tests.studies.test_export_preferences import ALPHA, BETA, import_judgments, prompt

pytestmark = pytest.mark.django_db


@pytest.fixture
def beta_wins_seven_of_ten(make_study):
    study = make_study()
    rows = [(f"w{k}", prompt(k % 6), ALPHA, BETA, "b" if k < 7 else "a", "ab"[k % 2], "overall") for k in range(10)]
    import_judgments(study, rows)
    return study


def test_command_text_and_json_lead_with_the_winner(beta_wins_seven_of_ten):
    out = io.StringIO()
    call_command("study_report", beta_wins_seven_of_ten.slug, "--bootstrap", "0", stdout=out)
    line = next(row for row in out.getvalue().splitlines() if " vs " in row)
    assert f"{BETA} vs {ALPHA}  7 3 0  0.700" in line
    out = io.StringIO()
    call_command("study_report", beta_wins_seven_of_ten.slug, "--json", "--bootstrap", "0", stdout=out)
    [comparison] = json.loads(out.getvalue())["comparisons"]
    assert (comparison["system_a"], comparison["system_b"], comparison["wins_a"], comparison["wins_b"]) == (
        BETA, ALPHA, 7, 3)
    assert comparison["win_rate_a"] == pytest.approx(0.7)
    low, high = comparison["win_rate_a_ci"]
    assert low < 0.7 < high and high > 0.5
    assert comparison["win_rate_a_ties_half"] == pytest.approx(0.7)


def test_api_and_results_page_lead_with_the_winner(client, researcher, beta_wins_seven_of_ten):
    client.force_login(researcher)
    slug = beta_wins_seven_of_ten.slug
    [comparison] = client.get(f"/api/studies/{slug}/report/?bootstrap=0").json()["comparisons"]
    assert (comparison["system_a"], comparison["system_b"]) == (BETA, ALPHA)
    assert comparison["win_rate_a"] == pytest.approx(0.7)
    page = client.get(f"/studies/{slug}/results/?bootstrap=0").content.decode()
    row = page.split("<tbody>")[1].split("</tr>")[0]
    assert row.index(BETA) < row.index(ALPHA) and "0.700" in row
