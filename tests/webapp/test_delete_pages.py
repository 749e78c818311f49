"""Deleting a project or a study from its page: the owner types its slug and it is gone; a wrong slug, a
project with labels or a study people took part in are kept with the reason said; a collaborator sees no form
and is refused if they post one; another researcher does not find it."""

import pytest
from django.urls import reverse

from annotations.models import Project
from studies.models import Study
from tests.factories import ItemFactory, LabelFactory, ProjectFactory, UserFactory
from tests.ml.test_jobs_support import make_study

pytestmark = pytest.mark.django_db


@pytest.fixture
def owned(researcher):
    project = ProjectFactory(owner=researcher, slug="to-go")
    ItemFactory(project=project)
    return project


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_the_owner_deletes_an_empty_project_by_typing_its_slug(client, researcher, owned):
    client.force_login(researcher)
    page = client.get(reverse("annotations:project_detail", args=["to-go"])).content.decode()
    assert 'data-testid="delete-form"' in page
    wrong = client.post(reverse("annotations:project_delete", args=["to-go"]), {"confirm": "to-g"}, follow=True)
    assert "Not deleted: type to-go to confirm." in _messages(wrong) and Project.objects.filter(slug="to-go").exists()
    done = client.post(reverse("annotations:project_delete", args=["to-go"]), {"confirm": " to-go "}, follow=True)
    assert done.redirect_chain[-1][0] == reverse("dashboard") and "Project to-go deleted." in _messages(done)
    assert not Project.objects.filter(slug="to-go").exists()


def test_a_project_with_labels_is_kept_and_says_why(client, researcher, owned):
    LabelFactory(item=owned.items.first(), values={"empathy": 1})
    client.force_login(researcher)
    page = client.get(reverse("annotations:project_detail", args=["to-go"])).content.decode()
    assert 'data-testid="delete-form"' not in page and "It holds labels, so it cannot be deleted" in page
    refused = client.post(reverse("annotations:project_delete", args=["to-go"]), {"confirm": "to-go"}, follow=True)
    assert any(message.startswith("Not deleted: a project with labels") for message in _messages(refused))
    assert Project.objects.filter(slug="to-go").exists()


def test_a_collaborator_sees_no_form_and_another_researcher_finds_nothing(client, researcher, other_researcher,
                                                                          owned):
    helper = UserFactory(username="helper", role="researcher")
    owned.collaborators.add(helper)
    client.force_login(helper)
    assert 'data-testid="delete-form"' not in client.get(reverse("annotations:project_detail", args=["to-go"])).content.decode()
    assert client.post(reverse("annotations:project_delete", args=["to-go"]), {"confirm": "to-go"}).status_code == 403
    client.force_login(other_researcher)
    assert client.post(reverse("annotations:project_delete", args=["to-go"]), {"confirm": "to-go"}).status_code == 404
    assert Project.objects.filter(slug="to-go").exists()


def test_the_owner_deletes_a_study_nobody_took_part_in(client, researcher, other_researcher):
    make_study(owner=researcher, slug="gone-study")
    client.force_login(other_researcher)
    assert client.post(reverse("studies:study_delete", args=["gone-study"]), {"confirm": "gone-study"}).status_code == 404
    client.force_login(researcher)
    assert 'data-testid="delete-form"' in client.get(reverse("studies:study_detail", args=["gone-study"])).content.decode()
    done = client.post(reverse("studies:study_delete", args=["gone-study"]), {"confirm": "gone-study"}, follow=True)
    assert done.redirect_chain[-1][0] == reverse("studies:study_list") and "Study gone-study deleted." in _messages(done)
    assert not Study.objects.filter(slug="gone-study").exists()


def test_a_study_people_took_part_in_is_kept(client, researcher):
    from studies import services

    study = make_study(owner=researcher, slug="kept-study", open_it=True)
    services.participant_enroll(study=study, user=UserFactory(role="participant"))
    client.force_login(researcher)
    page = client.get(reverse("studies:study_detail", args=["kept-study"])).content.decode()
    assert 'data-testid="delete-form"' not in page and "People have taken part" in page
    refused = client.post(reverse("studies:study_delete", args=["kept-study"]), {"confirm": "kept-study"}, follow=True)
    assert any(message.startswith("Not deleted:") for message in _messages(refused))
    assert Study.objects.filter(slug="kept-study").exists()
