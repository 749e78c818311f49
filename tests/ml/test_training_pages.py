"""The version page of a trained model, reached from the models list: lineage, what it was trained
on, metrics beside its parent's, the loss curve and the held-out items of largest disagreement."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from ml.models import ModelVersion
from ml.services import model_version_register
from tests.factories import UserFactory
from tests.ml.training_support import learnable_items, likert, project_with_labels
from webapp.jobs.models import Job
from webapp.jobs.services import job_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def trained(settings, tmp_path, tiny_regressor_path):
    settings.RESONANCE_MODEL_STORE = str(tmp_path / "store")
    settings.RESONANCE_DEVICE = "cpu"
    UserFactory(username="res", role="researcher")
    model_version_register(name="tiny-scorer", kind="scorer", path=tiny_regressor_path)
    project = project_with_labels(kind="narrative", dimensions=[likert("empathy")],
                                  items=learnable_items("narrative", 20))
    call_command("train", project.slug, "--recipe", "reward-model", "--base", "tiny-scorer", "--user", "res",
                 "--set", "max_steps=4", "--set", "batch_size=4", "--set", "logging_steps=1")
    job = job_run(job_id=Job.objects.get(kind="train").pk, worker="test")
    return ModelVersion.objects.get(pk=job.result["version_id"])


def test_researcher_reads_lineage_metrics_curve_and_disagreements_on_the_version_page(client, trained):
    client.force_login(UserFactory(username="res", role="researcher"))
    listing = client.get(reverse("ml:models")).content.decode()
    url = reverse("ml:model_detail", args=[trained.pk])
    assert url in listing
    page = client.get(url).content.decode()
    assert 'data-testid="lineage"' in page and "tiny-scorer" in page and trained.name in page
    assert trained.training_settings["snapshot"]["sha256"] in page
    assert "Spearman ρ" in page and "α with the model as a rater" in page and 'data-testid="loss-curve"' in page
    heldout = trained.training_settings["split"]["parts"]["heldout"]
    assert 'data-testid="disagreements"' in page and any(item in page for item in heldout)
    assert page.count("<tr><td>") >= 4  # the curve's values and the disagreement rows
    assert 'data-testid="agreement-plot"' in page and page.count('class="humans"') == 2  # one per panel
    assert 'aria-label="Krippendorff&#x27;s α. empathy: humans ' in page


def test_the_training_job_page_shows_the_loss_by_step_and_links_the_new_version(client, trained):
    client.force_login(UserFactory(username="res", role="researcher"))
    job = Job.objects.get(kind="train")
    page = client.get(reverse("jobs:job_detail", args=[job.pk])).content.decode()
    assert 'data-testid="train-loss"' in page and "4 of 4 done" in page
    assert reverse("ml:model_detail", args=[trained.pk]) in page


@pytest.mark.parametrize(("role", "status"), [("annotator", 403), ("participant", 403), (None, 302)])
def test_version_page_is_for_researchers_only(client, trained, role, status):
    if role:
        client.force_login(UserFactory(username=f"u-{role}", role=role))
    assert client.get(reverse("ml:model_detail", args=[trained.pk])).status_code == status


def test_training_is_launched_through_the_api_and_bad_input_names_the_field(settings, tmp_path, tiny_regressor_path):
    from rest_framework.test import APIClient

    settings.RESONANCE_MODEL_STORE = str(tmp_path / "store")
    owner = UserFactory(username="res", role="researcher")
    base = model_version_register(name="tiny-scorer", kind="scorer", path=tiny_regressor_path)
    project = project_with_labels(kind="narrative", dimensions=[likert("empathy")],
                                  items=learnable_items("narrative", 20))
    project.owner = owner
    project.save(update_fields=["owner"])
    api = APIClient()
    api.force_authenticate(owner)
    url = reverse("ml:api_train")
    refused = api.post(url, {"recipe": "bi-encoder", "project": project.slug, "base": base.pk}, format="json")
    assert refused.status_code == 400 and "base" in refused.json()
    assert not Job.objects.exists()
    made = api.post(url, {"recipe": "reward-model", "project": project.slug, "base": base.pk,
                          "params": {"max_steps": 2}}, format="json")
    assert made.status_code == 201, made.content
    job = Job.objects.get(pk=made.json()["id"])
    assert job.kind == "train" and job.params["overrides"] == {"max_steps": 2}
    assert job.params["snapshot"]["manifest"]["labels"] == 60
    lineage = api.get(reverse("ml:api_model_lineage", args=[base.pk])).json()
    assert lineage[0]["name"] == "tiny-scorer" and lineage[0]["trained_on"] == ""
    annotator = APIClient()
    annotator.force_authenticate(UserFactory(username="ann", role="annotator"))
    assert annotator.post(url, {"recipe": "reward-model", "project": project.slug}, format="json").status_code == 403


def test_the_jobs_api_launches_training_like_the_training_api_and_names_the_field_it_refuses(
        settings, tmp_path, tiny_regressor_path):
    from rest_framework.test import APIClient

    settings.RESONANCE_MODEL_STORE = str(tmp_path / "store")
    owner = UserFactory(username="res", role="researcher")
    base = model_version_register(name="tiny-scorer", kind="scorer", path=tiny_regressor_path)
    project = project_with_labels(kind="narrative", dimensions=[likert("empathy")],
                                  items=learnable_items("narrative", 20))
    project.owner = owner
    project.save(update_fields=["owner"])
    api = APIClient()
    api.force_authenticate(owner)
    url = reverse("jobs:api_jobs")

    unknown = api.post(url, {"kind": "train", "recipe": "astrology", "project": project.slug}, format="json")
    wrong_base = api.post(url, {"kind": "train", "recipe": "bi-encoder", "project": project.slug, "base": base.pk},
                          format="json")
    assert unknown.status_code == 400 and list(unknown.json()) == ["recipe"]
    assert wrong_base.status_code == 400 and list(wrong_base.json()) == ["base"]
    assert not Job.objects.exists()
    made = api.post(url, {"kind": "train", "recipe": "reward-model", "project": project.slug, "base": base.pk,
                          "params": {"max_steps": 2}}, format="json")
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["kind"], body["queue"], body["target"], body["described"]["with"]) == (
        "train", "gpu", project.slug, "tiny-scorer")
    job = Job.objects.get(pk=body["id"])
    assert job.params["overrides"] == {"max_steps": 2} and job.params["holdout_group"] is None
    assert job.params["snapshot"]["manifest"]["labels"] == 60
