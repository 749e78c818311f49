"""Registering and promoting models through the web is a role of its own, and paths stay inside the model store."""

import shutil

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from ml.models import ModelVersion
from ml.services import model_version_register
from webapp.management.commands.model_managers import model_managers_group

pytestmark = pytest.mark.django_db


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def store(tmp_path, settings, tiny_llama_path):
    settings.RESONANCE_MODEL_STORE = tmp_path / "store"
    (tmp_path / "store").mkdir()
    shutil.copytree(tiny_llama_path, tmp_path / "store" / "tiny")
    return tmp_path / "store"


def test_a_researcher_who_is_not_a_model_manager_cannot_register_or_promote(researcher, store):
    response = _api(researcher).post(reverse("ml:api_models"), {"name": "junk", "kind": "generator", "path": "tiny"},
                                     format="json")
    assert response.status_code == 403 and not ModelVersion.objects.filter(name="junk").exists()
    version = model_version_register(name="lab", kind="generator", path=store / "tiny")
    assert _api(researcher).post(reverse("ml:api_model_promote", args=[version.pk])).status_code == 403
    assert not ModelVersion.objects.get(pk=version.pk).is_active


def test_a_model_manager_registers_from_the_store_and_promotes(researcher, store):
    call_command("model_managers", "add", researcher.username)
    response = _api(researcher).post(reverse("ml:api_models"), {"name": "g1", "kind": "generator", "path": "tiny"},
                                     format="json")
    assert response.status_code == 201, response.content
    promoted = _api(researcher).post(reverse("ml:api_model_promote", args=[response.json()["id"]]))
    assert promoted.status_code == 200 and promoted.json()["is_active"]


@pytest.mark.parametrize("path", ["/root/.ssh", "../../etc", "/etc/passwd"])
def test_a_path_outside_the_model_store_is_refused_without_describing_it(researcher, store, path):
    model_managers_group().user_set.add(researcher)
    response = _api(researcher).post(reverse("ml:api_models"), {"name": "x", "kind": "generator", "path": path},
                                     format="json")
    assert response.status_code == 400
    text = response.content.decode()
    assert "inside the model store" in text and ".ssh" not in text and "config.json" not in text
    assert str(store) not in text


def test_a_link_inside_the_store_that_points_outside_is_refused(researcher, store, tmp_path):
    (store / "escape").symlink_to(tmp_path, target_is_directory=True)
    model_managers_group().user_set.add(researcher)
    response = _api(researcher).post(reverse("ml:api_models"), {"name": "x", "kind": "generator",
                                                                 "path": "escape"}, format="json")
    assert response.status_code == 400 and "inside the model store" in response.content.decode()
