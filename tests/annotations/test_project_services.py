"""Create, update, delete and share projects: the services and the editor page and API that call them."""

import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from annotations.models import Project
from annotations.services import projects
from tests.factories import LabelFactory, UserFactory
from webapp.specs import SlugTaken, SpecError

pytestmark = pytest.mark.django_db

SPEC = """slug: svc-demo
title: Service demo
kind: narrative
dimensions:
  - {name: empathy, question: "How empathic?", type: likert, min: 1, max: 4}
"""


def _api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_creating_with_a_taken_slug_is_refused_naming_it_whoever_owns_it(researcher, other_researcher):
    projects.project_create(spec_text=SPEC, owner=researcher)
    for user in (researcher, other_researcher):
        with pytest.raises(SlugTaken, match="'svc-demo' already exists") as caught:
            projects.project_create(spec_text=SPEC.replace("Service demo", "Again"), owner=user)
        assert caught.value.path == "slug"
    assert Project.objects.get().title == "Service demo"


def test_an_update_keeps_the_slug_and_is_for_those_it_is_shared_with(researcher, other_researcher):
    project = projects.project_create(spec_text=SPEC, owner=researcher)
    with pytest.raises(SpecError, match="slug cannot change"):
        projects.project_update(project=project, spec_text=SPEC.replace("svc-demo", "svc-other"), by=researcher)
    with pytest.raises(PermissionDenied):
        projects.project_update(project=project, spec_text=SPEC.replace("Service demo", "Stolen"), by=other_researcher)
    admin = UserFactory(username="admin", role="annotator", is_superuser=True)
    projects.project_update(project=project, spec_text=SPEC.replace("Service demo", "By admin"), by=admin)
    project.refresh_from_db()
    assert project.title == "By admin" and project.owner == researcher


def test_deleting_is_for_the_owner_and_never_loses_labels(researcher):
    collaborator = UserFactory(username="collab", role="researcher")
    project = projects.project_create(spec_text=SPEC, owner=researcher)
    projects.project_share(project=project, username="collab", by=researcher)
    with pytest.raises(PermissionDenied):
        projects.project_delete(project=project, by=collaborator)
    LabelFactory(item__project=project, values={"empathy": 2})
    with pytest.raises(projects.ProjectError, match="with labels cannot be deleted"):
        projects.project_delete(project=project, by=researcher)
    refused = _api(researcher).delete(f"/api/projects/{project.slug}/")
    assert refused.status_code == 409 and "with labels cannot be deleted" in refused.json()["detail"]
    project.labels.all().delete()
    projects.project_delete(project=project, by=researcher)
    assert not Project.objects.exists()


def test_the_api_creates_updates_deletes_shares_and_unshares(researcher, other_researcher):
    owner, other = _api(researcher), _api(other_researcher)
    assert owner.post("/api/projects/", {"spec": SPEC}, format="json").status_code == 201
    taken = other.post("/api/projects/", {"spec": SPEC}, format="json")
    assert taken.status_code == 409 and taken.json()["where"] == "slug"
    moved = owner.put("/api/projects/svc-demo/", {"spec": SPEC.replace("svc-demo", "elsewhere")}, format="json")
    assert moved.status_code == 400 and moved.json()["where"] == "slug"
    assert not Project.objects.filter(slug="elsewhere").exists()
    assert other.delete("/api/projects/svc-demo/").status_code == 404
    assert owner.post("/api/projects/svc-demo/share/", {"username": "other-researcher"}, format="json").status_code == 204
    assert other.put("/api/projects/svc-demo/", {"spec": SPEC.replace("overlap", "overlap")}, format="json").status_code == 200
    assert other.delete("/api/projects/svc-demo/").status_code == 403  # a collaborator may not delete
    assert other.delete("/api/projects/svc-demo/share/other-researcher/").status_code == 403
    assert owner.delete("/api/projects/svc-demo/share/other-researcher/").status_code == 204
    assert owner.delete("/api/projects/svc-demo/share/other-researcher/").status_code == 404
    assert owner.delete("/api/projects/svc-demo/").status_code == 204
    assert not Project.objects.exists()


@pytest.mark.parametrize("text, line", [("slug: svc-demo\ntitle: [unclosed\nkind: narrative\n", 3),
                                        ("slug: svc-demo\ntitle: Demo\nwhen: 2020-13-45\n", 3)])
def test_invalid_yaml_in_the_editor_is_shown_with_its_line_and_nothing_is_saved(client, researcher, text, line):
    client.force_login(researcher)
    response = client.post(reverse("annotations:project_new"), {"spec": text})
    assert response.status_code == 422
    body = response.content.decode()
    assert f"line {line}: not valid YAML/JSON" in body and "svc-demo" in body
    project = projects.project_create(spec_text=SPEC, owner=researcher)
    response = client.post(reverse("annotations:project_edit", args=[project.slug]), {"spec": text})
    assert response.status_code == 422 and f"line {line}: not valid YAML/JSON" in response.content.decode()
    project.refresh_from_db()
    assert project.title == "Service demo" and Project.objects.count() == 1


def test_invalid_yaml_through_the_api_is_a_400_with_its_line(researcher):
    response = _api(researcher).post("/api/projects/", {"spec": "slug: x\ntitle: [unclosed\n"}, format="json")
    assert response.status_code == 400 and response.json()["line"] == 2 and "not valid YAML" in response.json()["detail"]
    assert not Project.objects.exists()


def test_a_spec_error_in_the_editor_names_key_and_line(client, researcher):
    client.force_login(researcher)
    response = client.post(reverse("annotations:project_new"), {"spec": SPEC.replace("type: likert", "type: lickert")})
    assert response.status_code == 422
    assert "dimensions[0].type: &#x27;lickert&#x27; is not one of" in response.content.decode()
    assert "(line 5)" in response.content.decode()


def test_the_new_project_page_refuses_a_taken_slug(client, researcher, other_researcher):
    projects.project_create(spec_text=SPEC, owner=researcher)
    client.force_login(other_researcher)
    response = client.post(reverse("annotations:project_new"), {"spec": SPEC.replace("Service demo", "Mine now")})
    assert response.status_code == 422 and "slug: a project &#x27;svc-demo&#x27; already exists" in response.content.decode()
    assert Project.objects.get().title == "Service demo"


def test_the_project_page_shares_and_takes_access_back(client, researcher, other_researcher):
    project = projects.project_create(spec_text=SPEC, owner=researcher)
    client.force_login(researcher)
    client.post(reverse("annotations:project_share", args=[project.slug]), {"username": "other-researcher"})
    page = client.get(reverse("annotations:project_detail", args=[project.slug])).content.decode()
    assert "Remove access for other-researcher" in page
    client.post(reverse("annotations:project_share", args=[project.slug]), {"username": "other-researcher", "remove": "yes"})
    assert not project.collaborators.exists()


def test_load_project_refuses_an_owner_who_is_not_a_researcher(tmp_path, researcher, annotator):
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC)
    with pytest.raises(CommandError, match="--owner: 'annotator' has the role 'annotator', not researcher"):
        call_command("load_project", str(path), owner="annotator")
    with pytest.raises(CommandError, match="--owner: no user called 'ghost'"):
        call_command("load_project", str(path), owner="ghost")
    assert not Project.objects.exists()
    call_command("load_project", str(path), owner="researcher", stdout=io.StringIO())
    assert Project.objects.get().owner == researcher
