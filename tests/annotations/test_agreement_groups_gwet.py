"""Gwet's AC1/AC2, the test of whether alpha differs between groups, mean rating per group, regrouping.

References: Gwet (2014), Handbook of Inter-Rater Reliability, 4 raters × 12 subjects (AC1 0.77544,
pa 0.81818, pe 0.19032; AC2 with the printed bipolar weights 0.90037), the krippendorff package
on resampled reliability matrices, statsmodels' t interval of the annotator means.
"""

import io

import krippendorff
import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.weightstats import DescrStatsW

from annotations.agreement.difference import alpha_difference
from annotations.agreement.gwet import category_weights, gwet_ac
from annotations.agreement.matrix import Ratings
from annotations.agreement.report import agreement_report, mean_rating
from annotations.services.importing import labels_import
from tests.factories import ItemFactory, ProjectFactory, spec_for

NAN = np.nan
GWET_4_RATERS = [  # raters × subjects, categories 1..5
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, NAN],
    [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, 3],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
]
GWET_BIPOLAR_WEIGHTS = [
    [1.0, 0.85714286, 0.66666667, 0.4, 0.0],
    [0.85714286, 1.0, 0.93333333, 0.75, 0.4],
    [0.66666667, 0.93333333, 1.0, 0.93333333, 0.66666667],
    [0.4, 0.75, 0.93333333, 1.0, 0.85714286],
    [0.0, 0.4, 0.66666667, 0.85714286, 1.0],
]
LIKERT = {"name": "empathy", "question": "How empathic?", "type": "likert", "min": 1, "max": 5, "level": "ordinal"}


def test_gwet_ac1_and_ac2_reproduce_the_handbook_example():
    ratings = Ratings.from_matrix(GWET_4_RATERS)
    ac1 = gwet_ac(ratings)
    assert ac1["coefficient"] == pytest.approx(0.77544, abs=5e-6)
    assert (ac1["pa"], ac1["pe"]) == (pytest.approx(0.81818, abs=5e-6), pytest.approx(0.19032, abs=5e-6))
    ac2 = gwet_ac(ratings, weights=np.array(GWET_BIPOLAR_WEIGHTS))
    assert ac2["coefficient"] == pytest.approx(0.90037, abs=5e-6)
    assert (ac2["pa"], ac2["pe"]) == (pytest.approx(0.96836, abs=5e-6), pytest.approx(0.68244, abs=5e-6))


def test_quadratic_and_linear_weights_are_cohens():
    cats = np.arange(1.0, 6.0)
    assert category_weights(cats, "quadratic")[0] == pytest.approx([1, 15 / 16, 12 / 16, 7 / 16, 0])
    assert category_weights(cats, "linear")[0] == pytest.approx([1, 0.75, 0.5, 0.25, 0])


def test_ac1_stays_high_where_kappa_collapses_on_a_skewed_scale():
    # 20 items, two raters agree on "yes" 18 times and disagree twice: alpha is near zero, AC1 is not.
    matrix = np.ones((2, 20))
    matrix[0, 0] = matrix[1, 1] = 0
    dimension = {"name": "ok", "type": "choice", "level": "nominal", "choices": [{"value": "0"}, {"value": "1"}]}
    frame = pd.DataFrame(
        [(u, u, a, str(int(matrix[a, u])), None) for a in range(2) for u in range(20)],
        columns=["item", "unit", "annotator", "value", "seconds"],
    ).assign(dimension="ok")
    figures = agreement_report(frame, [dimension], n_bootstrap=0)["dimensions"]["ok"]
    expected_alpha = krippendorff.alpha(matrix, level_of_measurement="nominal")
    assert figures["krippendorff_alpha"] == pytest.approx(expected_alpha) and expected_alpha < 0
    # pa = 18/20; pi = (0.05, 0.95); pe = q / (q (q - 1)) * (0.05 * 0.95 + 0.95 * 0.05) = 0.095
    assert figures["gwet_ac1"] == pytest.approx((0.9 - 0.095) / (1 - 0.095))


def _two_culture_frame(seed=0, n=40):
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, 6, n)
    rows = []
    for a in range(6):
        noise = 0.3 if a < 3 else 1.5
        for i in range(n):
            if rng.random() < 0.8:
                rows.append((i, i, f"r{a}", float(np.clip(np.round(truth[i] + rng.normal(0, noise)), 1, 5))))
    return pd.DataFrame(rows, columns=["unit", "item", "annotator", "value"])


def _matrix(frame, members, n):
    table = frame.pivot(index="annotator", columns="unit", values="value").reindex(index=members, columns=range(n))
    return table.to_numpy(dtype=float)


def test_alpha_difference_interval_equals_krippendorff_on_the_same_item_resamples():
    frame, n = _two_culture_frame(), 40
    groups = pd.Series({f"r{a}": ("US" if a < 3 else "IN") for a in range(6)})
    [record] = alpha_difference(Ratings.from_frame(frame), groups, level="interval", n_bootstrap=200, seed=1)
    us, india = _matrix(frame, ["r0", "r1", "r2"], n), _matrix(frame, ["r3", "r4", "r5"], n)
    assert (record["first"], record["second"]) == ("IN", "US")
    assert record["alpha_second"] == pytest.approx(krippendorff.alpha(us, level_of_measurement="interval"))
    assert record["alpha_first"] == pytest.approx(krippendorff.alpha(india, level_of_measurement="interval"))
    draws = np.random.default_rng(1).integers(0, n, size=(200, n))
    replicates = [
        krippendorff.alpha(us[:, d], level_of_measurement="interval")
        - krippendorff.alpha(india[:, d], level_of_measurement="interval")
        for d in draws
    ]
    assert record["ci"] == pytest.approx(list(np.percentile(replicates, [2.5, 97.5])), abs=1e-9)
    assert record["excludes_zero"] and record["ci"][0] > 0


def test_mean_rating_per_group_is_the_t_interval_of_annotator_means():
    frame = _two_culture_frame()
    ratings = Ratings.from_frame(frame)
    out = mean_rating(ratings)
    means = frame.groupby("annotator")["value"].mean().to_numpy()
    assert out["mean"] == pytest.approx(means.mean())
    assert out["ci"] == pytest.approx(list(DescrStatsW(means).tconfint_mean()))
    assert out["n_annotators"] == 6


def _imported_project(owner, slug="cultures"):
    """The two-culture ratings imported through the long-CSV path, with country and age band."""
    frame = _two_culture_frame(n=20)
    project = ProjectFactory(owner=owner, slug=slug, spec=spec_for(slug=slug, dimensions=[LIKERT]))
    for unit in range(20):
        ItemFactory(project=project, external_id=f"u{unit}")
    country = {"r0": "US", "r1": "US", "r2": "CA", "r3": "IN", "r4": "IN", "r5": "IN"}
    age = {"r0": "18-24", "r1": "25-34", "r2": "45-54", "r3": "55-64", "r4": "65+", "r5": "35-44"}
    lines = ["item_id,annotator_id,dimension,value,country,age_band"]
    lines += [f"u{u},{slug}-{a},empathy,{int(v)},{country[a]},{age[a]}" for u, _, a, v in frame.itertuples(index=False)]
    labels_import(project=project, path_or_file=io.StringIO("\n".join(lines) + "\n"))
    return project


@pytest.mark.django_db
def test_api_regroups_merges_categories_and_tests_the_difference(client, researcher):
    project = _imported_project(researcher)
    client.force_login(researcher)
    url = f"/api/projects/{project.slug}/agreement/"
    response = client.get(url, {"by": "country", "bootstrap": 100, "regroup": "country=US|CA:North America"})
    assert response.status_code == 200, response.content
    report = response.json()
    assert set(report["groups"]["country"]) == {"North America", "IN"}
    [difference] = report["alpha_differences"]["country"]["empathy"]
    assert (difference["first"], difference["second"]) == ("IN", "North America")
    assert difference["difference"] > 0 and difference["ci"] is not None
    means = report["groups"]["country"]["IN"]["mean_ratings"]["empathy"]
    assert means["n_annotators"] == 3 and means["ci"][0] < means["mean"] < means["ci"][1]
    assert report["dimensions"]["empathy"]["gwet_ac1"] is not None
    assert report["dimensions"]["empathy"]["gwet_ac2"] is not None


@pytest.mark.django_db
def test_api_cuts_age_bands_at_45_without_reimporting(client, researcher):
    project = _imported_project(researcher, slug="ages")
    client.force_login(researcher)
    report = client.get(
        f"/api/projects/{project.slug}/agreement/", {"by": "age_band", "bootstrap": 0, "regroup": "age_band=45"}
    ).json()
    groups = report["groups"]["age_band"]
    assert {k: v["n_annotators"] for k, v in groups.items()} == {"under 45": 3, "45 and over": 3}


@pytest.mark.django_db
@pytest.mark.parametrize("rule", ["age_band", "age_band=old", "planet=3"])
def test_api_names_the_regroup_field_for_a_bad_rule(client, researcher, rule):
    project = _imported_project(researcher, slug="bad-rules")
    client.force_login(researcher)
    response = client.get(f"/api/projects/{project.slug}/agreement/", {"by": "country", "bootstrap": 0, "regroup": rule})
    assert response.status_code == 400 and "regroup" in response.json()


@pytest.mark.django_db
def test_agreement_page_shows_ac1_the_difference_test_and_mean_ratings(client, researcher):
    project = _imported_project(researcher, slug="page-groups")
    client.force_login(researcher)
    html = client.get(
        f"/projects/{project.slug}/agreement/", {"by": "country", "regroup": "country=US|CA:North America"}
    ).content.decode()
    assert "Gwet AC1" in html and "Does α differ between groups?" in html
    assert "North America − IN" in html and "Mean rating by country" in html
    assert client.get(f"/projects/{project.slug}/agreement/", {"regroup": "x"}).status_code == 400
