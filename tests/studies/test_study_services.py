"""Create, update, delete and share studies: each rule of the services, and the page and API over them."""

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.urls import reverse

from studies import services
from studies.models import Study
from tests.factories import UserFactory
from tests.studies.conftest import run_participant, study_spec
from webapp.specs import SlugTaken

pytestmark = pytest.mark.django_db


def test_creating_with_a_taken_slug_is_refused(researcher, other_researcher):
    services.study_create(spec=study_spec(slug="taken"), owner=researcher)
    with pytest.raises(SlugTaken, match="'taken' already exists"):
        services.study_create(spec=study_spec(slug="taken"), owner=other_researcher)


def test_a_superuser_may_save_any_study_and_another_researcher_may_not(researcher, other_researcher):
    study = services.study_create(spec=study_spec(slug="admin-edit"), owner=researcher)
    with pytest.raises(PermissionDenied):
        services.study_update(study=study, spec=study_spec(slug="admin-edit", instructions="x"), by=other_researcher)
    admin = UserFactory(username="admin", role="annotator", is_superuser=True)
    services.study_update(study=study, spec=study_spec(slug="admin-edit", instructions="By admin"), by=admin)
    assert Study.objects.get(pk=study.pk).spec["instructions"] == "By admin"


def test_deletion_rules(client, researcher, make_study):
    collaborator = UserFactory(username="collab", role="researcher")
    empty = services.study_create(spec=study_spec(slug="empty"), owner=researcher)
    services.study_share(study=empty, username="collab", by=researcher)
    with pytest.raises(PermissionDenied):
        services.study_delete(study=empty, by=collaborator)
    services.study_delete(study=empty, by=researcher)
    started = make_study()
    run_participant(started, UserFactory(username="p1", role="participant"), stop_after=1)
    with pytest.raises(services.StudyError, match="with participants cannot be deleted"):
        services.study_delete(study=started, by=researcher)
    client.force_login(researcher)
    refused = client.delete(reverse("studies:api_study_detail", args=[started.slug]))
    assert refused.status_code == 409 and "with participants cannot be deleted" in refused.json()["detail"]
    admin = UserFactory(username="admin", role="annotator", is_superuser=True)
    unstarted = services.study_create(spec=study_spec(slug="admin-deletes"), owner=researcher)
    services.study_delete(study=unstarted, by=admin)
    assert list(Study.objects.values_list("slug", flat=True)) == [started.slug]


def test_the_api_shares_deletes_and_refuses(client, researcher, other_researcher):
    services.study_create(spec=study_spec(slug="api-share"), owner=researcher)
    client.force_login(researcher)
    url = reverse("studies:api_study_share", args=["api-share"])
    assert client.post(url, {"username": "other-researcher"}, content_type="application/json").status_code == 204
    assert client.post(url, {"username": "ghost"}, content_type="application/json").status_code == 400
    client.force_login(other_researcher)
    assert client.get(reverse("studies:api_study_detail", args=["api-share"])).status_code == 200
    assert client.delete(reverse("studies:api_study_detail", args=["api-share"])).status_code == 403
    client.force_login(researcher)
    unshare = reverse("studies:api_study_unshare", args=["api-share", "other-researcher"])
    assert client.delete(unshare).status_code == 204
    client.force_login(other_researcher)
    assert client.get(reverse("studies:api_study_detail", args=["api-share"])).status_code == 404
    client.force_login(researcher)
    assert client.delete(reverse("studies:api_study_detail", args=["api-share"])).status_code == 204


def test_the_study_page_shares_and_takes_access_back(client, researcher, other_researcher, make_study):
    study = make_study()
    client.force_login(researcher)
    client.post(reverse("studies:study_share", args=[study.slug]), {"username": "other-researcher"})
    page = client.get(reverse("studies:study_detail", args=[study.slug])).content.decode()
    assert "other-researcher</strong>" in page and "Remove access for other-researcher" in page
    client.force_login(other_researcher)
    assert client.get(reverse("studies:study_edit", args=[study.slug])).status_code == 200
    assert "Only the owner can share" in client.get(reverse("studies:study_detail", args=[study.slug])).content.decode()
    client.force_login(researcher)
    client.post(reverse("studies:study_share", args=[study.slug]), {"username": "other-researcher", "remove": "yes"})
    assert not study.collaborators.exists()


def test_load_study_refuses_an_owner_who_is_not_a_researcher(researcher, annotator):
    with pytest.raises(CommandError, match="--owner: 'annotator' has the role 'annotator', not researcher"):
        call_command("load_study", "studies/presets/overall-preference.yaml", owner="annotator")
    assert not Study.objects.exists()
