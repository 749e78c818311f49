"""Every model the admin site registers opens for the operator (list, search, one object), and nobody else gets in."""

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.factories import ItemFactory, LabelFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def some_of_everything(researcher):
    project = ProjectFactory(owner=researcher, slug="admin-view")
    LabelFactory(item=ItemFactory(project=project), values={"empathy": 2})
    return project


def _pages():
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        yield meta.label, reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"), model, model_admin


def test_every_registered_model_opens_for_the_operator(client, some_of_everything):
    client.force_login(UserFactory(username="operator", is_staff=True, is_superuser=True))
    opened = []
    for label, url, model, model_admin in _pages():
        listing = client.get(url)
        assert listing.status_code == 200, label
        if model_admin.search_fields:
            assert client.get(url, {"q": "x"}).status_code == 200, label
        first = model.objects.first()
        if first is not None:
            meta = model._meta
            page = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk]))
            assert page.status_code == 200, label
        opened.append(label)
    assert {"annotations.Project", "annotations.Label", "annotations.ItemNote", "studies.Study"} <= set(opened)


@pytest.mark.parametrize("role", ["researcher", "annotator", "participant"])
def test_no_one_but_staff_gets_in(client, some_of_everything, role):
    client.force_login(UserFactory(username=f"not-staff-{role}", role=role))
    for label, url, _, _ in _pages():
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], label
