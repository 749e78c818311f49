"""A judge's agreement with the annotators per dimension, beside theirs, through a real scoring job.

References: the krippendorff package on the humans' reliability matrix with and without the
model as one more row; scipy's Pearson correlation of the model's scores with the human means.
"""

from __future__ import annotations

import io

import krippendorff
import numpy as np
import pytest
from django.urls import reverse
from rest_framework.test import APIClient
from scipy.stats import pearsonr

from annotations.services.importing import labels_import
from ml import services
from ml.models import Score
from tests.factories import ItemFactory, ProjectFactory, spec_for
from tests.ml import test_jobs_support as support
from tests.ml.test_jobs_support import SEEKER_LINES
from webapp.jobs import services as job_services
from webapp.jobs.models import Job

judge_version = support.judge_version
DIMENSIONS = [
    {"name": name, "question": f"{name}?", "type": "likert", "min": 1, "max": 5, "level": "interval"}
    for name in ("resonation", "reception")
]
REPLIES = ["I am sorry to hear that", "the weather was nice", "that must be painful , I am here for you",
           "you are not alone in this", "we went for a long walk", "it will get better"]


@pytest.fixture
def judged_project(researcher, judge_version):
    project = ProjectFactory(owner=researcher, slug="judge-vs-humans", kind="response",
                             spec=spec_for(slug="judge-vs-humans", dimensions=DIMENSIONS))
    for i, reply in enumerate(REPLIES):
        ItemFactory(project=project, kind="response", external_id=f"r{i}",
                    data={"context": SEEKER_LINES[i % len(SEEKER_LINES)], "response": reply})
    rng = np.random.default_rng(4)
    lines = ["item_id,annotator_id,dimension,value"]
    for i in range(len(REPLIES)):
        for a in range(4):
            for name in ("resonation", "reception"):
                lines.append(f"r{i},h{a},{name},{int(np.clip(1 + i % 5 + rng.integers(-1, 2), 1, 5))}")
    labels_import(project=project, path_or_file=io.StringIO("\n".join(lines) + "\n"))
    job = services.model_job_launch(kind="scoring", model_version=judge_version, project=project, created_by=researcher,
                              params={"perspectives": ["resonation", "reception"]})
    finished = job_services.job_run(job_id=job.pk, worker="in-process@test")
    assert finished.status == Job.Status.SUCCEEDED, finished.error
    return project, finished


def _matrices(project, job, name):
    from annotations.models import Label

    humans = np.full((4, len(REPLIES)), np.nan)
    for label in Label.objects.filter(project=project).select_related("item", "annotator"):
        value = label.values.get(name)
        if value is not None:
            humans[int(label.annotator.crowd_id.rsplit("h", 1)[1]), int(label.item.external_id[1:])] = float(value)
    model = np.array([
        Score.objects.get(job=job, item__external_id=f"r{i}", dimension=name).value for i in range(len(REPLIES))
    ])
    return humans, model


def test_api_reports_model_and_human_agreement_against_independent_references(researcher, judged_project):
    project, job = judged_project
    api = APIClient()
    api.force_authenticate(researcher)
    response = api.get(reverse("ml:api_job_human_agreement", args=[job.pk]))
    assert response.status_code == 200
    figures = response.json()["dimensions"]
    assert set(figures) == {"resonation", "reception"}
    for name in ("resonation", "reception"):
        humans, model = _matrices(project, job, name)
        a = figures[name]
        assert a["n_items"] == len(REPLIES)
        assert a["alpha_humans"] == pytest.approx(krippendorff.alpha(humans, level_of_measurement="interval"))
        with_model = np.vstack([humans, model])
        assert a["alpha_with_model"] == pytest.approx(krippendorff.alpha(with_model, level_of_measurement="interval"))
        assert a["model_pearson"] == pytest.approx(pearsonr(model, np.nanmean(humans, axis=0)).statistic)
        assert a["humans_loo_pearson"] is not None
        worst = a["disagreements"][0]
        z = lambda v: (v - v.mean()) / v.std()  # noqa: E731
        gaps = np.abs(z(model) - z(np.nanmean(humans, axis=0)))
        assert worst["item"] == f"r{int(np.argmax(gaps))}" and abs(worst["z_difference"]) == pytest.approx(gaps.max())


def test_job_page_shows_the_model_beside_the_annotators(client, researcher, judged_project):
    _, job = judged_project
    client.force_login(researcher)
    html = client.get(reverse("jobs:job_detail", args=[job.pk])).content.decode()
    assert 'data-testid="human-agreement"' in html and "α with the model as a rater" in html
    assert "items where the model and the annotators differ most" in html


def test_other_researchers_may_not_read_the_comparison(other_researcher, judged_project):
    _, job = judged_project
    api = APIClient()
    api.force_authenticate(other_researcher)
    assert api.get(reverse("ml:api_job_human_agreement", args=[job.pk])).status_code == 403
