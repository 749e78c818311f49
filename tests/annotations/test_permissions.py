"""Who may open each researcher page and endpoint of annotation projects."""

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PAGES = ["annotations:project_detail", "annotations:project_progress", "annotations:project_edit",
         "annotations:project_crowd_ids", "annotations:project_import", "annotations:project_items"]
API = ["annotations:api_project", "annotations:api_project_progress", "annotations:api_project_export"]
ROLES = ["owner", "collaborator", "other_researcher", "annotator", "participant", "anonymous"]
ALLOWED = {"owner", "collaborator"}


@pytest.fixture
def people(project, researcher, other_researcher, annotator, participant):
    from tests.factories import UserFactory

    collaborator = UserFactory(username="collab", role="researcher")
    project.collaborators.add(collaborator)
    return {"owner": researcher, "collaborator": collaborator, "other_researcher": other_researcher,
            "annotator": annotator, "participant": participant, "anonymous": None}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", PAGES)
def test_project_pages_open_only_to_owner_and_collaborators(client, people, project, role, page):
    if people[role] is not None:
        client.force_login(people[role])
    response = client.get(reverse(page, args=[project.slug]))
    if role in ALLOWED:
        assert response.status_code == 200
    elif role == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    elif role == "other_researcher":
        assert response.status_code == 404  # its existence is not revealed
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", API)
def test_project_api_answers_only_owner_and_collaborators(people, project, role, endpoint):
    client = APIClient()
    if people[role] is not None:
        token = Token.objects.create(user=people[role])
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = client.get(reverse(endpoint, args=[project.slug]))
    if role in ALLOWED:
        assert response.status_code == 200
    elif role == "anonymous":
        assert response.status_code == 401
    elif role == "other_researcher":
        assert response.status_code == 404
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("role", ROLES)
def test_project_list_shows_only_own_and_shared_projects(people, project, role):
    client = APIClient()
    if people[role] is not None:
        client.force_authenticate(people[role])
    response = client.get(reverse("annotations:api_projects"))
    if role in ALLOWED:
        assert [row["slug"] for row in response.json()] == [project.slug]
    elif role == "other_researcher":
        assert response.json() == []
    else:
        assert response.status_code in (401, 403)


def test_unknown_and_foreign_project_look_the_same(client, other_researcher, project):
    client.force_login(other_researcher)
    assert client.get(reverse("annotations:project_detail", args=[project.slug])).status_code == 404
    assert client.get(reverse("annotations:project_detail", args=["does-not-exist"])).status_code == 404


def test_annotator_cannot_submit_for_another_annotators_assignment(client, project):
    from annotations.services import flow
    from annotations.services.routing import assignment_next
    from tests.factories import UserFactory

    owner_of_item = UserFactory(username="first")
    enrollment = flow.enrollment_open(project=project, user=owner_of_item)
    enrollment.stage = "work"
    enrollment.save()
    theirs = assignment_next(enrollment=enrollment)
    intruder = UserFactory(username="second")
    flow.enrollment_open(project=project, user=intruder)
    from annotations.models import Enrollment

    Enrollment.objects.filter(annotator=intruder).update(stage="work")
    client.force_login(intruder)
    response = client.post(reverse("annotations:annotate_submit", args=[project.slug]),
                           {"assignment": theirs.id, "d__empathy": "3"})
    assert response.status_code == 403
    assert not theirs.item.labels.exists()
