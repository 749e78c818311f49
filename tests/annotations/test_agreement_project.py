"""Agreement through the real paths: long-CSV label import -> database -> command / API / page."""

import io
import json
from unittest.mock import patch

import numpy as np
import pytest
from django.core.management import call_command
from django.urls import reverse

from annotations.agreement.load import project_label_frame
from annotations.services.importing import labels_import
from tests.annotations.agreement_examples import (
    FLEISS_KAPPA,
    KRIPPENDORFF_ALPHAS,
    KRIPPENDORFF_CODERS_X_UNITS,
    SHROUT_FLEISS_ICC,
    SHROUT_FLEISS_TARGETS_X_JUDGES,
    fleiss_ratings_matrix,
)
from tests.factories import ItemFactory, ProjectFactory, spec_for

LIKERT = {"name": "empathy", "question": "How empathic?", "type": "likert", "min": 1, "max": 5, "level": "ordinal"}
CHOICE = {"name": "category", "question": "Which?", "type": "choice", "level": "nominal",
          "choices": [{"value": f"c{i}", "label": f"C{i}"} for i in range(1, 6)]}
NUMBER = {"name": "score", "question": "Score?", "type": "number", "level": "interval"}


def _project_with_labels(owner, slug, dimension, annotators_x_units, encode=lambda v: str(int(v)), countries=None):
    project = ProjectFactory(owner=owner, slug=slug, spec=spec_for(slug=slug, dimensions=[dimension]))
    matrix = np.asarray(annotators_x_units, dtype=float)
    for unit in range(matrix.shape[1]):
        ItemFactory(project=project, external_id=f"u{unit}")
    lines = ["item_id,annotator_id,dimension,value,country"]
    for coder, row in enumerate(matrix):
        country = countries[coder] if countries else ""
        for unit, value in enumerate(row):
            if not np.isnan(value):
                lines.append(f"u{unit},{slug}-coder{coder},{dimension['name']},{encode(value)},{country}")
    labels_import(project=project, path_or_file=io.StringIO("\n".join(lines) + "\n"))
    return project


def _agreement_json(*args):
    out = io.StringIO()
    call_command("agreement", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.django_db
def test_command_reproduces_krippendorffs_example_at_each_level_after_import(researcher):
    project = _project_with_labels(researcher, "kripp", LIKERT, KRIPPENDORFF_CODERS_X_UNITS,
                                   countries=["uk", "uk", "in", "in"])
    report = _agreement_json(project.slug, "--bootstrap", "200")
    empathy = report["dimensions"]["empathy"]
    assert empathy["level"] == "ordinal"
    assert empathy["krippendorff_alpha"] == pytest.approx(KRIPPENDORFF_ALPHAS["ordinal"], abs=5e-4)
    assert empathy["n_items"] == 12 and empathy["n_annotators"] == 4 and empathy["n_labels"] == 41
    assert empathy["alpha_ci"][0] < empathy["krippendorff_alpha"] < empathy["alpha_ci"][1]
    for level in ("nominal", "interval", "ratio"):
        other = _agreement_json(project.slug, "--bootstrap", "0", "--level", level)["dimensions"]["empathy"]
        assert other["krippendorff_alpha"] == pytest.approx(KRIPPENDORFF_ALPHAS[level], abs=5e-4)
    grouped = _agreement_json(project.slug, "--bootstrap", "0", "--by", "country")
    assert set(grouped["groups"]["country"]) == {"uk", "in"}
    assert grouped["groups"]["country"]["uk"]["n_annotators"] == 2


@pytest.mark.django_db
def test_fleiss_example_through_import_gives_the_published_kappa(researcher):
    project = _project_with_labels(researcher, "fleiss", CHOICE, fleiss_ratings_matrix(),
                                   encode=lambda v: f"c{int(v)}")
    figures = _agreement_json(project.slug, "--bootstrap", "0")["dimensions"]["category"]
    assert figures["fleiss_kappa"] == pytest.approx(FLEISS_KAPPA, abs=5e-4)
    assert figures["icc"] is None and figures["pearson_mean"] is None


@pytest.mark.django_db
def test_shrout_fleiss_example_through_import_gives_all_six_iccs(researcher):
    judges_x_targets = np.array(SHROUT_FLEISS_TARGETS_X_JUDGES, dtype=float).T
    project = _project_with_labels(researcher, "shrout", NUMBER, judges_x_targets)
    figures = _agreement_json(project.slug, "--bootstrap", "0")["dimensions"]["score"]
    assert figures["icc"]["design"] == "crossed"
    for form, published in SHROUT_FLEISS_ICC.items():
        assert figures["icc"][form] == pytest.approx(published, abs=0.005), form
    assert figures["fleiss_kappa"] is None


@pytest.mark.django_db
def test_excluding_an_annotator_changes_the_report_and_including_restores_it(researcher, client):
    from django.contrib.auth import get_user_model

    from annotations.services.quality import annotator_exclude, annotator_include

    project = _project_with_labels(researcher, "excl", LIKERT, KRIPPENDORFF_CODERS_X_UNITS)
    before = _agreement_json(project.slug, "--bootstrap", "0")["dimensions"]["empathy"]
    coder = get_user_model().objects.get(crowd_id__endswith="/excl-coder3")
    annotator_exclude(project=project, annotator=coder, reason="too fast", created_by=researcher)
    annotator_exclude(project=project, annotator=coder, reason="again", created_by=researcher)  # idempotent
    during = _agreement_json(project.slug, "--bootstrap", "0")
    assert during["dimensions"]["empathy"]["n_annotators"] == 3
    assert during["excluded_annotators"] == [coder.pseudonym]
    assert coder.pseudonym not in set(project_label_frame(project=project)["annotator"])
    assert annotator_include(project=project, annotator=coder) == 1
    after = _agreement_json(project.slug, "--bootstrap", "0")["dimensions"]["empathy"]
    assert after == before
    assert project.exclusions.count() == 1 and project.exclusions.get().revoked_at is not None


@pytest.mark.django_db
def test_api_report_matches_the_command_and_only_the_owner_may_read_it(researcher, other_researcher, annotator, client):
    project = _project_with_labels(researcher, "api", LIKERT, KRIPPENDORFF_CODERS_X_UNITS)
    url = reverse("annotations:api_agreement", args=[project.slug]) + "?bootstrap=50&seed=3"
    client.force_login(researcher)
    response = client.get(url)
    assert response.status_code == 200
    assert response.json()["dimensions"] == _agreement_json(project.slug, "--bootstrap", "50", "--seed", "3")["dimensions"]
    for user, status in ((other_researcher, 404), (annotator, 403)):
        client.force_login(user)
        assert client.get(url).status_code == status
    client.logout()
    assert client.get(url).status_code in (401, 403)


@pytest.mark.django_db
def test_api_exclude_include_and_queue(researcher, client):
    from django.contrib.auth import get_user_model

    project = _project_with_labels(researcher, "apiq", LIKERT, KRIPPENDORFF_CODERS_X_UNITS)
    pseudonym = get_user_model().objects.get(crowd_id__endswith="/apiq-coder0").pseudonym
    client.force_login(researcher)
    assert client.post(reverse("annotations:api_annotator_exclude", args=[project.slug, pseudonym]), {"reason": "gold"}).status_code == 200
    quality = client.get(reverse("annotations:api_annotator_quality", args=[project.slug])).json()["annotators"]
    assert {row["annotator"]: row["excluded"] for row in quality}[pseudonym] is True
    assert client.post(reverse("annotations:api_annotator_include", args=[project.slug, pseudonym])).json()["revoked"] == 1
    item = project.items.get(external_id="u5")
    response = client.post(reverse("annotations:api_item_queue", args=[project.slug, "u5"]))
    assert response.json()["needed"] == item.needed + 1


@pytest.mark.django_db
def test_agreement_page_shows_table_plot_quality_and_disagreement(researcher, other_researcher, client):
    project = _project_with_labels(researcher, "page", LIKERT, KRIPPENDORFF_CODERS_X_UNITS,
                                   countries=["uk", "uk", "in", "in"])
    url = reverse("annotations:agreement_page", args=[project.slug])
    client.force_login(researcher)
    html = client.get(url + "?by=country&sort=n_labels&order=desc").content.decode()
    assert 'data-testid="agreement-table"' in html and "0.815" in html
    assert "<svg" in html and "<circle" in html
    assert 'data-testid="quality-table"' in html and 'data-testid="disagreement-table"' in html
    with patch("annotations.views_agreement.project_agreement_report", side_effect=AssertionError("not needed")):
        # Re-sorting the table does not recompute the report.
        fragment = client.get(url + "?fragment=quality&sort=median_seconds", HTTP_HX_REQUEST="true").content.decode()
    assert fragment.lstrip().startswith('<section id="quality">') and "median_seconds ▲" in fragment
    before = project.items.get(external_id="u5").needed
    response = client.post(reverse("annotations:agreement_item_queue", args=[project.slug, "u5"]))
    assert response.status_code == 302 and project.items.get(external_id="u5").needed == before + 1
    client.force_login(other_researcher)
    assert client.get(url).status_code == 404
