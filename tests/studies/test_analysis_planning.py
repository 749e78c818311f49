"""Study planning: participants needed for a win rate, with the design effect, and whether the study got there.

References: the closed-form normal sample size ((z_{1-a/2} + z_power) / h)^2 for Cohen's h and the
exact binomial power (scipy) at the planned number of judgments.
"""

import math

import numpy as np
import pytest
from scipy.stats import binom, norm

from studies import services
from studies.analysis.planning import judgments_for, plan_reached, study_plan
from tests.studies.conftest import study_spec
from tests.studies.test_export_preferences import ALPHA, BETA, import_judgments, prompt


def cohen_h(p):
    return 2 * math.asin(math.sqrt(p)) - 2 * math.asin(math.sqrt(0.5))


@pytest.mark.parametrize("win_rate", [0.55, 0.6, 0.7])
def test_independent_judgments_match_the_closed_form_normal_sample_size(win_rate):
    closed_form = ((norm.ppf(0.975) + norm.ppf(0.8)) / cohen_h(win_rate)) ** 2
    assert judgments_for(win_rate=win_rate, alpha=0.05, power=0.8) == pytest.approx(closed_form, rel=1e-3)


@pytest.mark.parametrize("power", [0.5, 0.8])
def test_an_effect_too_large_for_the_power_solver_still_gets_the_closed_form_count(power):
    # statsmodels answers nan here (its root finder brackets from a few judgments up); the API used to answer 500
    closed_form = ((norm.ppf(0.75) + norm.ppf(power)) / cohen_h(0.999)) ** 2
    assert judgments_for(win_rate=0.999, alpha=0.5, power=power) == pytest.approx(closed_form, rel=1e-9)
    assert study_plan(pairs_per_participant=3, n_systems=2, win_rate=0.999, alpha=0.5, power=power)["participants"] == 1


def test_planned_judgments_give_the_planned_power_under_the_exact_binomial_test():
    n = math.ceil(judgments_for(win_rate=0.7, alpha=0.05, power=0.8))
    # exact two-sided binomial test at 5%: the rejection region under p = 0.5, its probability under 0.7
    k = np.arange(n + 1)
    p_values = np.array([min(1.0, 2 * min(binom.cdf(x, n, 0.5), binom.sf(x - 1, n, 0.5))) for x in k])
    exact_power = binom.pmf(k[p_values <= 0.05], n, 0.7).sum()
    assert exact_power == pytest.approx(0.8, abs=0.06)


def test_several_judgments_per_participant_inflate_the_judgments_by_the_design_effect():
    plain = study_plan(pairs_per_participant=1, n_systems=2, win_rate=0.6)
    assert plain["design_effect"] == 1.0 and plain["participants"] == plain["independent_judgments"]
    plan = study_plan(pairs_per_participant=10, n_systems=2, win_rate=0.6, icc=0.1)
    assert plan["design_effect"] == pytest.approx(1 + 9 * 0.1)
    independent = judgments_for(win_rate=0.6, alpha=0.05, power=0.8)
    assert plan["judgments"] == math.ceil(independent * 1.9)
    assert plan["participants"] == math.ceil(independent * 1.9 / 10)
    # three systems: ten pairs each spread over three system pairs
    three = study_plan(pairs_per_participant=9, n_systems=3, win_rate=0.6, icc=0.1)
    assert three["judgments_per_pair_per_participant"] == 3 and three["design_effect"] == pytest.approx(1.2)


def test_plan_is_reached_when_each_pair_has_the_planned_power():
    plan = study_plan(pairs_per_participant=1, n_systems=2, win_rate=0.7)
    enough = {"criterion": "overall", "system_a": "a", "system_b": "b", "wins_a": 60, "wins_b": 40,
              "participants": 100, "effective_n": 100.0, "design_effect": 1.0}
    few = {**enough, "wins_a": 12, "wins_b": 8, "participants": 20, "effective_n": 20.0}
    assert plan_reached(plan, [enough], criterion="overall")["reached"]
    out = plan_reached(plan, [few], criterion="overall")
    assert not out["reached"] and out["pairs"][0]["power"] < 0.8


@pytest.mark.django_db
def test_draft_study_page_says_how_many_participants_it_needs(client, researcher):
    spec = study_spec(slug="draft-plan", pairs_per_participant=5)
    study = services.study_load(spec=spec, owner=researcher)
    assert not study.is_open
    client.force_login(researcher)
    detail = client.get(f"/studies/{study.slug}/").content.decode()
    assert f'hx-get="/studies/{study.slug}/plan/"' in detail
    expected = study_plan(pairs_per_participant=5, n_systems=2, win_rate=0.7, icc=0.2)
    html = client.get(f"/studies/{study.slug}/plan/", {"win_rate": "0.7", "icc": "0.2"}).content.decode()
    assert f"{expected['participants']} participants" in html
    fragment = client.get(f"/studies/{study.slug}/plan/", headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment and 'data-testid="study-plan"' in fragment
    response = client.get(f"/studies/{study.slug}/plan/", {"icc": "lots"})
    assert response.status_code == 400 and b"icc" in response.content


@pytest.mark.django_db
def test_api_plan_and_report_say_whether_the_study_reached_it(client, make_study, researcher):
    study = make_study(slug="reach", n_prompts=6, pairs_per_participant=1)
    rows = [(f"p{k}", prompt(k % 6), ALPHA, BETA, "a" if k % 5 else "b", "ab"[k % 2], "overall") for k in range(120)]
    import_judgments(study, rows)
    client.force_login(researcher)
    plan = client.get(f"/api/studies/{study.slug}/plan/", {"win_rate": 0.7}).json()
    assert plan == study_plan(pairs_per_participant=1, n_systems=2, win_rate=0.7)
    bad = client.get(f"/api/studies/{study.slug}/plan/", {"win_rate": 0.4})
    assert bad.status_code == 400 and "win_rate" in bad.json()
    report = client.get(f"/api/studies/{study.slug}/report/", {"bootstrap": 0, "win_rate": 0.7}).json()
    assert report["planning"]["reached"] and report["planning"]["pairs"][0]["participants"] == 120
    far = client.get(f"/api/studies/{study.slug}/report/", {"bootstrap": 0, "win_rate": 0.52}).json()
    assert not far["planning"]["reached"]
    html = client.get(f"/studies/{study.slug}/results/", {"bootstrap": 0, "win_rate": "0.52"}).content.decode()
    assert "Not reached yet" in html
