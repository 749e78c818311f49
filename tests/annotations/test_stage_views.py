"""The project's stage pages: only a signed-in annotator opens them (the one role check of the kernel), and an
htmx stage form is answered with htmx's client redirect to where the journey now is."""

import pytest
from django.urls import reverse

from annotations.models import Enrollment
from annotations.spec import spec_hash, spec_normalize
from tests.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

STAGE_POSTS = ("annotations:annotate_consent", "annotations:annotate_survey", "annotations:annotate_instructions",
               "annotations:annotate_finish", "annotations:annotate_break", "annotations:annotate_submit")


@pytest.fixture
def consent_project(researcher):
    spec = spec_normalize({"slug": "stages", "title": "Stages", "kind": "narrative", "overlap": 1,
                           "consent": "You agree to take part.",
                           "dimensions": [{"name": "empathy", "question": "Empathy?", "type": "likert",
                                           "min": 1, "max": 4}]})
    project = ProjectFactory(owner=researcher, slug="stages", overlap=1, spec=spec, spec_hash=spec_hash(spec))
    ItemFactory(project=project, needed=1)
    return project


def test_an_htmx_stage_form_is_answered_with_a_client_redirect_to_the_stage_page(client, consent_project):
    client.get("/p/stages/?PROLIFIC_PID=pp9&STUDY_ID=st&SESSION_ID=se")
    response = client.post(reverse("annotations:annotate_consent", args=["stages"]), {"agree": "yes"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Location" not in response
    assert response["HX-Redirect"] == reverse("annotations:annotate", args=["stages"])
    assert Enrollment.objects.get().stage == Enrollment.Stage.WORK
    plain = client.post(reverse("annotations:annotate_instructions", args=["stages"]))
    assert plain.status_code == 302 and plain["Location"] == reverse("annotations:annotate", args=["stages"])


@pytest.mark.parametrize("who", ["anonymous", "researcher", "participant"])
def test_only_an_annotator_opens_the_stage_pages(client, consent_project, who):
    if who != "anonymous":
        client.force_login(UserFactory(role=who))
    responses = [client.get(reverse("annotations:annotate", args=["stages"]))]
    responses += [client.post(reverse(name, args=["stages"])) for name in STAGE_POSTS]
    assert [response.status_code for response in responses] == [403] * len(responses)
    assert "Open the project link to annotate" in responses[0].content.decode()
    assert not Enrollment.objects.exists()
