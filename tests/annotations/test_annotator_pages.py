"""An annotator's whole journey through the pages, as the browser would do it without JavaScript."""

import pytest
from django.urls import reverse

from annotations.models import Enrollment, Label
from annotations.spec import spec_hash, spec_normalize
from tests.factories import ItemFactory, ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def crowd_project(researcher):
    spec = spec_normalize({
        "slug": "crowd", "title": "Crowd", "kind": "narrative", "overlap": 1,
        "consent": "You agree to take part.", "instructions": "Rate the **narrator**.",
        "surveys": {"before": {"demographic": ["age_band", "country"]}},
        "dimensions": [{"name": "empathy", "question": "Empathy?", "type": "likert", "min": 1, "max": 4}],
        "crowd": {"completion_code": "C0DE42"},
    })
    project = ProjectFactory(owner=researcher, slug="crowd", overlap=1, spec=spec, spec_hash=spec_hash(spec))
    ItemFactory.create_batch(3, project=project, needed=1)
    return project


def _follow(client, response):
    while response.status_code == 302:
        response = client.get(response["Location"])
    return response


def test_prolific_annotator_walks_consent_survey_instructions_items_to_completion_code(client, crowd_project):
    slug = crowd_project.slug
    page = _follow(client, client.get(f"/p/{slug}/?PROLIFIC_PID=pp1&STUDY_ID=st&SESSION_ID=se"))
    assert "I agree" in page.content.decode()
    page = _follow(client, client.post(reverse("annotations:annotate_consent", args=[slug]), {"agree": "yes"}))
    assert "Your age" in page.content.decode()
    bad = client.post(reverse("annotations:annotate_survey", args=[slug]), {"age_band": "not a band"})
    assert bad.status_code == 422
    page = _follow(client, client.post(reverse("annotations:annotate_survey", args=[slug]), {"age_band": "25-34", "country": "Kenya"}))
    assert "<strong>narrator</strong>" in page.content.decode()
    page = _follow(client, client.post(reverse("annotations:annotate_instructions", args=[slug])))
    for _ in range(3):
        assignment = page.context["assignment"]
        page = _follow(client, client.post(reverse("annotations:annotate_submit", args=[slug]),
                                           {"assignment": assignment.id, "d__empathy": "2", "seconds": "4.5"}))
    assert "How are you feeling" in page.content.decode()
    page = _follow(client, client.post(reverse("annotations:annotate_survey", args=[slug]), {"wellbeing": "Fine"}))
    assert "C0DE42" in page.content.decode()
    enrollment = Enrollment.objects.get(project=crowd_project)
    assert enrollment.annotator.crowd_platform == "prolific" and enrollment.annotator.crowd_id == "pp1"
    assert enrollment.annotator.attributes == {"age_band": "25-34", "country": "Kenya"}
    assert enrollment.crowd["study_id"] == "st" and enrollment.stage == "done"
    assert enrollment.survey_after == {"wellbeing": "Fine"}
    assert Label.objects.filter(project=crowd_project).count() == 3


def test_same_prolific_link_resumes_the_same_annotator(client, crowd_project):
    client.get("/p/crowd/?PROLIFIC_PID=pp2&STUDY_ID=st&SESSION_ID=se")
    client.post(reverse("annotations:annotate_consent", args=["crowd"]), {"agree": "yes"})
    client.logout()
    client.get("/p/crowd/?PROLIFIC_PID=pp2&STUDY_ID=st&SESSION_ID=se2")
    assert Enrollment.objects.filter(project=crowd_project).count() == 1
    assert Enrollment.objects.get().stage == "survey"


def test_htmx_submit_swaps_in_the_next_item_fragment(client, crowd_project):
    client.get("/p/crowd/?PROLIFIC_PID=pp3")
    Enrollment.objects.update(stage="work")
    page = client.get(reverse("annotations:annotate", args=["crowd"]))
    first = page.context["assignment"]
    fragment = client.post(reverse("annotations:annotate_submit", args=["crowd"]),
                           {"assignment": first.id, "d__empathy": "3"}, HTTP_HX_REQUEST="true")
    html = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in html and 'id="item-form"' in html
    assert f'name="assignment" value="{first.id}"' not in html
    assert 'name="assignment" value="' in html


def test_declining_consent_ends_without_data(client, crowd_project):
    client.get("/p/crowd/?workerId=W1&assignmentId=A1&hitId=H1")
    page = _follow(client, client.post(reverse("annotations:annotate_consent", args=["crowd"]), {"agree": "no"}))
    assert "did not give consent" in page.content.decode()
    assert Enrollment.objects.get().stage == "ended"
